"""How sure an answer is: the calibrated confidence, its words, and its check in rag eval."""

from __future__ import annotations

import json

import pytest

from rag.evaluation.reliability import reliability, to_svg
from rag.read.confidence import LABELS, ConfidenceMap, confidence_label
from rag.read.model import ReaderModel
from ui.present import confidence_text

#: The issue's bar: on held-out articles, each bin's mean confidence within 0.1 of accuracy.
GAP = 0.1
#: A bin with fewer answers says more about chance than calibration (its accuracy's standard
#: error is about 0.5/sqrt(n): 0.09 at 30); smaller bins are reported, not asserted.
MIN_BIN = 30


# -- the map and its words ----------------------------------------------------------------------
def test_map_interpolates_between_points_and_holds_its_ends():
    m = ConfidenceMap.from_points([(2.0, 0.6), (-1.0, 0.1), (1.0, 0.3)])
    assert m.margins == (-1.0, 1.0, 2.0)
    assert m(-5.0) == 0.1 and m(9.0) == 0.6
    assert m(0.0) == 0.2 and m(1.5) == 0.45
    assert ConfidenceMap.from_config({"threshold": 0.3}) is None
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ConfidenceMap.from_points([(0.0, 1.5)])


def test_words_come_from_one_table():
    assert [confidence_label(b) for b, _ in LABELS] == [w for _, w in LABELS]
    assert confidence_label(0.9) == "likely right" and confidence_label(0.3) == "uncertain"
    assert confidence_label(None) == "" and confidence_text(None, "") == ""
    assert confidence_text(0.82, "likely right") == "likely right (82%)"


def test_reliability_bins_and_ece():
    pairs = [(0.1, False)] * 9 + [(0.1, True)] + [(0.9, True)] * 6 + [(0.9, False)] * 4
    rel = reliability(pairs, bins=5)
    low, high = rel.bins[0], rel.bins[4]
    assert (low.count, low.confidence, low.accuracy) == (10, 0.1, 0.1)
    assert (high.count, high.confidence, high.accuracy) == (10, 0.9, 0.6)
    assert rel.ece == pytest.approx(0.15) and rel.count == 20
    assert [b.count for b in rel.bins[1:4]] == [0, 0, 0]
    svg = to_svg(rel)
    assert svg.startswith("<svg") and svg.count("<rect") == 3  # frame + two bars


# -- the shipped reader -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def reader() -> ReaderModel:
    return ReaderModel()


def test_the_shipped_reader_carries_a_monotone_map(reader):
    m = reader.confidence
    assert m is not None and len(m.margins) >= 4
    assert all(b >= a for a, b in zip(m.probabilities, m.probabilities[1:], strict=False))
    assert m(reader.threshold) < m(reader.threshold + 10)


@pytest.mark.slow
def test_held_out_articles_mean_confidence_per_bin_is_within_0_1_of_accuracy(reader):
    """The issue's check: re-read the held-out dev articles, bin by confidence, compare."""
    from training.calibrate_reader import (
        confidence_sample,
        dev_sample,
        held_out,
        is_right,
        margin,
    )
    from training.qa_sources import QA_TRAIN

    if not QA_TRAIN.is_dir():
        pytest.fail(f"{QA_TRAIN} (../shared/corpora/qa-train) is missing: the check needs it")
    stored = json.loads((reader.path / "reader.json").read_text())["confidence"]
    sample = stored.get("sample", {"per_source": 120, "seed": 13})  # the fit's arguments
    questions, negatives = dev_sample(sample["per_source"], sample["seed"])
    check = [e for e in confidence_sample(questions, negatives, sample["seed"]) if held_out(e)]
    assert len(check) == stored["held_out"]["count"]  # the same articles the fit left out
    pairs = []
    for e in check:
        span = margin(reader, e.question, e.passage)
        pairs.append(
            (reader.confidence(span.margin), is_right(e, e.passage[span.start : span.end]))
        )
    rel = reliability(pairs)
    judged = [b for b in rel.bins if b.count >= MIN_BIN]
    assert sum(b.count for b in judged) >= 0.8 * rel.count, rel
    for b in judged:
        assert b.gap <= GAP, f"bin {b.low}-{b.high}: confidence {b.confidence}, right {b.accuracy}"
    assert rel.ece <= GAP


def test_the_answer_and_its_source_card_say_how_sure():
    from rag.results import Answer, Citation
    from ui.present import answer_markdown, citation_card

    quote = "The lighthouse was lit in 1887."
    c = Citation(
        n=1, source="a.txt", quote=quote, start=0, end=len(quote), passage=quote, score=5.1
    )
    answer = Answer(
        "1887 [1]", False, [c], confidence=0.82, confidence_label=confidence_label(0.82)
    )
    assert "Confidence: likely right" in answer_markdown(answer, 0)
    sure = confidence_text(answer.confidence, answer.confidence_label)
    assert "likely right (82%)" in citation_card(c, 0, sure=sure)
    assert "Confidence" not in answer_markdown(Answer("1887 [1]", False, [c]), 0)
