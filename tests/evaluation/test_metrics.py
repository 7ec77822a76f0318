"""The scoring functions on hand-made cases, and the SQuAD golden numbers."""

from __future__ import annotations

import json
import re
import string
from collections import Counter
from pathlib import Path

import pytest

from rag.evaluation import CalibrationError, calibrate
from rag.evaluation.metrics import (
    citation_precision,
    citation_verified,
    containment,
    evidence_hits,
    exact_match,
    hit_at_k,
    normalize_answer,
    percentile,
    recall_at_k,
    reciprocal_rank,
    strip_citations,
    support_cited,
    support_in_quotes,
    token_f1,
)
from rag.results import Citation
from tests.conftest import DATA

SQUAD = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpora" / "squad-v1.1-dev"


# -- answers -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("The Denver Broncos!", "denver broncos"),
        ("  an   apple, a pear  ", "apple pear"),
        ("Theory of the case", "theory of case"),  # "the" only as a whole word
        ("U.S.-led", "usled"),
        ("", ""),
    ],
)
def test_normalisation_is_squads(text, normal):
    assert normalize_answer(text) == normal


def test_exact_match_takes_the_best_reference():
    assert exact_match("the Broncos", ["Denver Broncos", "Broncos"]) == 1.0
    assert exact_match("Denver", ["Denver Broncos", "Broncos"]) == 0.0
    assert exact_match("Broncos.", "broncos") == 1.0  # one reference may be a string


def test_token_f1_by_hand():
    # prediction "cat sat" vs "cat sat on mat": precision 2/2, recall 2/4 -> F1 2/3
    assert token_f1("The cat sat", ["cat sat on mat"]) == pytest.approx(2 / 3)
    assert token_f1("cat sat", ["dog", "a cat sat"]) == 1.0
    assert token_f1("dog", ["cat"]) == 0.0
    # repeated tokens count only as often as the reference has them
    assert token_f1("paris paris", ["paris"]) == pytest.approx(2 * 0.5 * 1 / 1.5)


@pytest.mark.parametrize("unanswerable", [None, "", [], [None], ["  "]])
def test_unanswerable_reference_credits_only_an_empty_answer(unanswerable):
    for metric in (exact_match, token_f1, containment):
        assert metric("", unanswerable) == 1.0
        assert metric("Kabul", unanswerable) == 0.0


def test_empty_answer_to_an_answerable_question_scores_zero():
    for metric in (exact_match, token_f1, containment):
        assert metric("", ["1996"]) == 0.0
        assert metric("the", ["1996"]) == 0.0  # normalises to nothing


def test_containment_matches_whole_words_only():
    assert containment("They seized Kabul in September, 1996.", ["September 1996"]) == 1.0
    assert containment("in 19967", ["1996"]) == 0.0
    assert containment("The Taliban", ["taliban regime", "Taliban"]) == 1.0


def test_citation_markers_are_stripped_before_scoring():
    assert strip_citations("September, 1996 [1]") == "September, 1996"
    assert strip_citations("A [1] and B [2, 3].") == "A and B."
    assert exact_match(strip_citations("1997 [1]"), ["1997"]) == 1.0
    assert strip_citations("a list [x] stays") == "a list [x] stays"


# -- retrieval ------------------------------------------------------------------------------------
def test_hit_mrr_and_recall_at_k():
    ranks = [3, None]  # first expected passage at rank 3, second never retrieved
    assert hit_at_k(ranks, 1) == 0.0 and hit_at_k(ranks, 3) == 1.0
    assert reciprocal_rank(ranks, 5) == pytest.approx(1 / 3)
    assert reciprocal_rank(ranks, 2) == 0.0  # past k counts as not found
    assert recall_at_k(ranks, 5) == 0.5
    assert recall_at_k([1, 2], 1) == 0.5 and recall_at_k([1, 2], 2) == 1.0
    assert hit_at_k([], 5) == 0.0 and reciprocal_rank([None], 5) == 0.0


def test_evidence_is_a_support_quote_in_the_right_source_or_else_the_source():
    text = "In 1994, the Taliban attacked\nand defeated local warlords."
    assert evidence_hits("a.txt", text, supports=["the Taliban attacked and defeated"]) == [True]
    assert evidence_hits("b.txt", text, sources=["a.txt"], supports=["the Taliban attacked"]) == [
        False
    ]
    assert evidence_hits("a.txt", text, sources=["a.txt", "c.txt"]) == [True, False]


# -- citations ------------------------------------------------------------------------------------
DOC = "Intro line. Pakistan extended recognition in 1997. Other things happened later."


def cite(n: int, start: int, end: int, passage: str = DOC, source: str = "a.txt") -> Citation:
    return Citation(
        n=n, source=source, quote=DOC[start:end], start=start, end=end, passage=passage, score=1
    )


SUPPORT = "extended recognition in 1997"
GOOD = cite(1, 12, 51)  # "Pakistan extended recognition in 1997."
OTHER = cite(2, 52, 80, passage=DOC[52:])  # a passage without the support


def test_support_in_citations_and_precision():
    assert support_cited([GOOD], supports=[SUPPORT]) == 1.0
    assert support_cited([OTHER], supports=[SUPPORT]) == 0.0
    assert citation_precision([GOOD, OTHER], supports=[SUPPORT]) == 0.5
    assert citation_precision([], supports=[SUPPORT]) == 0.0
    assert support_in_quotes([GOOD], supports=[SUPPORT]) == 1.0
    assert support_in_quotes([OTHER], supports=[SUPPORT]) == 0.0


def test_duplicate_citations_count_once():
    duplicate = cite(3, 12, 51)
    assert citation_precision([GOOD, duplicate, OTHER], supports=[SUPPORT]) == 0.5
    assert citation_precision([GOOD, duplicate], supports=[SUPPORT]) == 1.0


def test_a_citation_is_verified_against_its_document_offsets_and_marker():
    assert citation_verified(GOOD, DOC, "1997 [1]")
    assert not citation_verified(GOOD, DOC, "1997")  # no [1] marker in the answer
    assert not citation_verified(GOOD, "x" + DOC, "1997 [1]")  # offsets moved
    shifted = Citation(1, "a.txt", GOOD.quote, 13, 52, DOC, 1.0)
    assert not citation_verified(shifted, DOC, "1997 [1]")


def test_percentile_interpolates_like_numpy():
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([5.0], 95) == 5.0
    assert percentile([], 50) is None


# -- calibration ----------------------------------------------------------------------------------
def test_calibration_separates_answerable_from_unanswerable():
    answerable = [(0.9, True), (0.8, True), (0.7, False), (0.6, True)]
    unanswerable = [0.2, 0.3, 0.5]
    cal = calibrate(answerable, unanswerable, previous=0.43)
    assert 0.5 < cal.threshold <= 0.6  # between the best unanswerable and worst answerable
    assert cal.answered_correctly == 0.75 and cal.abstained == 1.0 and cal.objective == 1.75
    assert cal.previous == 0.43


def test_calibration_prefers_the_widest_gap_among_equal_choices():
    # Any threshold in (0.35, 0.8] or in (0.8, 0.9] scores 0.5 + 1.0; the first gap is wider.
    cal = calibrate([(0.8, False), (0.9, True)], [0.1, 0.3, 0.35], previous=0.5)
    assert 0.35 < cal.threshold <= 0.8 and cal.objective == 1.5


def test_calibration_needs_both_kinds_of_question():
    with pytest.raises(CalibrationError, match="answerable and unanswerable"):
        calibrate([(0.5, True)], [], previous=0.4)


# -- golden ---------------------------------------------------------------------------------------
def official_v11(prediction: str, truths: list[str]) -> tuple[float, float]:
    """The scoring of the official evaluate-v1.1.py, transcribed as it is written there."""

    def normalize(s: str) -> str:
        s = s.lower()
        s = "".join(ch for ch in s if ch not in set(string.punctuation))
        s = re.sub(r"\b(a|an|the)\b", " ", s)
        return " ".join(s.split())

    def f1(p: str, t: str) -> float:
        pt, tt = normalize(p).split(), normalize(t).split()
        same = sum((Counter(pt) & Counter(tt)).values())
        if same == 0:
            return 0.0
        precision, recall = same / len(pt), same / len(tt)
        return 2 * precision * recall / (precision + recall)

    em = max(float(normalize(prediction) == normalize(t)) for t in truths)
    return em, max(f1(prediction, t) for t in truths)


def score_all(references: dict, predictions: dict) -> tuple[float, float]:
    em = f1 = 0.0
    for qid, truths in references.items():
        if qid in predictions:  # a missing prediction scores 0, as officially
            em += exact_match(predictions[qid], truths)
            f1 += token_f1(predictions[qid], truths)
    return 100 * em / len(references), 100 * f1 / len(references)


def test_golden_slice_agrees_with_the_official_scoring():
    data = json.loads((DATA / "squad-golden-slice.json").read_text(encoding="utf-8"))
    refs = data["references"]
    for system, predictions in data["predictions"].items():
        oracle = [
            official_v11(predictions.get(q, ""), t) if q in predictions else (0, 0)
            for q, t in refs.items()
        ]
        expected = (
            100 * sum(e for e, _ in oracle) / len(refs),
            100 * sum(f for _, f in oracle) / len(refs),
        )
        assert score_all(refs, predictions) == pytest.approx(expected), system
    # the systems are ordered on the slice as on the full set
    em = [score_all(refs, p)[0] for p in data["predictions"].values()]
    assert em == sorted(em)


GOLDEN = {
    "logistic-regression.json": (40.14, 50.98),
    "match-lstm-ensemble.json": (67.63, 76.76),
    "bert-ensemble.json": (86.21, 92.20),
}


@pytest.mark.slow
@pytest.mark.skipif(not SQUAD.is_dir(), reason="../shared/corpora/squad-v1.1-dev not present")
@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_full_squad_dev_values(name):
    dev = json.loads((SQUAD / "dev-v1.1.json").read_text(encoding="utf-8"))
    refs = {
        q["id"]: [a["text"] for a in q["answers"]]
        for article in dev["data"]
        for paragraph in article["paragraphs"]
        for q in paragraph["qas"]
    }
    predictions = json.loads((SQUAD / "predictions" / name).read_text(encoding="utf-8"))
    em, f1 = score_all(refs, predictions)
    assert (round(em, 2), round(f1, 2)) == GOLDEN[name]
