"""Score a reader on the dev split and store its abstention threshold in ``reader.json``.

    python -m training.calibrate_reader rag/models/reader            # the shipped export
    python -m training.calibrate_reader training/runs/reader/model   # the float model (HF)

Reads through :class:`rag.reader.ReaderModel`, so it measures exactly what ships. Dev split
only (the two articles kept aside from training): gold-paragraph EM/F1 of the answerable
questions, and the no-answer margin of the same questions against related-but-silent and
retrieved passages. The threshold is the highest that refuses at most ``--refusal`` (10%)
of the answerable dev questions: a user loses at most one answer in ten to abstention, and
everything below that margin is refused. (``rag eval --calibrate``'s objective, which counts
a refused wrong answer as no loss, picks a far higher threshold here: about a third of the
answerable questions refused; it is reported too.)
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from rag.evaluation.calibration import calibrate
from rag.metrics import exact_match, token_f1
from rag.reader import ReaderModel
from training.squad_data import (
    answerable,
    load_articles,
    removed_negatives,
    retrieved_negatives,
    silent,
    split,
)


def margin(model: ReaderModel, question: str, passage: str):
    spans = model.read(model.windows(question, [passage]))
    return max(spans, key=lambda s: s.margin)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("reader", type=Path)
    p.add_argument("--limit", type=int, default=400)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--refusal", type=float, default=0.10, help="false-refusal budget")
    p.add_argument("--write", action="store_true", help="store the threshold in reader.json")
    args = p.parse_args()
    model = ReaderModel(str(args.reader))
    _, dev_articles, _ = split(load_articles())
    rng = random.Random(args.seed)
    dev = list(answerable(dev_articles))
    rng.shuffle(dev)
    dev = dev[: args.limit]
    negatives = {
        "silent": list(silent(dev_articles, args.seed)),
        "removed": removed_negatives(dev),
        "retrieved": retrieved_negatives(dev, dev_articles),
    }
    for v in negatives.values():
        rng.shuffle(v)
    em, f1, pairs = [], [], []
    for e in dev:
        sp = margin(model, e.question, e.passage)
        text = e.passage[sp.start : sp.end]
        em.append(exact_match(text, list(e.answers)))
        f1.append(token_f1(text, list(e.answers)))
        pairs.append((sp.margin, f1[-1] >= 0.5))
    scores = {k: [margin(model, e.question, e.passage).margin for e in v[: args.limit // 2]]
              for k, v in negatives.items()}  # fmt: skip
    pooled = [s for v in scores.values() for s in v]
    objective = calibrate(pairs, pooled, previous=model.threshold).threshold
    margins = sorted(s for s, _ in pairs)
    t = margins[int(args.refusal * len(margins))]
    out = {
        "dev_em": round(100 * sum(em) / len(em), 2),
        "dev_f1": round(100 * sum(f1) / len(f1), 2),
        "threshold": round(t, 4),
        "objective_threshold": round(objective, 4),
        "false_refusal": round(sum(1 for s, _ in pairs if s < t) / len(pairs), 3),
        **{
            f"abstain_{k}": round(sum(1 for s in v if s < t) / len(v), 3) for k, v in scores.items()
        },
    }
    print(json.dumps(out, indent=1))
    if args.write:
        path = args.reader / "reader.json"
        data = json.loads(path.read_text()) if path.exists() else {}
        data.update(threshold=out["threshold"], dev=out)
        path.write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    main()
