"""One sentence splitter, two modes: exact (pysbd, for quotes) and fast (regex, for chunks)."""

from __future__ import annotations

from rag.text.sentences import fast_sentence_spans, sentence_spans
from tests.conftest import CORPUS, SEED

TRICKY = (
    "Dr. Smith met Mr. Jones at 5 p.m. in the U.S. capital. They talked.  Then "
    'he said "Stop." and left... Was it 1.5 km? Yes! See e.g. p. 42 of the report.'
)


def test_sentence_spans_match_pysbds_own_segmentation():
    """Our forward search replaces pysbd's offset search: the sentences must be the same."""
    import pysbd

    text = (CORPUS / SEED).read_text(encoding="utf-8")[:6000] + "\n\n" + TRICKY
    ours = [text[s:e] for s, e in sentence_spans(text)]
    segmenter = pysbd.Segmenter(language="en", clean=False)
    theirs = [
        s.strip()
        for block in text.split("\n\n")
        for s in segmenter.segment(block.replace("\n", " "))
        if s.strip()
    ]
    assert ours == theirs


def test_both_modes_give_exact_trimmed_spans_covering_every_non_blank_character():
    text = (CORPUS / SEED).read_text(encoding="utf-8")[:6000] + "\n\n" + TRICKY + "\n  \n"
    for spans in (sentence_spans(text), fast_sentence_spans(text)):
        covered = set()
        for start, end in spans:
            piece = text[start:end]
            assert piece and piece == piece.strip()
            covered.update(range(start, end))
        assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())
        assert spans == sorted(spans)


def test_fast_mode_ends_sentences_before_capitals_and_at_every_line_break():
    text = "One e.g. two. Three!\nfour, wrapped\n  five? 6 is a digit. (Seven) ends"
    pieces = [text[s:e] for s, e in fast_sentence_spans(text)]
    assert pieces == [
        "One e.g. two.",
        "Three!",
        "four, wrapped",
        "five?",
        "6 is a digit.",
        "(Seven) ends",
    ]
    assert fast_sentence_spans("  \n \n") == []


def test_the_exact_mode_knows_abbreviations_the_fast_one_cuts_at():
    exact = [TRICKY[s:e] for s, e in sentence_spans(TRICKY)]
    fast = [TRICKY[s:e] for s, e in fast_sentence_spans(TRICKY)]
    assert exact[0] == "Dr. Smith met Mr. Jones at 5 p.m. in the U.S. capital."
    assert fast[:2] == ["Dr.", "Smith met Mr."]  # the price of speed, paid only by chunking
