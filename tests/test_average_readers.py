"""Two readers' weights averaged: the midpoint, the ends, and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import BertConfig, BertForQuestionAnswering

from training.average_readers import average


def _reader(folder: Path, seed: int, layers: int = 1) -> BertForQuestionAnswering:
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=layers,
                        num_attention_heads=2, intermediate_size=16)  # fmt: skip
    model = BertForQuestionAnswering(config)
    model.save_pretrained(folder)
    return model


@pytest.mark.parametrize("weight", [0.0, 0.5, 1.0])
def test_weights_are_the_weighted_mean(tmp_path: Path, weight: float) -> None:
    a = _reader(tmp_path / "a", seed=1).state_dict()
    b = _reader(tmp_path / "b", seed=2).state_dict()
    moved = average(tmp_path / "a", tmp_path / "b", tmp_path / "out", weight)
    out = BertForQuestionAnswering.from_pretrained(tmp_path / "out").state_dict()
    name = "qa_outputs.weight"
    assert torch.allclose(out[name], (1 - weight) * a[name] + weight * b[name])
    assert (moved == 0.0) == (weight == 0.0)


def test_readers_of_different_shapes_are_refused(tmp_path: Path) -> None:
    _reader(tmp_path / "a", seed=1, layers=1)
    _reader(tmp_path / "b", seed=2, layers=2)
    with pytest.raises(ValueError, match="not the same architecture"):
        average(tmp_path / "a", tmp_path / "b", tmp_path / "out", 0.5)


def test_a_weight_outside_zero_to_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="within"):
        average(tmp_path / "a", tmp_path / "b", tmp_path / "out", 1.5)
