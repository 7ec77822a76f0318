"""Both checks before reading, in one place (rag.read.mentions): years, then names."""

from __future__ import annotations

from langchain_core.documents import Document

from rag.read import NAME_ABSTAINER, YEAR_ABSTAINER, mentioned

DOCS = [
    Document("Helen Crane opened the Zephyr Bridge in 1932.", metadata={"source": "a.txt"}),
    Document("Paul Avery widened the Lomar Dam in 1958.", metadata={"source": "b.txt"}),
]


def test_the_passages_that_mention_the_years_and_names_are_kept():
    assert mentioned("Who opened the Zephyr Bridge in 1932?", DOCS) == ([DOCS[0]], "")
    assert mentioned("Who widened it in 1958?", DOCS) == ([DOCS[1]], "")
    assert mentioned("Who widened it?", DOCS) == (DOCS, "")


def test_a_year_or_a_name_no_passage_mentions_says_which_check_refused():
    assert mentioned("Who opened the Zephyr Bridge in 1941?", DOCS) == ([], YEAR_ABSTAINER)
    assert mentioned("Who opened the Orinoco Canal?", DOCS) == ([], NAME_ABSTAINER)
    # each check narrows what the next one sees: 1958 is the Lomar Dam's passage alone
    assert mentioned("What did Crane do in 1958?", DOCS) == ([], NAME_ABSTAINER)


def test_a_which_document_question_is_not_checked():
    assert mentioned("Which document is about the Orinoco Canal?", DOCS) == (DOCS, "")
