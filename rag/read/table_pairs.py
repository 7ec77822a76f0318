"""Questions about two rows a table question names: "X or Y?", "the same year as X".

"Who was faster, Oyama or Sunde?", "Did Athens or Rome receive more votes in round 3?" name
two rows and ask which of them a comparative prefers; "Which album was released the same year
as Mind Control?" names one row and asks for another that shares a value with it. Each side's
row is the one cell its words name (one-letter words count: "January 8"); the answer is the
winning row's naming cell, as the table writes it. What the table cannot settle (a tie, a
negation, a column it does not name) is left to the reader.
"""

from __future__ import annotations

import re

from rag.read.table_parse import (
    Cell,
    Table,
    cell_of,
    cell_value,
    fold,
    named_numeric,
    time_column,
)
from rag.read.table_words import (
    AGES,
    FASTER,
    LATER,
    LESS,
    MORE,
    OPERATORS,
    PLACE_STEMS,
    SLOWER,
)
from rag.text.words import QUESTION_WORDS, STOP_WORDS, stem, words

_OR = re.compile(r"\bor\b", re.IGNORECASE)
_UNNAMING = STOP_WORDS | QUESTION_WORDS
_TOKEN = re.compile(r"\w+")
#: "the same year as Mind Control": what comes after "as" names the row.
_SAME = re.compile(r"\bsame\b.*?\bas\b(?P<ref>.+)$", re.IGNORECASE)


def either(
    question: str, table: Table, header_stems: dict[str, set[str]]
) -> tuple[int, int, str] | None:
    """The two rows "X or Y" names, with the column naming them; None unless it asks that.

    Each side must name a cell (:func:`_side_row`) of the same column in two different rows.
    Which of them the question wants is :func:`compared`'s to say when it holds a comparative,
    else :func:`matching`'s.
    """
    if "or" not in words(question):
        return None
    parts = _OR.split(question, maxsplit=1)
    if len(parts) != 2:
        return None
    left, right = re.split(r"[,:;]", parts[0])[-1], parts[1]
    headers = set().union(*header_stems.values())
    tokens = _cell_tokens(table)
    sides = [_side_row(tokens, side, headers) for side in (left, right)]
    if sides[0] is None or sides[1] is None:
        return None
    (a, column), (b, other) = sides
    return (a, b, column) if a != b and column == other else None


def _cell_tokens(table: Table) -> list[dict[str, set[str]]]:
    """Each cell's stems, words of one letter included ("January 8"), without accents."""
    return [
        {h: {stem(w) for w in _TOKEN.findall(fold(text).lower())} for h, text in row.items()}
        for row in table.rows
    ]


def _side_row(
    cells: list[dict[str, set[str]]], side: str, headers: set[str]
) -> tuple[int, str] | None:
    """The row and column of the one cell that one side of "X or Y" names.

    Words of one character count ("January 8"). The cell holding most of the side's terms,
    at least half of them or of its own words ("Rome" in "Rome receive more votes"), and no
    other cell as many in as few words; else None.
    """
    said = [w for w in _TOKEN.findall(side.lower()) if w not in _UNNAMING]
    terms = {stem(w) for w in said if w not in OPERATORS} - headers
    scored = []
    for r, row in enumerate(cells):
        for header, tokens in row.items():
            if 2 * (hits := len(terms & tokens)) >= min(len(terms), len(tokens)) > 0:
                scored.append((hits, -len(tokens), r, header))
    if not scored:
        return None
    best = max(scored)
    return best[2:] if sum(s[:2] == best[:2] for s in scored) == 1 else None


def matching(
    table: Table, question: str, headers: set[str], column: str, a: int, b: int
) -> int | None:
    """Row ``a`` or row ``b``: the only one whose other cells hold the question's other words.

    "Which race was held in January, X or Y?": "January" is in one of the two rows. Words
    of the naming cells and of the column names do not count; when both rows or neither hold
    one, the table does not settle it.
    """
    named = table.stems[a][column] | table.stems[b][column]
    terms = {stem(w) for w in words(question) if w not in _UNNAMING}
    terms -= named | headers
    hits = [
        sum(len(terms & stems) for header, stems in table.stems[row].items() if header != column)
        for row in (a, b)
    ]
    if min(hits) > 0 or max(hits) == 0:
        return None
    return a if hits[0] else b


def compared(
    table: Table,
    header_stems: dict[str, set[str]],
    asked: set[str],
    said: set[str],
    anchor: str,
    a: int,
    b: int,
) -> int | None:
    """Row ``a`` or row ``b``, whichever the question's comparative prefers; None: unsure.

    "More"/"less" compare the numeric column the question names (a place, "peaked higher",
    counts down), "older" the years; "faster" the one column of times; "first"/"later" the
    rows' years where they differ, else their order in the table. A tie settles nothing.
    """
    if said & (MORE | LESS | FASTER | SLOWER):
        if said & (FASTER | SLOWER):
            column, highest = time_column(table, header_stems, anchor), bool(said & SLOWER)
        else:
            column = named_numeric(table, header_stems, asked, exclude=anchor)
            highest = bool(said & MORE)
            aged = bool(said & AGES)
            if column is None and aged:  # "which is older": the earlier year
                column = next((h for h in table.headers if h in table.dated and h != anchor), None)
            if column is not None and aged:
                highest = highest != (column in table.dated)
        if column is None:
            return None
        if header_stems[column] & PLACE_STEMS:  # "peaked higher": the smaller chart position
            highest = not highest
        values = [cell_value(table, r, column) for r in (a, b)]
        if None in values or values[0] == values[1]:
            return None
        return (a, b)[values.index(max(values) if highest else min(values))]  # type: ignore[type-var]
    later = bool(said & LATER)
    dated = [h for h in table.headers if h in table.dated and h != anchor]
    years = [cell_value(table, r, dated[0]) for r in (a, b)] if dated else [None, None]
    if None not in years and years[0] != years[1]:
        return (a, b)[years.index(max(years) if later else min(years))]  # type: ignore[type-var]
    return max(a, b) if later else min(a, b)


def same_as(question: str, table: Table, header_stems: dict[str, set[str]]) -> Cell | None:
    """Another row with the same value as the row the question names, in the column it names.

    "Which album was released the same year as Mind Control?": the row is named after "as"
    (:func:`_side_row`), the column by the question's other words (one column only); the
    answer is the first other row's cell in the naming column. None when nothing matches.
    """
    found = _SAME.search(question)
    if found is None:
        return None
    headers = set().union(*header_stems.values())
    named = _side_row(_cell_tokens(table), found.group("ref"), headers)
    if named is None:
        return None
    row, anchor = named
    asked = {stem(w) for w in words(question[: found.start("ref")])}
    hits = {h: len(header_stems[h] & asked) for h in table.headers if h != anchor}
    best = max(hits.values(), default=0)
    columns = [h for h, n in hits.items() if n == best]
    if best == 0 or len(columns) != 1:
        return None
    value = _same_key(table, row, columns[0])
    if value is None:
        return None
    for other in range(len(table.rows)):
        if other != row and _same_key(table, other, columns[0]) == value:
            return cell_of(table, other, anchor)
    return None


def _same_key(table: Table, row: int, column: str) -> float | str | None:
    """What two cells must share to be "the same": a year, a number, else the words."""
    if column in table.dated or column in table.numeric:
        return cell_value(table, row, column)
    cell = table.rows[row].get(column, "").strip().lower()
    return cell or None
