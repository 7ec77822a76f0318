"""Questions that count a table's rows, answered with the count and cited by the rows."""

from __future__ import annotations

import pytest

from rag.read import TABLE_ANSWERER
from rag.read.table_counts import asks_count, counted_rows
from rag.read.table_ops import answer_cell
from tests.read.test_table_ops import RESULTS, ask_results, table

MEDALS = (
    '"Rank","Nation","Gold","Silver","Bronze"\n'
    '"1","Norway","3","1","0"\n'
    '"2","Kenya","2","0","1"\n'
    '"3","Chile","1","2","2"\n'
    '"4","Peru","0","1","1"\n'
    '"Total","","6","4","4"\n'
)
MILE = (
    '"Runner","Club","Time"\n'
    '"Ines Aro","Harriers","1:54.80"\n'
    '"Jon Beck","Striders","1:55.62"\n'
    '"Kai Cole","Harriers","1:56.10"\n'
    '"Lea Dunn","Harriers","2:01.45"\n'
)


def count(question: str, csv: str = RESULTS) -> int | None:
    rows = counted_rows(question, table(csv))
    return None if rows is None else len(rows)


@pytest.mark.parametrize(
    ("question", "csv", "n"),
    [
        ("How many riders rode for Orca?", RESULTS, 2),  # the rows whose cells name Orca
        ("What is the number of riders on team Falcon?", RESULTS, 2),
        ("How many riders scored more than 15 points?", RESULTS, 3),  # a bound on a column
        ("How many riders scored at least 20 points?", RESULTS, 2),
        ("How many riders are listed?", RESULTS, 5),  # every row
        ("How many nations are listed?", MEDALS, 4),  # every row but the total
        ("How many nations won at least 1 bronze?", MEDALS, 3),  # and not the total row
        ("How many runners finished under 1:56?", MILE, 2),  # a bound of time
        ("How many Harriers runners ran faster than 2:00?", MILE, 2),  # a bound and a name
        ("How many runners have a time below the 1:56 mark?", MILE, 2),
        ("What is the total of runners under 1:56?", MILE, 2),
    ],
)
def test_the_rows_a_question_counts(question, csv, n):
    assert count(question, csv) == n


@pytest.mark.parametrize(
    "question",
    [
        "How many points did Dora Lind score?",  # a cell of one row, not a count
        "How many laps did Emil Sorn finish?",
        "How many more points did Ada Varga score than Bruno Keel?",  # arithmetic
        "What is the average number of points?",
        "How many riders did not finish all 25 laps?",  # the complement: the reader's
        "How many riders came from Mars?",  # no cell names Mars
        "Which team has the most number of riders?",  # a superlative, not a count
        "How many riders finished with more than 99 points?",  # no row meets it: no "0"
    ],
)
def test_what_a_count_cannot_answer_is_left_to_the_reader(question):
    assert count(question) is None


def test_a_count_is_no_cell_of_one_row():
    question = "How many riders scored more than 20 points?"  # one row meets the bound
    assert asks_count(question) and count(question) == 1
    assert answer_cell("Which rider scored more than 20 points?", table(RESULTS)) is not None


def test_the_count_is_cited_by_the_rows_it_counted(make_corpus, embedder):
    reply, text = ask_results(make_corpus, embedder, "How many riders rode for team Orca?")
    assert reply.text == "2 [1] [2]" and not reply.abstained
    assert reply.answerer == TABLE_ANSWERER and reply.confidence is None
    assert [c.location for c in reply.citations] == ["row 3", "row 6"]
    for c in reply.citations:
        assert c.source == "results.csv" and c.quote == text[c.start : c.end]
        assert "Team: Orca" in c.quote and c.quote.startswith("Place: ")
