"""Score fusion of the dense and BM25 lists, on hand-made candidate lists."""

from __future__ import annotations

import statistics

import pytest

from rag.retrieve.hybrid import PLAIN_RRF, Fusion, fuse
from rag.store.bm25 import KeywordIndex

DENSE = [("a", 0.9), ("b", 0.5), ("c", 0.1)]
BM25 = [("c", 12.0), ("d", 6.0), ("a", 0.0)]


def keys(result):
    return [f.key for f in result]


def test_convex_min_max_by_hand():
    # dense normalised: a 1, b .5, c 0, d (missing) -> 0; bm25: c 1, d .5, a 0, b (missing) -> 0
    fused = fuse(DENSE, BM25, Fusion(method="convex", dense_weight=0.5, fill_missing=False))
    scores = {f.key: f.score for f in fused}
    assert scores == pytest.approx({"a": 0.5, "b": 0.25, "c": 0.5, "d": 0.25})
    assert keys(fused)[:2] == ["a", "c"]  # ties keep first-seen order, dense first


def test_filled_in_scores_replace_the_guess():
    fusion = Fusion(method="convex", dense_weight=0.5)
    fused = fuse(DENSE, BM25, fusion, dense_fill={"d": 0.9}, bm25_fill={"b": 12.0})
    scores = {f.key: f.score for f in fused}
    # dense min-max now over a .9, b .5, c .1, d .9; bm25 over c 12, d 6, a 0, b 12
    assert scores["b"] == pytest.approx(0.5 * 0.5 + 0.5 * 1.0)
    assert scores["d"] == pytest.approx(0.5 * 1.0 + 0.5 * 0.5)
    assert next(f for f in fused if f.key == "d").dense_score == 0.9
    assert next(f for f in fused if f.key == "d").dense_rank is None


def test_plain_rrf_and_single_lists():
    fused = fuse(DENSE, BM25, PLAIN_RRF)
    scores = {f.key: f.score for f in fused}
    assert scores["a"] == pytest.approx(1 / 61 + 1 / 63)
    assert scores["d"] == pytest.approx(1 / 62)
    assert keys(fuse(DENSE, BM25, Fusion(method="dense"))) == ["a", "b", "c"]
    assert keys(fuse(DENSE, BM25, Fusion(method="bm25"))) == ["c", "d", "a"]


def test_weight_moves_the_ranking():
    dense_heavy = fuse(DENSE, BM25, Fusion(dense_weight=0.9, fill_missing=False))
    bm25_heavy = fuse(DENSE, BM25, Fusion(dense_weight=0.1, fill_missing=False))
    assert keys(dense_heavy)[0] == "a" and keys(bm25_heavy)[0] == "c"


def test_empty_and_flat_lists():
    assert fuse([], [], Fusion()) == []
    flat = fuse([("a", 0.5), ("b", 0.5)], [], Fusion(fill_missing=False))
    assert [f.score for f in flat] == [0.0, 0.0]  # a list without spread says nothing


def test_zscore_normalisation():
    fused = fuse(DENSE, BM25, Fusion(normalise="zscore", dense_weight=1.0, fill_missing=False))
    assert keys(fused)[0] == "a"
    assert fused[0].score == pytest.approx((0.9 - 0.5) / statistics.pstdev([0.9, 0.5, 0.1]))


def test_bm25_queries_ignore_question_words():
    index = KeywordIndex.build(
        ["What a day: who knows how it was.", "The Taliban seized Kabul in 1996."]
    )
    assert [p for p, _ in index.search("When did the Taliban seize Kabul?", 5)] == [1]
    assert [p for p, _ in index.search("what was it?", 5)] == [0]  # nothing else to search
    full = index.scores("Who seized Kabul?")
    assert full[0] == 0 and full[1] > 0
