"""A question about a year no passage mentions is refused unread (rag.read.years)."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document

from rag.read.years import dated_passages, mentions, question_years


@pytest.mark.parametrize(
    ("question", "years"),
    [
        ("Who opened the bridge in 1932?", ["1932"]),
        ("What happened in 1998 and in 2003, and again in 1998?", ["1998", "2003"]),
        # a bound or a range: the answer's passage may name another year
        ("What did Pakistan do after 2001?", []),
        ("Who ruled between 1914 and 1918?", []),
        ("What was built from 1990 to 2000?", []),
        ("What was built from 1990?", ["1990"]),
        # a decade, a sum of money, a part of a longer number
        ("How many settlers lived there in the 1950's?", []),
        ("What cost $2000?", []),
        ("What is 1,998 plus 2?", []),
        ("What was the 2004/05 season's top score?", ["2004"]),
    ],
)
def test_the_years_a_question_is_about(question, years):
    assert question_years(question) == years


@pytest.mark.parametrize(
    ("text", "year", "found"),
    [
        ("the war (1914-1918) ended", "1918", True),
        ("in the 1990s", "1990", True),  # a passage may mean the decade
        ("1,500 men marched", "1500", True),  # a question's "1500" may be a quantity
        ("call 11998 now", "1998", False),
        ("it cost $1998", "1998", False),
        ("pi is 3.1998", "1998", False),
    ],
)
def test_a_passage_mentions_a_year(text, year, found):
    assert mentions(text, year) is found


def test_passages_are_kept_by_their_text_title_heading_or_an_undated_table():
    docs = [
        Document("Crane opened it.", metadata={"title": "Bridges of 1932"}),
        Document("Crane opened it.", metadata={"heading": "1932: the opening"}),
        Document("Crane opened the bridge in 1932."),
        Document("Avery reopened it in 1958."),
        Document("Name: Crane; Role: mayor\nName: Avery; Role: governor"),  # no year at all
        Document("Year: 1958; Event: reopened\nYear: 1960; Event: painted"),  # no 1932
    ]
    kept = dated_passages("Who opened the bridge in 1932?", docs)
    assert kept == [*docs[:3], docs[4]]
    assert dated_passages("Who opened the bridge?", docs) is None
    assert dated_passages("Who opened the bridge in 1941?", docs[2:4]) == []
