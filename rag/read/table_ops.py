"""Questions about a table as a whole: the row with the most, the first or last, the next.

"Which rider has the most points?", "Who is the last athlete?", "Who came next after Turkey?"
ask what no single row says: the answer is one cell, but which row holds it depends on the
other rows. The span reader reads a few rows at a time and cannot compare them (README "Reader
v2 vs v3": 0.10 of WikiTableQuestions' cell questions answered over a folder of CSVs). Here
the whole table is read as the loaders wrote it (one ``Header: value; Header: value.`` line per
row, :func:`rag.convert.office.row_line`) and the question is mapped onto three operations,
as table parsers such as TAPAS do with their aggregation heads, but by its words:

- a superlative ("most", "longest", "fewest") over the numeric column the question names;
- an ordinal ("first", "last", "top"), in the table's own order, or over a column it names
  ("last *place*") or its dates ("launched earliest");
- a neighbour ("after", "next", "before", "previous") of the row the question names.

Rows the question narrows to ("the first ship launched in 1929": the rows whose cells hold
"1929") are the ones compared. The answer is the cell of the column the question asks for
("which *rider*", a date column for "when", else the first column of names), and it is a
quote: the citation is its row. A question that maps onto none of them, counts, and
questions of two steps are left to the reader; so is a document that is more than one table.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from rag.read.table_parse import YEAR, Table, number
from rag.text.words import QUESTION_WORDS, STOP_WORDS, stem, words

# fmt: off
_MOST = frozenset(["most", "highest", "largest", "biggest", "greatest", "longest", "tallest",
                   "heaviest", "maximum", "oldest"])
_LEAST = frozenset(["least", "lowest", "smallest", "fewest", "shortest", "minimum", "youngest"])
_FIRST = frozenset(["first", "top", "earliest"])
_LAST = frozenset(["last", "bottom", "latest", "final"])
_NEXT = frozenset(["after", "next", "following"])
_PREVIOUS = frozenset(["before", "previous", "preceding", "prior"])
# fmt: on
_OPERATIONS = _MOST | _LEAST | _FIRST | _LAST | _NEXT | _PREVIOUS
#: Comparatives of "X or Y?": more of a named column, less of it, or sooner in order or time.
_MORE = (
    frozenset(
        ["more", "higher", "larger", "bigger", "greater", "longer", "taller", "heavier", "older"]
    )
    | _MOST
)
_LESS = frozenset(["less", "fewer", "lower", "smaller", "shorter", "lighter", "younger"]) | _LEAST
_SOONER = frozenset(["first", "earlier", "sooner", "earliest"])
_LATER = frozenset(["later", "last", "latest"])
#: "who was faster": the lower time, in the column whose cells are clock times or named time.
_FASTER = frozenset(["faster", "quicker"])
_SLOWER = frozenset(["slower"])
_COMPARATIVES = _MORE | _LESS | _SOONER | _LATER | _FASTER | _SLOWER
_OR = re.compile(r"\bor\b", re.IGNORECASE)
_TOKEN = re.compile(r"\w+")
#: Columns of places, where higher is the smaller number ("peak position", "rank").
_PLACE_STEMS = frozenset(stem(w) for w in ["rank", "place", "position", "peak", "seed"])
#: Superlatives of age, reversed over a column of years (the oldest has the smallest year).
_AGES = frozenset(["oldest", "youngest"])
#: Ordinals that ask for a date ("which competition was played earliest?").
_DATED_ORDINALS = frozenset(["earliest", "latest"])
_OPERATORS = _OPERATIONS | _COMPARATIVES | {"right", "immediately"}
#: Column names that count places, where 1 is the first.
_RANK_STEMS = frozenset(stem(w) for w in ["rank", "place", "pos", "position", "no", "seed"])
#: "When ...", "what year ...", "what date ...": the answer is in a column of dates.
_WHEN = re.compile(r"^\W*(?:when\b|(?:what|which)\s+(?:year|date|day|month|season)\b)", re.I)
_DATE_STEMS = frozenset({"date", "year", "day", "month", "season", "when"})
#: "How many ...", "how much ...": a count or a sum, not a cell of the table.
_COUNT = re.compile(r"^\W*how\s+(?:many|much)\b", re.IGNORECASE)
#: "which rider", "what year built": the words after the question word name the column.
_TARGET = re.compile(r"\b(?:which|what)\s+((?:\w+\s+){0,2}\w+)", re.IGNORECASE)


@dataclass(frozen=True)
class Cell:
    """The answer: ``header``'s cell of row ``row`` (an index into :attr:`Table.rows`)."""

    row: int
    header: str


def compares_rows(question: str) -> bool:
    """Whether ``question`` compares rows, and is no count.

    It says most, least, first, last, after or before, or it asks "X or Y" with a
    comparative ("which is larger, X or Y?").
    """
    said = set(words(question))
    either = "or" in said and bool(said & _COMPARATIVES)
    return bool(said & _OPERATIONS or either) and not _COUNT.match(question)


def answer_cell(question: str, table: Table) -> Cell | None:
    """The cell ``question`` asks for when it compares rows; None when it does not."""
    if not compares_rows(question):
        return None
    asked = [w for w in words(question) if w not in STOP_WORDS and w not in QUESTION_WORDS]
    said = set(asked)
    header_stems = {h: {stem(w) for w in words(h)} for h in table.headers}
    all_header_stems = set().union(*header_stems.values())
    asked_stems = {stem(w) for w in asked}
    terms = {stem(w) for w in asked if w not in _OPERATORS} - all_header_stems
    named = _either(question, table, header_stems)
    if named is not None:  # "who was faster, Oyama or Sunde?": one of the two, or none
        a, b, column = named
        winner = None if "not" in said else _compared(table, header_stems, asked_stems, said,
                                                       column, a, b)  # fmt: skip
        return None if winner is None else _cell(table, winner, column)
    if not said & _OPERATIONS:
        return None
    target = _target(question, table, header_stems)
    dated = [h for h in table.headers if header_stems[h] & _DATE_STEMS]
    dated += [h for h in table.headers if h not in dated and h in table.dated]
    if _WHEN.match(question):  # "when ...", "what year ...": a date column or nothing
        if not dated:
            return None
        target = dated[0]
    if said & (_NEXT | _PREVIOUS):
        if said & (_MOST | _LEAST | _FIRST | _LAST):
            return None  # "the most points after 2010": more than one step
        return _neighbour(table, terms, target, after=bool(said & _NEXT))
    rows, matched = _narrowed(table, terms)
    ranked = _ranked_by(asked, table, header_stems, exclude=target)
    if ranked is None and said & _DATED_ORDINALS and dated and dated[0] != target:
        ranked = (dated[0], next(iter(said & _DATED_ORDINALS)))  # "played earliest"
    if ranked is not None and not said & (_MOST | _LEAST):  # "last place", "top in points"
        column, word = ranked
        highest = _ordinal_is_highest(word, table, column)
        row = None if highest is None else _extreme(table, rows, column, highest)
        if row is not None:
            return _cell(table, row, target or _text_column(table, exclude={column, *matched}))
    if said & (_MOST | _LEAST):
        column = _named_numeric(table, header_stems, asked_stems, exclude=target)
        if column is None:
            return None
        highest = bool(said & _MOST)
        if said & _AGES and column in table.dated:  # the oldest founded: the earliest year
            highest = not highest
        row = _extreme(table, rows, column, highest)
        if row is None:
            return None
        return _cell(table, row, target or _text_column(table, exclude={column, *matched}))
    if target is None and not asked_stems & all_header_stems:
        return None  # "who was the first person on the moon?" names no column of the table
    row = rows[0] if said & _FIRST else rows[-1]
    return _cell(table, row, target or _text_column(table, exclude=matched))


def _either(
    question: str, table: Table, header_stems: dict[str, set[str]]
) -> tuple[int, int, str] | None:
    """The two rows "X or Y" names, with the column naming them; None unless it asks that.

    The question must hold a comparative, and each side name a cell (:func:`_side_row`) of
    the same column in two different rows. Which of them wins is :func:`_compared`'s to say.
    """
    said = words(question)
    if "or" not in said or not set(said) & _COMPARATIVES:
        return None
    parts = _OR.split(question, maxsplit=1)
    if len(parts) != 2:
        return None
    left, right = re.split(r"[,:;]", parts[0])[-1], parts[1]
    headers = set().union(*header_stems.values())
    sides = [_side_row(table, side, headers) for side in (left, right)]
    if sides[0] is None or sides[1] is None:
        return None
    (a, column), (b, other) = sides
    return (a, b, column) if a != b and column == other else None


def _side_row(table: Table, side: str, headers: set[str]) -> tuple[int, str] | None:
    """The row and column of the one cell that one side of "X or Y" names.

    Words of one character count ("January 8"). The cell holding most of the side's terms,
    at least half of them or of its own words ("Rome" in "Rome receive more votes"), and no
    other cell as many in as few words; else None.
    """
    said = [w for w in _TOKEN.findall(side.lower()) if w not in STOP_WORDS | QUESTION_WORDS]
    terms = {stem(w) for w in said if w not in _OPERATORS} - headers
    scored = []
    for r, cells in enumerate(table.rows):
        for header, value in cells.items():
            tokens = {stem(w) for w in _TOKEN.findall(value.lower())}
            if 2 * (hits := len(terms & tokens)) >= min(len(terms), len(tokens)) > 0:
                scored.append((hits, -len(tokens), r, header))
    if not scored:
        return None
    best = max(scored)
    return best[2:] if sum(s[:2] == best[:2] for s in scored) == 1 else None


def _compared(
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
    if said & (_MORE | _LESS | _FASTER | _SLOWER):
        if said & (_FASTER | _SLOWER):
            timed = [h for h in table.numeric if "time" in header_stems[h] and h != anchor]
            column, highest = (timed[0] if len(timed) == 1 else None), bool(said & _SLOWER)
        else:
            column = _named_numeric(table, header_stems, asked, exclude=anchor)
            highest = bool(said & _MORE)
            aged = bool(said & (_AGES | {"older", "younger"}))
            if column is None and aged:  # "which is older": the earlier year
                column = next((h for h in table.headers if h in table.dated and h != anchor), None)
            if column is not None and aged:
                highest = highest != (column in table.dated)
        if column is None:
            return None
        if header_stems[column] & _PLACE_STEMS:  # "peaked higher": the smaller chart position
            highest = not highest
        values = [_value(table, r, column) for r in (a, b)]
        if None in values or values[0] == values[1]:
            return None
        return (a, b)[values.index(max(values) if highest else min(values))]  # type: ignore[type-var]
    later = bool(said & _LATER)
    dated = [h for h in table.headers if h in table.dated and h != anchor]
    years = [_value(table, r, dated[0]) for r in (a, b)] if dated else [None, None]
    if None not in years and years[0] != years[1]:
        return (a, b)[years.index(max(years) if later else min(years))]  # type: ignore[type-var]
    return max(a, b) if later else min(a, b)


def _neighbour(table: Table, terms: set[str], target: str | None, after: bool) -> Cell | None:
    """The cell of the row after (or before) the row the question names."""
    anchor = _anchor(table, terms)
    if anchor is None:
        return None
    row, header = anchor
    row += 1 if after else -1
    if not 0 <= row < len(table.rows):
        return None
    if target is None:  # "who came after X?": X's column when it holds names
        target = header if header not in table.numeric else _text_column(table, set())
    return _cell(table, row, target)


def _ordinal_is_highest(word: str, table: Table, column: str) -> bool | None:
    """Whether ``word`` ("first", "top", "last") wants the column's largest value; None: unsure.

    Places count up (first place is 1); years too (the first is the earliest); amounts are
    ranked down (the top scorer has the most), where "first" and "last" say nothing.
    """
    last = word in _LAST
    if _is_rank(table, column) or column in table.dated:
        return last
    if word in {"top", "bottom"}:
        return word == "top"
    return None


def _value(table: Table, row: int, column: str) -> float | None:
    """The number a cell is compared by: its year in a column of dates, else its first number."""
    cell = table.rows[row].get(column, "")
    if column in table.dated:
        year = YEAR.search(cell)
        return float(year.group()) if year else None
    return number(cell)


def _extreme(table: Table, rows: list[int], column: str, highest: bool) -> int | None:
    """Of ``rows``, the one with the highest (or lowest) value in ``column``; ties: the first."""
    valued = [(v, r) for r in rows if (v := _value(table, r, column)) is not None]
    if not valued:
        return None
    return (max if highest else min)(valued, key=lambda t: t[0])[1]


def _ranked_by(
    asked: list[str], table: Table, header_stems: dict[str, set[str]], exclude: str | None
) -> tuple[str, str] | None:
    """The numeric column an ordinal names ("last *place*", "top *rank*") and the ordinal."""
    for word, following in itertools.pairwise(asked):
        if word not in _FIRST | _LAST:
            continue
        for header in table.headers:
            named = header != exclude and stem(following) in header_stems[header]
            if named and header in table.numeric:
                return header, word
    return None


def _cell(table: Table, row: int, header: str | None) -> Cell | None:
    if header is None or not table.rows[row].get(header, "").strip():
        return None
    return Cell(row, header)


def _target(question: str, table: Table, header_stems: dict[str, set[str]]) -> str | None:
    """The column named right after "which"/"what" ("which rider"), if any."""
    found = _TARGET.search(question)
    if not found:
        return None
    named = {
        stem(w)
        for w in words(found.group(1))
        if w not in STOP_WORDS and w not in QUESTION_WORDS and w not in _OPERATORS
    }
    if not named:
        return None
    best = max(table.headers, key=lambda h: len(header_stems[h] & named))
    if header_stems[best] & named:
        return best
    # "which rifle ...?" over a column "Model" of "Rifle 1889", "Carbine 1893": the column
    # most of whose cells name the kind
    share = {h: _share(table, h, named) for h in table.headers}
    best = max(table.headers, key=lambda h: share[h])
    return best if share[best] >= 0.5 else None


def _share(table: Table, header: str, stems: set[str]) -> float:
    cells = [r[header] for r in table.stems if header in r]
    return sum(bool(stems & c) for c in cells) / len(cells) if cells else 0.0


def _anchor(table: Table, terms: set[str]) -> tuple[int, str] | None:
    """The row and column of the cell the question names ("after Alexander Krein").

    The cell holding most of the question's own terms, when they are at least half its words:
    "Roman" does not name the row "Roman Catholic Diocese of Lyon".
    """
    best, where = 0, None
    for r, cells in enumerate(table.stems):
        for header, stems in cells.items():
            hits = len(terms & stems)
            if hits > best and 2 * hits >= len(stems):
                best, where = hits, (r, header)
    return where


def _narrowed(table: Table, terms: set[str]) -> tuple[list[int], set[str]]:
    """The rows holding most of the question's own terms (all rows when none holds any).

    Also returns the columns where those terms were found: a condition, not the answer.
    """
    scores = [sum(len(terms & stems) for stems in cells.values()) for cells in table.stems]
    top = max(scores)
    if top == 0:
        return list(range(len(table.rows))), set()
    rows = [r for r, s in enumerate(scores) if s == top]
    matched = {h for r in rows for h, stems in table.stems[r].items() if terms & stems}
    return rows, matched


def _is_rank(table: Table, header: str) -> bool:
    """Whether a column counts places ("Rank", "Pos": 1, 2, 3 ...): the first is the smallest."""
    if not {stem(w) for w in words(header)} & _RANK_STEMS:
        return False
    values = [v for c in table.rows if (v := number(c.get(header, ""))) is not None]
    return bool(values) and min(values) == 1 and all(v == int(v) for v in values)


def _named_numeric(
    table: Table, header_stems: dict[str, set[str]], asked: set[str], exclude: str | None
) -> str | None:
    """The numeric column whose header shares most words with the question."""
    scored = [
        (len(header_stems[h] & asked), h)
        for h in table.headers
        if h != exclude and h in table.numeric
    ]
    scored = [(n, h) for n, h in scored if n > 0]
    return max(scored, key=lambda t: t[0])[1] if scored else None


def _text_column(table: Table, exclude: set[str]) -> str | None:
    """The first column that holds names rather than numbers."""
    for header in table.headers:
        if header not in exclude and header not in table.numeric:
            return header
    return None
