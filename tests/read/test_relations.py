"""An answer whose sentence never words the relation a "who" question asks for is refused."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document

from rag.read import RELATION_ABSTAINER, asked_relation, sentence_of, words_relation
from rag.read.answerer import ExtractiveAnswerer
from rag.read.model import ReaderModel

PASSAGE = (
    "President Karzai went to Pakistan to witness the swearing-in of President Zardari in "
    "September 2008, and held talks with him. The Haqqani Network, like the Taliban, keeps "
    "its freedom of movement in the border areas. Jalaluddin Haqqani founded the network in "
    "the 1970s."
)


@pytest.mark.parametrize(
    ("question", "first_word"),
    [
        ("Who was Zardari's predecessor as President of Pakistan?", "predecessor"),
        ("Who leads the Haqqani Network?", "leads"),
        ("Who was the founder of the network?", "founder"),
        ("Who is the mayor of Kabul?", "mayor"),
    ],
)
def test_a_who_question_asks_for_a_role_or_what_someone_does(question, first_word):
    kind = asked_relation(question)
    assert kind is not None and kind[0] == first_word


@pytest.mark.parametrize(
    "question",
    [
        "Which rival country is Pakistan trying to counter?",  # the kind of the answer
        "Who was appointed by President Truman?",  # a title before a name
        "What does the reviewer's brother love making?",  # no "who": a relation, not the one asked
        "Who is the author of the review?",  # a review's author is its writer, never worded
        "Who won the cup in 1998?",  # an event: worded too many ways to hold against a passage
        "Who founded the network?",  # the same
        "Who was named defense minister?",  # no relation of the lexicon
    ],
)
def test_other_questions_ask_for_no_relation_held_against_the_answer(question):
    assert asked_relation(question) is None


def cited(text: str) -> tuple[int, int]:
    """The sentence the answerer cites for the span ``text`` of the passage."""
    start = PASSAGE.index(text)
    return sentence_of(PASSAGE, start, start + len(text))


def test_only_the_answers_own_sentence_counts():
    question = "Who was the founder of the network?"
    assert words_relation(question, PASSAGE, cited("Jalaluddin Haqqani"))  # "founded"
    assert not words_relation(question, PASSAGE, cited("Taliban"))  # the sentence before
    assert words_relation("Who won it?", PASSAGE, cited("Taliban"))  # asks for none


def test_table_rows_are_not_held_to_it():
    rows = "Team: Orca; Leader: Keel.\n\nTeam: Lynx; Leader: Lind."
    question = "Who is the coach of Lynx?"
    assert asked_relation(question) is not None
    assert words_relation(question, rows, (rows.index("Lind"), rows.index("Lind") + 4))


# -- the real reader behind it ----------------------------------------------------------------
@pytest.fixture(scope="module")
def answerer() -> ExtractiveAnswerer:
    model = ReaderModel()
    return ExtractiveAnswerer(model, doc_text=lambda _source: PASSAGE, threshold=model.threshold)


def ask(answerer: ExtractiveAnswerer, question: str):
    return answerer(question, [Document(PASSAGE, metadata={"source": "relations.txt", "start": 0})])


def test_the_real_reader_answers_a_relation_its_sentence_words(answerer):
    reply = ask(answerer, "Who was the founder of the Haqqani Network?")
    assert not reply.abstained and "Jalaluddin Haqqani" in reply.text


def test_a_relation_no_sentence_words_is_refused_once_read(answerer):
    reply = ask(answerer, "Who was Zardari's predecessor as President of Pakistan?")
    # the reader reads a name over its bar (Karzai): the check, not the threshold, refuses it
    assert reply.abstained and not reply.citations
    assert reply.answerer == RELATION_ABSTAINER and reply.score > answerer.threshold
