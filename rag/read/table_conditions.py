"""The one row of a table that meets a numeric condition the question states.

"Which year were there less than 672 contestants?", "tell me the only country to score below
38 total points": the question gives a bound over a column of numbers it names, and the answer
is a cell of the row that meets it. "Who was the only rider to score 9 points?" gives the value
itself (:func:`equal_rows`). When several rows meet it ("name a player whose average
was above 25"), the question has many answers and the table step answers none of them: the
reader's span, or an abstention, is left to say what the rows say.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable

from rag.read.table_parse import (
    YEAR,
    Cell,
    Table,
    cell_of,
    cell_value,
    named_numeric,
    number,
    text_column,
    time_column,
)
from rag.read.table_words import FIRST, LAST, SUPERLATIVES
from rag.text.words import stem, words

#: A number, or a clock time ("1:56", "1:10:00", read by :func:`number` in its smallest unit).
_NUM = r"\$?\d[\d,]*(?:\.\d+)?(?::\d\d(?:\.\d+)?)*"
#: A bound and its test: "less than 672", "above 25", "at least 600", "over $550,000".
_BOUNDS: tuple[tuple[str, Callable[[float, float], bool]], ...] = (
    (r"(?:more|greater|higher|larger|bigger|longer|taller|heavier|older)\s+than", operator.gt),
    (r"(?:less|fewer|lower|smaller|shorter|lighter|younger)\s+(?:than|then)", operator.lt),
    (r"(?:above|over|exceeding)", operator.gt),
    (r"(?:below|under)", operator.lt),
    (r"at\s+least", operator.ge),
    (r"at\s+most|no\s+more\s+than", operator.le),
    (r"(?:faster|quicker)\s+than", operator.lt),  # of a time: "faster than 2:00"
    (r"slower\s+than", operator.gt),
)
_CONDITION = re.compile(
    "|".join(
        rf"\b(?P<b{i}>{words_})\s+(?:the\s+)?(?P<n{i}>{_NUM})"
        for i, (words_, _) in enumerate(_BOUNDS)
    ),
    re.IGNORECASE,
)


#: Numbers a question spells out ("the only coach to serve for *six* years").
# fmt: off
_SPELLED = {w: i for i, w in enumerate(["zero", "one", "two", "three", "four", "five", "six",
                                        "seven", "eight", "nine", "ten", "eleven", "twelve"])}
# fmt: on
#: A value and the word after it, which may name its column: "9 points", "one gold medal".
_EQUAL = re.compile(
    rf"(?<![\w.,:$])(?P<n>\d[\d,]*(?:\.\d+)?|{'|'.join(_SPELLED)})\s+(?P<w>[a-z]+)", re.I
)


#: A column's word and the value after it: "place 6th", "in week 13", "number 6 grid".
_NAMED_VALUE = re.compile(r"\b(?P<w>[a-z]+)\s+(?P<n>\d+)(?:st|nd|rd|th)?\b(?![.,:]\d)", re.I)


def equal_rows(
    question: str, table: Table, header_stems: dict[str, set[str]], target: str | None
) -> tuple[list[int], set[str]] | None:
    """The rows holding every value the question gives a numeric column ("had 142 *points*").

    A value is a number followed by a word of its column's name ("score 9 points", "160
    laps", "one gold medal"); a year is no such value, nor is a bound ("more than 20
    points": :func:`bounded_rows`). None when the question gives none; also returns the
    columns given, which hold no answer.
    """
    tests: dict[str, float] = {}
    unbound = without_bound(question)
    for found in [*_EQUAL.finditer(unbound), *_NAMED_VALUE.finditer(unbound)]:
        said = found.group("n").lower()
        value = float(_SPELLED[said]) if said in _SPELLED else number(said)
        if value is None or YEAR.fullmatch(said):
            continue
        named = stem(found.group("w").lower())
        columns = [h for h in table.headers if h != target and h in table.numeric
                   and h not in table.dated and named in header_stems[h]]  # fmt: skip
        if len(columns) == 1:
            tests[columns[0]] = value
    if not tests:
        return None
    rows = [r for r in range(len(table.rows))
            if all(cell_value(table, r, h) == v for h, v in tests.items())]  # fmt: skip
    return rows, set(tests)


def gives_value(question: str) -> bool:
    """Whether the question gives a value that may name its row ("had 142 points")."""
    return any(not YEAR.fullmatch(m.group("n")) for m in _EQUAL.finditer(without_bound(question)))


def states_condition(question: str) -> bool:
    """Whether the question bounds a number or a time ("more than 20", "under 1:56")."""
    return _CONDITION.search(question) is not None


def without_bound(question: str) -> str:
    """``question`` less the bound it states: its number names no row ("more than 70,000")."""
    return _CONDITION.sub(" ", question, count=1)


def meeting(
    question: str,
    table: Table,
    header_stems: dict[str, set[str]],
    target: str | None,
) -> Cell | None:
    """``target``'s cell of the only row meeting the question's bound, or None.

    The bound applies to the numeric column the question's other words name ("672
    *contestants*", "below 38 total *points*"); a question naming none, or a bound met by
    no row or by several, or asking for more than the row ("the first year with more than 10
    wins"), maps onto nothing. Without a ``target`` the answer is the first column of names.
    """
    met = bounded_rows(question, table, header_stems, target)
    if met is None or len(met[0]) != 1:
        return None
    rows, column = met
    return cell_of(table, rows[0], target or text_column(table, {column}))


def bounded_rows(
    question: str,
    table: Table,
    header_stems: dict[str, set[str]],
    target: str | None = None,
) -> tuple[list[int], str] | None:
    """The rows meeting the question's bound, and the column it bounds; None if it states none.

    Also None when the question asks for more than the rows ("the first year with more than
    10 wins") or names no numeric column other than ``target`` for the bound.
    """
    found = _CONDITION.search(question)
    if found is None:
        return None
    i = int(found.lastgroup[1:])  # the bound's number, "n<i>", is its last group
    test = _BOUNDS[i][1]
    bound = number(found.group(f"n{i}"))
    rest = words(question[: found.start()] + " " + question[found.end() :])
    if set(rest) & (SUPERLATIVES | FIRST | LAST):
        return None  # "the first year with more than 10 wins": two steps
    asked = {stem(w) for w in rest}
    column = named_numeric(table, header_stems, asked, exclude=target)
    if column is None and ":" in found.group(f"n{i}"):  # "under 1:56": the column of times
        column = time_column(table, header_stems, target)
    if column is None or bound is None:
        return None
    rows = [
        r
        for r in range(len(table.rows))
        if (v := cell_value(table, r, column)) is not None and test(v, bound)
    ]
    return rows, column
