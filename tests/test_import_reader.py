"""The shipped reader comes back as a trainable model with the same logits (warm starts)."""

from __future__ import annotations

from pathlib import Path

import pytest
from transformers import BertForQuestionAnswering

from rag.read import ReaderModel
from training.export_reader import SHIP
from training.import_reader import drift, import_reader, onnx_weights


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    out = tmp_path_factory.mktemp("reader-hf")
    return out, import_reader(SHIP, out)


def test_imported_reader_reads_as_the_shipped_file_does(imported: tuple[Path, float]) -> None:
    out, moved = imported
    assert moved < 1e-3  # fp16 weights computed in fp32 both ways
    model = BertForQuestionAnswering.from_pretrained(str(out)).eval()
    assert drift(model, ReaderModel(str(SHIP))) < 1e-3


def test_every_matrix_is_named_by_the_bias_added_to_its_product() -> None:
    weights = onnx_weights(SHIP / "model.onnx")
    assert weights["bert.encoder.layer.5.intermediate.dense.weight"].shape == (1536, 384)
    assert weights["qa_outputs.weight"].shape == (2, 384)
    assert not any(name.startswith("onnx::") for name in weights)


def test_a_matrix_in_the_wrong_place_is_caught(imported: tuple[Path, float]) -> None:
    out, _ = imported
    model = BertForQuestionAnswering.from_pretrained(str(out)).eval()
    attention = model.bert.encoder.layer[0].attention.self
    query = attention.query.weight.data.clone()
    attention.query.weight.data = attention.key.weight.data.clone()
    attention.key.weight.data = query
    assert drift(model, ReaderModel(str(SHIP))) > 0.05
