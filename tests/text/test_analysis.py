"""One lexical analysis: the keyword index and lexical overlap share words, stems, stop words."""

from __future__ import annotations

from bm25s.stopwords import STOPWORDS_EN

from rag.store.bm25 import KeywordIndex
from rag.text.words import (
    LIGHT_WORDS,
    OVERLAP_STOP_WORDS,
    QUESTION_WORDS,
    STOP_WORDS,
    analyze,
    stem,
    words,
)


def test_the_base_stop_words_are_bm25s_english_list():
    """Written out to keep bm25s out of import time; it must stay the list bm25s ships."""
    assert frozenset(STOPWORDS_EN) == STOP_WORDS


def test_overlap_stop_words_extend_the_base_list_in_layers():
    assert OVERLAP_STOP_WORDS == STOP_WORDS | QUESTION_WORDS | LIGHT_WORDS
    assert STOP_WORDS < OVERLAP_STOP_WORDS
    assert {"what", "who", "when", "which", "did"} <= QUESTION_WORDS
    assert {"year", "name", "called", "could"} <= LIGHT_WORDS


def test_analyze_lowercases_stems_and_drops_overlap_stop_words():
    assert analyze("Who founded the Cities in 1931?") == ["found", "citi", "1931"]
    assert analyze("What year was it called?") == []
    assert analyze("a I x") == []  # one-letter words are not words


def test_words_and_stems_are_the_keyword_indexs_own():
    assert words("Running, RUNS: ran x") == ["running", "runs", "ran"]
    assert stem("running") == "run" == stem("runs")
    index = KeywordIndex.build(["The runners were running fast."])
    assert set(index.token_ids("running")) == set(index.token_ids("runs"))


def test_every_overlap_term_of_a_text_is_a_keyword_index_term():
    """The answerer weighs overlap terms by BM25 IDF: they must be terms the index holds."""
    text = "Who named the bridge that Astrid Lund designed in 1931, and when did trams stop?"
    index = KeywordIndex.build([text])
    vocab = index._vocab
    assert analyze(text)
    assert all(term in vocab for term in analyze(text))


def test_bm25_drops_stop_words_everywhere_and_question_words_from_queries_only():
    index = KeywordIndex.build(["Who built the bridge?", "The tower was built in 1931."])
    assert index.token_ids("the was") == []  # base stop words are never indexed
    who = index.token_ids("who")
    assert who  # documents keep question words ...
    assert index.query_token_ids("Who built it?") == index.token_ids("built")  # ... queries not
    assert index.query_token_ids("Who?") == who  # unless nothing else is left
    assert index.query_token_ids("Who built it?", drop_question_words=False) == (
        index.token_ids("who built")
    )
