"""Average the weights of two readers trained from the same start (a "model soup").

    python -m training.average_readers training/runs/reader-v3/model \
        training/runs/reader-v5/model training/runs/reader-v35/model --weight 0.5

Reader v5 was trained on from v3, so the two lie in one basin and their weights can be
averaged elementwise: ``(1 - weight) * first + weight * second``. Interpolating between a model
and its further fine-tuned descendant is known to keep much of the descendant's gain on the
training distribution while staying closer to the ancestor elsewhere (Wortsman et al.,
"Robust fine-tuning of zero-shot models", 2022), which is the trade v4 and v5 lost: better on
the training sources' text, less sure on PEPs. The result is a Hugging Face folder for
:mod:`training.export_reader`; measured in README "Reader v3 and v5 averaged".
"""

from __future__ import annotations

import argparse
import logging
import shutil
from pathlib import Path

import torch
from transformers import BertForQuestionAnswering

log = logging.getLogger("average_readers")

#: Files of a reader folder besides its weights, copied from the second reader.
_SIDE_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")


def average(first: Path, second: Path, out: Path, weight: float) -> float:
    """Write the averaged reader to ``out``; returns the largest change of any weight.

    Raises:
        ValueError: when the weight is outside [0, 1] or the two readers' parameters differ.
    """
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"--weight must be within [0, 1], not {weight}")
    a = BertForQuestionAnswering.from_pretrained(first)
    b = BertForQuestionAnswering.from_pretrained(second)
    theirs = b.state_dict()
    ours = a.state_dict()
    if ours.keys() != theirs.keys():
        raise ValueError(f"{first} and {second} are not the same architecture")
    moved = 0.0
    with torch.no_grad():
        for name, tensor in ours.items():
            if not tensor.is_floating_point():
                continue
            mixed = (1.0 - weight) * tensor + weight * theirs[name]
            moved = max(moved, float((mixed - tensor).abs().max()))
            tensor.copy_(mixed)
    out.mkdir(parents=True, exist_ok=True)
    a.save_pretrained(out)
    for name in _SIDE_FILES:
        if (second / name).exists():
            shutil.copy(second / name, out / name)
    return moved


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("first", type=Path, help="the earlier reader (a Hugging Face folder)")
    p.add_argument("second", type=Path, help="the reader trained on from it")
    p.add_argument("out", type=Path)
    p.add_argument("--weight", type=float, default=0.5, help="the second reader's share")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    moved = average(args.first, args.second, args.out, args.weight)
    log.info("wrote %s (largest change from %s: %.4f)", args.out, args.first, moved)


if __name__ == "__main__":
    main()
