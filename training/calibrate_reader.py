"""Score a reader on every source's dev split; store its abstention threshold and confidence map.

    python -m training.calibrate_reader rag/models/reader --write     # the shipped export
    python -m training.calibrate_reader rag/models/reader --write --confidence-only
    python -m training.calibrate_reader training/runs/reader-v2/model   # the float model (HF)

Reads through :class:`rag.read.model.ReaderModel`, so it measures exactly what ships. Dev splits
only (:mod:`training.qa_sources`: articles and tables held out of training, never the 35
evaluation articles): per source, gold-passage EM/F1 of up to ``--per-source`` answerable
questions, and the no-answer margin of the same questions against each kind of no-answer
passage. The threshold is the highest that refuses at most ``--refusal`` (10%) of the
answerable dev questions, pooled over the sources: a user loses at most one answer in ten to
abstention. (``rag eval --calibrate``'s objective, which counts a refused wrong answer as no
loss, is reported too.)

The confidence map (:mod:`rag.read.confidence`) is fitted on the same margins: the answerable
questions (right when the span's F1 with a gold answer is at least 0.5, ``rag eval``'s pass
mark) and as many no-answer passages drawn from all kinds (any span there is wrong), so half
the questions the fit sees have no answer in their passage. Isotonic regression (pool
adjacent violators, here in numpy) maps margin to the share right; its steps are stored as
``(margin, probability)`` points. About 30% of the articles (:func:`held_out`) are kept out
of the fit and checked with :func:`rag.evaluation.reliability.reliability` (mean confidence
against observed accuracy per bin, and the ECE); ``tests/read/test_confidence.py`` re-reads those
articles with the shipped weights and checks the stored map on them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from langchain_core.documents import Document

from rag.evaluation.calibration import calibrate
from rag.evaluation.metrics import exact_match, token_f1
from rag.evaluation.reliability import reliability
from rag.read import mentioned, sentence_of, words_relation
from rag.read.confidence import ConfidenceMap
from rag.read.model import ReaderModel
from rag.read.windows import Span
from training.qa_sources import SOURCES, load_source
from training.relations import relation_negatives
from training.retyped import retyped_negatives
from training.squad_data import (
    Example,
    answerable,
    entity_negatives,
    removed_negatives,
    retrieved_negatives,
    silent,
)

#: An answer counts as right for the confidence fit when its F1 reaches rag eval's pass mark.
RIGHT_F1 = 0.5
#: Share of the articles (by a fixed hash) kept out of the confidence fit to check it.
HELD_OUT = 0.3
#: The score of a question the answerer refuses unread (a year or name its passage never mentions).
UNREAD = float("-inf")


def key(example: Example) -> tuple[str, str, str]:
    """Names a question-passage pair (a no-answer passage keeps its question's id)."""
    return example.qid, example.kind, example.passage


def margin(model: ReaderModel, question: str, passage: str) -> Span:
    spans = model.read(model.windows(question, [passage]))
    return max(spans, key=lambda s: s.margin)


def answered_margin(example: Example, span: Span) -> float:
    """The span's margin, or :data:`UNREAD` where the answerer refuses unread.

    That is a question whose year or name the passage never mentions (:mod:`rag.read.years`,
    :mod:`rag.read.names`), or whose span's sentence never words the relation it asks for
    (:mod:`rag.read.relations`); so the threshold spends the refusal budget on what the
    answerer refuses in all.
    """
    if mentioned(example.question, [Document(page_content=example.passage)])[1]:
        return UNREAD
    cited = sentence_of(example.passage, span.start, span.end)
    if not words_relation(example.question, example.passage, cited):
        return UNREAD  # the answer's sentence never words the relation asked for
    return span.margin


def dev_sample(per_source: int, seed: int) -> tuple[list[Example], dict[str, list[Example]]]:
    """The answerable dev questions (up to ``per_source`` a source) and no-answer passages."""
    rng = random.Random(seed)
    questions: list[Example] = []
    negatives: dict[str, list[Example]] = {}
    for source in SOURCES:
        _, arts = load_source(source)
        dev = list(answerable(arts, source))
        rng.shuffle(dev)
        dev = dev[:per_source]
        questions.extend(dev)
        kinds = {"silent": list(silent(arts, seed, source)),
                 "removed": removed_negatives(dev),
                 "entity": entity_negatives(dev, arts, seed)}  # fmt: skip
        for e in retrieved_negatives(dev, arts):
            kinds.setdefault("retrieved", []).append(e)
        for kind, examples in kinds.items():
            rng.shuffle(examples)
            negatives.setdefault(kind, []).extend(examples[: per_source // 2])
        # drawn apart, so that the kinds above are the sample earlier readers were calibrated on
        every = list(answerable(arts, source))
        for kind, made in (("retyped", retyped_negatives), ("relation", relation_negatives)):
            later = made(every, seed)
            random.Random(seed).shuffle(later)
            negatives.setdefault(kind, []).extend(later[: per_source // 2])
    return questions, negatives


def confidence_sample(
    questions: list[Example], negatives: dict[str, list[Example]], seed: int
) -> list[Example]:
    """The answerable questions and as many no-answer passages, drawn from every kind."""
    pooled = [e for kind in sorted(negatives) for e in negatives[kind]]
    random.Random(seed + 1).shuffle(pooled)
    return questions + pooled[: len(questions)]


def held_out(example: Example) -> bool:
    """Whether the example's article is kept out of the confidence fit (a fixed hash)."""
    digest = hashlib.sha256(f"{example.source}\0{example.article}".encode()).digest()
    return digest[0] < HELD_OUT * 256


def is_right(example: Example, passage_span: str) -> bool:
    """A span is right when the passage answers and the span's F1 reaches :data:`RIGHT_F1`."""
    return example.answerable and token_f1(passage_span, list(example.answers)) >= RIGHT_F1


def fit_isotonic(margins: Sequence[float], right: Sequence[bool]) -> ConfidenceMap:
    """Isotonic (non-decreasing) least-squares fit of right ~ margin, as a confidence map.

    Pool adjacent violators over the examples sorted by margin; each final block becomes two
    points (its lowest and highest margin at the block's share right), so interpolation is
    flat within a block and linear between blocks.
    """
    order = np.argsort(np.asarray(margins, dtype=np.float64), kind="stable")
    xs = np.asarray(margins, dtype=np.float64)[order]
    ys = np.asarray(right, dtype=np.float64)[order]
    blocks: list[list[float]] = []  # [sum of y, count, lowest x, highest x]
    for x, y in zip(xs, ys, strict=True):
        blocks.append([y, 1.0, x, x])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] >= blocks[-1][0] / blocks[-1][1]:
            last = blocks.pop()
            blocks[-1][0] += last[0]
            blocks[-1][1] += last[1]
            blocks[-1][3] = last[3]
    points: list[tuple[float, float]] = []
    for total, count, low, high in blocks:
        p = round(total / count, 4)
        for x in (low, high) if high > low else (low,):
            if not points or round(x, 4) > points[-1][0]:
                points.append((round(x, 4), p))
    return ConfidenceMap.from_points(points)


def fit_confidence(
    model: ReaderModel, examples: list[Example], read: dict[tuple[str, str, str], Span]
) -> dict[str, object]:
    """Fit the map on the articles not held out; check it on those that are."""
    rows = []
    for e in examples:
        sp = read[key(e)]
        rows.append((held_out(e), sp.margin, is_right(e, e.passage[sp.start : sp.end])))
    fit = [(m, r) for h, m, r in rows if not h]
    check = [(m, r) for h, m, r in rows if h]
    mapping = fit_isotonic([m for m, _ in fit], [r for _, r in fit])
    held = reliability((mapping(m), r) for m, r in check)
    seen = reliability((mapping(m), r) for m, r in fit)
    return {
        "method": "isotonic",
        "right": f"span F1 >= {RIGHT_F1} (no-answer passages: never)",
        "fitted": {"examples": len(fit), "right": sum(r for _, r in fit), "ece": seen.ece},
        "held_out": {"share_of_articles": HELD_OUT, **held.to_dict()},
        "points": mapping.points(),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("reader", type=Path)
    p.add_argument("--per-source", type=int, default=120)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--refusal", type=float, default=0.10, help="false-refusal budget")
    p.add_argument("--write", action="store_true", help="store the results in reader.json")
    p.add_argument(
        "--confidence-only",
        action="store_true",
        help="with --write: store only the confidence map (keep the threshold as it is)",
    )
    args = p.parse_args()
    started = time.perf_counter()
    model = ReaderModel(str(args.reader))
    questions, negatives = dev_sample(args.per_source, args.seed)
    read: dict[tuple[str, str, str], Span] = {}
    for e in questions + [e for v in negatives.values() for e in v]:
        if key(e) not in read:
            read[key(e)] = margin(model, e.question, e.passage)
    pairs, per_source = [], {}
    for source in SOURCES:
        dev = [e for e in questions if e.source == source]
        em, f1 = [], []
        for e in dev:
            sp = read[key(e)]
            text = e.passage[sp.start : sp.end]
            em.append(exact_match(text, list(e.answers)))
            f1.append(token_f1(text, list(e.answers)))
            pairs.append((answered_margin(e, sp), f1[-1] >= 0.5))
        per_source[source] = {"n": len(dev), "em": round(100 * sum(em) / len(em), 1),
                              "f1": round(100 * sum(f1) / len(f1), 1)}  # fmt: skip
    scores = {k: [answered_margin(e, read[key(e)]) for e in v] for k, v in negatives.items()}
    pooled = [s for v in scores.values() for s in v]
    # rag eval --calibrate's objective, which leaves out what is refused unread, as rag eval does
    read_pairs = [(s, r) for s, r in pairs if s != UNREAD]
    read_pooled = [s for s in pooled if s != UNREAD]
    objective = calibrate(read_pairs, read_pooled, previous=model.threshold).threshold
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
    confidence = fit_confidence(model, confidence_sample(questions, negatives, args.seed), read)
    confidence["sample"] = {"per_source": args.per_source, "seed": args.seed}
    print(json.dumps({**out, "confidence": {k: v for k, v in confidence.items() if k != "points"}},
                     indent=1))  # fmt: skip
    print(f"{len(read)} passages read in {time.perf_counter() - started:.0f} s")
    if args.write:
        path = args.reader / "reader.json"
        data = json.loads(path.read_text()) if path.exists() else {}
        if args.confidence_only:
            data.update(confidence=confidence)
        else:
            data.update(threshold=out["threshold"], dev=out, confidence=confidence)
        path.write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    main()
