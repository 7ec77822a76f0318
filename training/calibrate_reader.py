"""Score a reader on every source's dev split and store its abstention threshold in ``reader.json``.

    python -m training.calibrate_reader rag/models/reader            # the shipped export
    python -m training.calibrate_reader training/runs/reader-v2/model   # the float model (HF)

Reads through :class:`rag.read.model.ReaderModel`, so it measures exactly what ships. Dev splits
only (:mod:`training.qa_sources`: articles and tables held out of training, never the 35
evaluation articles): per source, gold-passage EM/F1 of up to ``--per-source`` answerable
questions, and the no-answer margin of the same questions against each kind of no-answer
passage. The threshold is the highest that refuses at most ``--refusal`` (10%) of the
answerable dev questions, pooled over the sources: a user loses at most one answer in ten to
abstention. (``rag eval --calibrate``'s objective, which counts a refused wrong answer as no
loss, is reported too.)
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from rag.evaluation.calibration import calibrate
from rag.evaluation.metrics import exact_match, token_f1
from rag.read.model import ReaderModel
from rag.read.windows import Span
from training.qa_sources import SOURCES, load_source
from training.squad_data import (
    answerable,
    entity_negatives,
    removed_negatives,
    retrieved_negatives,
    silent,
)


def margin(model: ReaderModel, question: str, passage: str) -> Span:
    spans = model.read(model.windows(question, [passage]))
    return max(spans, key=lambda s: s.margin)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("reader", type=Path)
    p.add_argument("--per-source", type=int, default=120)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--refusal", type=float, default=0.10, help="false-refusal budget")
    p.add_argument("--write", action="store_true", help="store the threshold in reader.json")
    args = p.parse_args()
    model = ReaderModel(str(args.reader))
    rng = random.Random(args.seed)
    pairs, negatives, per_source = [], {}, {}
    for source in SOURCES:
        _, arts = load_source(source)
        dev = list(answerable(arts, source))
        rng.shuffle(dev)
        dev = dev[: args.per_source]
        em, f1 = [], []
        for e in dev:
            sp = margin(model, e.question, e.passage)
            text = e.passage[sp.start : sp.end]
            em.append(exact_match(text, list(e.answers)))
            f1.append(token_f1(text, list(e.answers)))
            pairs.append((sp.margin, f1[-1] >= 0.5))
        per_source[source] = {"n": len(dev), "em": round(100 * sum(em) / len(em), 1),
                              "f1": round(100 * sum(f1) / len(f1), 1)}  # fmt: skip
        kinds = {"silent": list(silent(arts, args.seed, source)),
                 "removed": removed_negatives(dev),
                 "entity": entity_negatives(dev, arts, args.seed)}  # fmt: skip
        for e in retrieved_negatives(dev, arts):
            kinds.setdefault("retrieved", []).append(e)
        for kind, examples in kinds.items():
            rng.shuffle(examples)
            negatives.setdefault(kind, []).extend(examples[: args.per_source // 2])
    scores = {k: [margin(model, e.question, e.passage).margin for e in v]
              for k, v in negatives.items()}  # fmt: skip
    pooled = [s for v in scores.values() for s in v]
    objective = calibrate(pairs, pooled, previous=model.threshold).threshold
    margins = sorted(s for s, _ in pairs)
    t = margins[int(args.refusal * len(margins))]
    out = {
        "dev_em": round(sum(v["em"] * v["n"] for v in per_source.values()) / len(pairs), 2),
        "dev_f1": round(sum(v["f1"] * v["n"] for v in per_source.values()) / len(pairs), 2),
        "threshold": round(t, 4),
        "objective_threshold": round(objective, 4),
        "false_refusal": round(sum(1 for s, _ in pairs if s < t) / len(pairs), 3),
        **{
            f"abstain_{k}": round(sum(1 for s in v if s < t) / len(v), 3) for k, v in scores.items()
        },
        "per_source": per_source,
    }
    print(json.dumps(out, indent=1))
    if args.write:
        path = args.reader / "reader.json"
        data = json.loads(path.read_text()) if path.exists() else {}
        data.update(threshold=out["threshold"], dev=out)
        path.write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    main()
