"""Questions about a table as a whole: the row with the most, the first or last, the next.

"Which rider has the most points?", "Who is the last athlete?", "Who came next after Turkey?"
ask what no single row says: the answer is one cell, but which row holds it depends on the
other rows. The span reader reads a few rows at a time and cannot compare them (README "Reader
v2 vs v3": 0.10 of WikiTableQuestions' cell questions answered over a folder of CSVs). Here
the whole table is read as the loaders wrote it (one ``Header: value; Header: value.`` line per
row, :func:`rag.convert.office.row_line`) and the question is mapped onto three operations,
as table parsers such as TAPAS do with their aggregation heads, but by its words:

- a superlative ("most", "longest", "fewest") over the numeric column the question names;
- an ordinal ("first", "last", "top"), in the table's own order;
- a neighbour ("after", "next", "before", "previous") of the row the question names.

Rows the question narrows to ("the first ship launched in 1929": the rows whose cells hold
"1929") are the ones compared. The answer is the cell of the column the question asks for
("which *rider*", else the row's first text column), and it is a quote: the citation is its
row. A question that maps onto none of them is left to the reader.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from langchain_core.documents import Document

from rag.read.tables import row_lines, sub_document
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
_OPERATORS = _OPERATIONS | {"right", "immediately"}
#: Column names that count places, where 1 is the first.
_RANK_STEMS = frozenset(stem(w) for w in ["rank", "place", "pos", "position", "no", "seed"])
#: A column is numeric when at least this share of its filled cells hold a number.
NUMERIC_SHARE = 0.7
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
_CLOCK = re.compile(r"^(\d+):(\d\d(?:\.\d+)?)")
#: "When ...", "what year ...", "what date ...": the answer is in a column of dates.
_WHEN = re.compile(r"^\W*(?:when\b|(?:what|which)\s+(?:year|date|day|month|season)\b)", re.I)
_YEAR = re.compile(r"\b(?:1[5-9]|20)\d\d\b")
_DATE_STEMS = frozenset({"date", "year", "day", "month", "season", "when"})
#: "How many ...", "how much ...": a count or a sum, not a cell of the table.
_COUNT = re.compile(r"^\W*how\s+(?:many|much)\b", re.IGNORECASE)
#: "which rider", "what year built": the words after the question word name the column.
_TARGET = re.compile(r"\b(?:which|what)\s+((?:\w+\s+){0,2}\w+)", re.IGNORECASE)


@dataclass(frozen=True)
class Table:
    """A document's table: its header names and each row's cells by header."""

    headers: tuple[str, ...]
    rows: tuple[dict[str, str], ...]


@dataclass(frozen=True)
class Cell:
    """The answer: ``header``'s cell of row ``row`` (an index into :attr:`Table.rows`)."""

    row: int
    header: str


def parse_table(docs: Sequence[Document]) -> tuple[Table, list[tuple[Document, int, int]]] | None:
    """The table ``docs`` (a document's passages, in order) hold, and where each row is.

    The header names are those of the lines that are rows beyond doubt
    (:func:`rag.read.tables.row_lines`); then every line that starts with one of them is a
    row, its cells cut where a known header follows, so that a value holding "; " ("premiered
    Copenhagen; Danish Radio ...") neither hides its row nor splits its cell.
    """
    headers: dict[str, None] = {}
    for doc in docs:
        for start, end in row_lines(doc.page_content):
            for part in doc.page_content[start:end].split("; "):
                headers.setdefault(part.partition(": ")[0])
    if not headers:
        return None
    names = "|".join(re.escape(h) for h in sorted(headers, key=len, reverse=True))
    line = re.compile(rf"^(?:{names}): [^\n]*", re.MULTILINE)
    cut = re.compile(rf"; (?=(?:{names}): )")
    rows: list[dict[str, str]] = []
    places: list[tuple[Document, int, int]] = []
    for doc in docs:
        for found in line.finditer(doc.page_content):
            text = found.group().rstrip()
            text = text[:-1] if text.endswith(".") else text
            rows.append(dict(part.partition(": ")[::2] for part in cut.split(text)))
            places.append((doc, found.start(), found.start() + len(found.group().rstrip())))
    if len(rows) < 2:
        return None
    return Table(tuple(headers), tuple(rows)), places


def number(cell: str) -> float | None:
    """The cell's first number; a clock time ("1:02.5") in its smallest unit."""
    clock = _CLOCK.match(cell.strip())
    if clock:
        return 60 * float(clock.group(1)) + float(clock.group(2))
    found = _NUMBER.search(cell)
    return float(found.group().replace(",", "")) if found else None


def compares_rows(question: str) -> bool:
    """Whether ``question`` says most, least, first, last, after or before, and is no count."""
    return bool(set(words(question)) & _OPERATIONS) and not _COUNT.match(question)


def answer_cell(question: str, table: Table) -> Cell | None:
    """The cell ``question`` asks for when it compares rows; None when it does not."""
    if not compares_rows(question):
        return None
    asked = [w for w in words(question) if w not in STOP_WORDS and w not in QUESTION_WORDS]
    said = set(asked)
    header_stems = {h: {stem(w) for w in words(h)} for h in table.headers}
    all_header_stems = set().union(*header_stems.values())
    terms = {stem(w) for w in asked if w not in _OPERATORS} - all_header_stems
    target = _target(question, table, header_stems)
    if _WHEN.match(question):  # "when ...", "what year ...": a date column or nothing
        dated = [h for h in table.headers if header_stems[h] & _DATE_STEMS]
        dated = dated or [h for h in table.headers if _share_matching(table, h, _YEAR) >= 0.7]
        target = dated[0] if dated else None
        if target is None:
            return None
    if said & (_NEXT | _PREVIOUS):
        anchor = _anchor(table, terms)
        if anchor is None:
            return None
        row, header = anchor
        row += 1 if said & _NEXT else -1
        if not 0 <= row < len(table.rows):
            return None
        if target is None:  # "who came after X?": X's column when it holds names
            target = header if not _numeric(table, header) else _text_column(table, set())
        return _cell(table, row, target)
    rows, matched = _narrowed(table, terms)
    ranked = _ranked_by(asked, table, header_stems, exclude=target)
    if ranked is not None and not said & (_MOST | _LEAST):  # "last place", "top in points"
        # first place is rank 1, the smallest; top in points is the largest
        row = _extreme(table, rows, ranked, bool(said & _LAST) == _is_rank(table, ranked))
        if row is not None:
            return _cell(table, row, target or _text_column(table, exclude={ranked, *matched}))
    if said & (_MOST | _LEAST):
        column = _named_numeric(table, header_stems, {stem(w) for w in asked}, exclude=target)
        row = None if column is None else _extreme(table, rows, column, bool(said & _MOST))
        if column is None or row is None:
            return None
        return _cell(table, row, target or _text_column(table, exclude={column, *matched}))
    if target is None and not {stem(w) for w in asked} & all_header_stems:
        return None  # "who was the first person on the moon?" names no column of the table
    row = rows[0] if said & _FIRST else rows[-1]
    return _cell(table, row, target or _text_column(table, exclude=matched))


def _extreme(table: Table, rows: list[int], column: str, highest: bool) -> int | None:
    """Of ``rows``, the one with the highest (or lowest) number in ``column``; ties: the first."""
    valued = [(v, r) for r in rows if (v := number(table.rows[r].get(column, ""))) is not None]
    if not valued:
        return None
    return (max if highest else min)(valued, key=lambda t: t[0])[1]


def _ranked_by(
    asked: list[str], table: Table, header_stems: dict[str, set[str]], exclude: str | None
) -> str | None:
    """The numeric column an ordinal names ("last *place*", "top *rank*"), if any."""
    for word, following in itertools.pairwise(asked):
        if word not in _FIRST | _LAST:
            continue
        for header in table.headers:
            named = header != exclude and stem(following) in header_stems[header]
            if named and _numeric(table, header):
                return header
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
    named = {stem(w) for w in words(found.group(1))} - {stem(w) for w in _OPERATORS}
    best = max(table.headers, key=lambda h: len(header_stems[h] & named))
    if header_stems[best] & named:
        return best
    # "which rifle ...?" over a column "Model" of "Rifle 1889", "Carbine 1893": the column
    # most of whose cells name the kind
    share = {h: _share(table, h, named) for h in table.headers}
    best = max(table.headers, key=lambda h: share[h])
    return best if share[best] >= 0.5 else None


def _share_matching(table: Table, header: str, pattern: re.Pattern[str]) -> float:
    cells = [c[header] for c in table.rows if c.get(header, "").strip()]
    return sum(bool(pattern.search(c)) for c in cells) / len(cells) if cells else 0.0


def _share(table: Table, header: str, stems: set[str]) -> float:
    cells = [c[header] for c in table.rows if c.get(header, "").strip()]
    hits = sum(bool(stems & {stem(w) for w in words(c)}) for c in cells)
    return hits / len(cells) if cells else 0.0


def _anchor(table: Table, terms: set[str]) -> tuple[int, str] | None:
    """The row and column of the cell the question names ("after Alexander Krein").

    The cell holding most of the question's own terms, when they are at least half its words:
    "Roman" does not name the row "Roman Catholic Diocese of Lyon".
    """
    best, where = 0, None
    for r, cells in enumerate(table.rows):
        for header, value in cells.items():
            stems = {stem(w) for w in words(value)}
            hits = len(terms & stems)
            if hits > best and 2 * hits >= len(stems):
                best, where = hits, (r, header)
    return where


def _narrowed(table: Table, terms: set[str]) -> tuple[list[int], set[str]]:
    """The rows holding most of the question's own terms (all rows when none holds any).

    Also returns the columns where those terms were found: a condition, not the answer.
    """
    scores = []
    for cells in table.rows:
        scores.append(sum(len(terms & {stem(w) for w in words(v)}) for v in cells.values()))
    top = max(scores)
    if top == 0:
        return list(range(len(table.rows))), set()
    rows = [r for r, s in enumerate(scores) if s == top]
    matched = {
        h for r in rows for h, v in table.rows[r].items() if terms & {stem(w) for w in words(v)}
    }
    return rows, matched


def _is_rank(table: Table, header: str) -> bool:
    """Whether a column counts places ("Rank", "Pos": 1, 2, 3 ...): the first is the smallest."""
    if not {stem(w) for w in words(header)} & _RANK_STEMS:
        return False
    values = [v for c in table.rows if (v := number(c.get(header, ""))) is not None]
    return bool(values) and min(values) == 1 and all(v == int(v) for v in values)


def _numeric(table: Table, header: str) -> bool:
    cells = [c[header] for c in table.rows if c.get(header, "").strip()]
    return bool(cells) and sum(number(c) is not None for c in cells) >= NUMERIC_SHARE * len(cells)


def _named_numeric(
    table: Table, header_stems: dict[str, set[str]], asked: set[str], exclude: str | None
) -> str | None:
    """The numeric column whose header shares most words with the question."""
    scored = [
        (len(header_stems[h] & asked), h)
        for h in table.headers
        if h != exclude and _numeric(table, h)
    ]
    scored = [(n, h) for n, h in scored if n > 0]
    return max(scored, key=lambda t: t[0])[1] if scored else None


def _text_column(table: Table, exclude: set[str]) -> str | None:
    """The first column that holds names rather than numbers."""
    for header in table.headers:
        if header not in exclude and not _numeric(table, header):
            return header
    return None


def whole_table_cell(
    question: str,
    passages: Sequence[Document],
    document: Callable[[str], Sequence[Document]],
) -> tuple[Document, int, int] | None:
    """The row and the cell (offsets in the row) of a question about a whole table.

    Only when the best-ranked passage holds table rows: that passage's document is read
    whole (``document``: its passages in order), and :func:`answer_cell` says which cell, or
    None when the question compares no rows.
    """
    if not passages or not compares_rows(question) or not row_lines(passages[0].page_content):
        return None
    parsed = parse_table(document(passages[0].metadata["source"]))
    if parsed is None:
        return None
    table, places = parsed
    cell = answer_cell(question, table)
    if cell is None:
        return None
    doc, start, end = places[cell.row]
    row = sub_document(doc, start, end)
    value = table.rows[cell.row][cell.header]
    key = f"{cell.header}: "
    at = 0 if row.page_content.startswith(key) else row.page_content.find(f"; {key}") + 2
    at += len(key)
    return row, at, at + len(value)
