"""A question about a name no passage's document mentions is refused unread (rag.read.names)."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document

from rag.read.names import mentions, names_in, passages_naming, question_names


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("Who opened the Zephyr Bridge?", ["Zephyr Bridge"]),
        ("Where did Bell and Mabel live before 1880?", ["Bell", "Mabel"]),
        ("What did the University of Notre Dame build?", ["University of Notre Dame"]),
        # the first word is capitalised as the sentence's start, name or not
        ("Besides the terrain, what slowed the relief?", []),
        ("Beyonce's father is who?", []),
        ("In which Cafe was it written?", ["Cafe"]),
        # acronyms are often spelled out in the passage; lowercase queries name nothing
        ("When did the USSR fall?", []),
        ("who sang the national anthem at the super bowl", []),
    ],
)
def test_the_names_a_question_names(question, names):
    assert question_names(question) == names


def test_every_name_of_a_text_as_training_swaps_them():
    # repeats kept, the first word too; question words and "the" after them left out
    text = "Paris is in France. In the Loire Valley, Paris Basin towns; Paris."
    assert names_in(text) == ["Paris", "France", "the Loire Valley", "Paris Basin", "Paris"]
    assert question_names("Is Paris in the Loire Valley?") == ["Paris", "Loire Valley"]


@pytest.mark.parametrize(
    ("text", "name", "found"),
    [
        ("the physicist nikola tesla", "Tesla", True),
        ("tesla was born in smiljan", "Nikola Tesla", True),  # one word of the name is enough
        ("chinese media reported", "China", True),  # by its first four letters
        ("the torch reached bangkok", "Bankok", True),  # a close spelling
        ("the torch reached bangkok", "Jakarta", False),
        ("the bridge was opened", "University of the Arts", False),  # connectives do not count
        ("the lomar river", "Orinoco River", True),  # any word, even a common one: a weak check
    ],
)
def test_a_document_mentions_a_name(text, name, found):
    assert mentions(set(text.split()), name) is found


def test_passages_are_kept_by_their_document_name_title_heading_or_a_table():
    docs = [
        Document("It opened in 1932.", metadata={"source": "zephyr.txt"}),
        Document("It opened in 1932.", metadata={"source": "b.txt", "heading": "The Zephyr"}),
        Document("It was widened.", metadata={"source": "c.txt"}),
        Document("Zephyr Bridge spans the river.", metadata={"source": "c.txt"}),  # same document
        Document("Avery reopened it.", metadata={"source": "d.txt"}),
        Document("Name: Crane; Role: mayor\nName: Avery; Role: governor"),  # table rows
        Document("It opened in 1932.", metadata={"source": "a.txt", "title": "Zephyr Bridge"}),
    ]
    kept = passages_naming("Who widened the Zephyr Bridge?", docs)
    assert kept == [*docs[:4], *docs[5:]]
    assert passages_naming("Who widened the bridge?", docs) is None
    assert passages_naming("Who widened the Orinoco Dam?", docs[4:5]) == []
