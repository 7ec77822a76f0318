"""Semantic similarity (the packaged embedding model) and token recall on hand-made cases."""

from __future__ import annotations

import pytest

from rag.embed.embedder import Embedder
from rag.evaluation.semantic import content_words, similarities, similarity, token_recall


def test_token_recall_counts_content_words_by_hand():
    # Content words of the reference: pilots, flew, aircraft, training (4 stems).
    reference = "The pilots flew the aircraft for training."
    assert content_words(reference) == {"pilot", "flew", "aircraft", "train"}
    assert token_recall("Two pilots flew on Monday.", reference) == pytest.approx(0.5)
    assert token_recall("Pilots flew aircraft during trainings.", reference) == 1.0
    assert token_recall("Nothing relevant here.", reference) == 0.0
    assert token_recall("", reference) == 0.0


def test_token_recall_ignores_stop_and_question_words_and_takes_the_best_reference():
    assert token_recall("what is the", "The is what") is None  # no content word at all
    assert token_recall("anything", None) is None
    assert token_recall("Guido", ["Barry Warsaw", "Guido"]) == 1.0


def test_identical_text_is_similarity_one_and_unrelated_text_is_low(embedder: Embedder):
    text = "The generator yields values lazily instead of building a list."
    same = similarity(embedder, text, [text])
    unrelated = similarity(embedder, text, ["Bananas grow in warm tropical climates."])
    related = similarity(embedder, text, ["A generator produces its values one at a time."])
    assert same == pytest.approx(1.0, abs=1e-4)
    assert unrelated is not None and related is not None
    assert unrelated < 0.4
    assert unrelated < related < same


def test_similarity_takes_the_best_reference_and_skips_empty_pairs(embedder: Embedder):
    text = "Python 3.0 was released in 2008."
    scores = similarities(
        embedder,
        [(text, ["An unrelated sentence about cooking rice.", text]), ("", [text]), (text, [""])],
    )
    assert scores[0] == pytest.approx(1.0, abs=1e-4)
    assert scores[1:] == [None, None]
