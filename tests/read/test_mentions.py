"""Both checks before reading, in one place (rag.read.mentions): years, then names."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document

from rag.read import NAME_ABSTAINER, YEAR_ABSTAINER, mentioned
from rag.read.answerer import ExtractiveAnswerer
from rag.read.model import ReaderModel

BRIDGE = (
    "The Zephyr Bridge over the Lomar River was opened in 1932 by mayor Helen Crane. "
    "In 1958 it was widened, and governor Paul Avery reopened it."
)

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


# -- the real reader behind them ------------------------------------------------------------------
@pytest.fixture(scope="module")
def answerer() -> ExtractiveAnswerer:
    model = ReaderModel()
    return ExtractiveAnswerer(model, doc_text=lambda _source: BRIDGE, threshold=model.threshold)


def ask(answerer: ExtractiveAnswerer, question: str):
    return answerer(question, [Document(BRIDGE, metadata={"source": "bridge.txt", "start": 0})])


@pytest.mark.parametrize(
    "question",
    ["Who opened the Zephyr Bridge in 1932?", "Who opened the Lomar River's bridge?"],
)
def test_the_real_reader_answers_the_year_and_name_the_passage_names(answerer, question):
    reply = ask(answerer, question)
    assert not reply.abstained
    assert "Helen Crane" in reply.text


@pytest.mark.parametrize(
    ("question", "refused_by"),
    [
        ("Who opened the Zephyr Bridge in 1941?", YEAR_ABSTAINER),
        ("Who opened the bridge over the Orinoco?", NAME_ABSTAINER),
    ],
)
def test_another_year_or_name_is_refused_unread(answerer, question, refused_by):
    reply = ask(answerer, question)
    assert reply.abstained and not reply.citations
    assert reply.answerer == refused_by
