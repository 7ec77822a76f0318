"""A document that is one table, parsed back into its rows and cells.

The loaders write a table as one ``Header: value; Header: value.`` line per row
(:func:`rag.convert.office.row_line`); the operations over a whole table
(:mod:`rag.read.table_ops`) need the cells again, with where each sits in the document so that
an answer can be cited by its row, and which columns hold numbers or years, worked out once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.read.tables import CELL_BREAK, row_lines
from rag.text.words import stem, words

#: A column is numeric when at least this share of its filled cells hold a number.
NUMERIC_SHARE = 0.7
#: A number, not the digits of a code joined to its letters by a hyphen ("M-13", "U-209"); a
#: tied place "T4" is still 4. A minus sign may be Unicode's ("−7" to par) or a dash.
_NUMBER = re.compile(r"(?:(?<![\w.,])[-−–])?(?<![\d.,])(?<![^\W\d_]-)(?:\d[\d,]*(?:\.\d+)?|\.\d+)")
_CLOCK = re.compile(r"^(\d+):(\d\d)(?::(\d\d))?(\.\d+)?")
#: A cell that says "none" rather than holding a value: a chart table's "—" (did not chart).
_NONE = re.compile(r"^(?:[-–—−]+|n/?a|none|tbd|tba|\?)$", re.IGNORECASE)
_MINUS = str.maketrans("−–", "--")
YEAR = re.compile(r"\b(?:1[5-9]|20)\d\d\b")


@dataclass(frozen=True)
class Table:
    """A document's table: header names, each row's cells, and where each row and cell is."""

    headers: tuple[str, ...]
    rows: tuple[dict[str, str], ...]
    #: each row's ``(start, end)`` in the document's text
    spans: tuple[tuple[int, int], ...]
    #: each cell's ``(start, end)`` in the document's text, by row and header
    places: tuple[dict[str, tuple[int, int]], ...]
    #: each cell's word stems, by row and header (compared with the question's)
    stems: tuple[dict[str, frozenset[str]], ...]
    #: the columns most of whose filled cells hold a number, and those holding a year
    numeric: frozenset[str]
    dated: frozenset[str]


def parse_table(text: str) -> Table | None:
    """The table a document's ``text`` is; None unless it is one table and nothing else.

    The header names are those of the lines that are rows beyond doubt
    (:func:`rag.read.tables.row_lines`); then every line must start with one of them, and
    every row must share at least half its columns with the widest row (a workbook's second
    sheet, a heading, prose: not one table; a row whose first cells are empty, such as the
    medal winners of a results table without a rank, is still a row). Cells are cut where a
    known header follows, so that a value holding "; " ("premiered Copenhagen; Danish Radio
    ...") neither hides its row nor splits its cell. A header that appears twice in a row
    keeps its first cell.
    """
    headers: dict[str, None] = {}
    for start, end in row_lines(text):
        for part in CELL_BREAK.split(text[start:end]):
            headers.setdefault(part.partition(": ")[0])
    if not headers:
        return None
    names = "|".join(re.escape(h) for h in sorted(headers, key=len, reverse=True))
    cut = re.compile(rf"; (?=(?:{names}): )")
    rows: list[dict[str, str]] = []
    spans: list[tuple[int, int]] = []
    places: list[dict[str, tuple[int, int]]] = []
    cursor = 0
    for line in text.split("\n"):
        start, cursor = cursor, cursor + len(line) + 1
        body = line.rstrip()
        if not body:
            continue
        spans.append((start, start + len(body)))
        body = body[:-1] if body.endswith(".") else body
        cells: dict[str, str] = {}
        where: dict[str, tuple[int, int]] = {}
        at = start
        for part in cut.split(body):
            header, sep, value = part.partition(": ")
            if not sep or header not in headers:
                return None  # a line that is no row of this table
            if header not in cells:
                cells[header] = value
                where[header] = (at + len(header) + 2, at + len(part))
            at += len(part) + 2
        rows.append(cells)
        places.append(where)
    if len(rows) < 2:
        return None
    widest = max(rows, key=len)
    if any(2 * len(cells.keys() - widest.keys()) > len(cells) for cells in rows):
        return None  # rows of another table
    headers = dict.fromkeys([*widest, *headers])  # in the widest row's order
    stems = tuple(
        {h: frozenset(stem(w) for w in words(fold(v))) for h, v in r.items()} for r in rows
    )
    numeric = frozenset(h for h in headers if _mostly(rows, h, _is_number))
    dated = frozenset(h for h in headers if _mostly(rows, h, lambda c: bool(YEAR.search(c))))
    return Table(tuple(headers), tuple(rows), tuple(spans), tuple(places), stems, numeric, dated)


def fold(text: str) -> str:
    """``text`` without its accents: a question typing "Szucs" names the cell "Szűcs"."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def stems_of_headers(table: Table) -> dict[str, set[str]]:
    """Each column name's stems, accents folded: what a question's words are matched against."""
    return {h: {stem(w) for w in words(fold(h))} for h in table.headers}


def _mostly(rows: Sequence[dict[str, str]], header: str, holds: Callable[[str], bool]) -> bool:
    """Whether at least :data:`NUMERIC_SHARE` of a column's filled cells hold something."""
    cells = [v for c in rows if (v := c.get(header, "").strip()) and not _NONE.match(v)]
    return bool(cells) and sum(map(holds, cells)) >= NUMERIC_SHARE * len(cells)


#: Words before a cell's number that make it a name ("Class 461", "Re 465"), not a value.
_NAMED = re.compile(r"^\W*[^\W\d_]{2,}\s")


def _is_number(cell: str) -> bool:
    """Whether a cell holds a value: a number not named by a word before it ("Class 461").

    A date is a value ("October 6, 1974").
    """
    return number(cell) is not None and (not _NAMED.match(cell) or bool(YEAR.search(cell)))


def number(cell: str) -> float | None:
    """The cell's first number; a clock time ("1:02.5", "2:56:11.7") in its smallest unit."""
    clock = _CLOCK.match(cell.strip())
    if clock:
        parts = [float(g) for g in clock.groups()[:3] if g is not None]
        value = parts[0]
        for part in parts[1:]:
            value = 60 * value + part
        return value + float(clock.group(4) or 0)
    found = _NUMBER.search(cell)
    return float(found.group().replace(",", "").translate(_MINUS)) if found else None


@dataclass(frozen=True)
class Cell:
    """The answer: ``header``'s cell of row ``row`` (an index into :attr:`Table.rows`)."""

    row: int
    header: str


def cell_value(table: Table, row: int, column: str) -> float | None:
    """The number a cell is compared by: its year in a column of dates, else its first number."""
    cell = table.rows[row].get(column, "")
    if column in table.dated:
        year = YEAR.search(cell)
        return float(year.group()) if year else None
    return number(cell)


def cell_of(table: Table, row: int, header: str | None) -> Cell | None:
    """``header``'s cell of ``row``, unless there is no such column or the cell is empty."""
    if header is None or not table.rows[row].get(header, "").strip():
        return None
    return Cell(row, header)


def named_numeric(
    table: Table, header_stems: dict[str, set[str]], asked: set[str], exclude: str | None
) -> str | None:
    """The numeric column whose header shares most words with the question.

    When no header shares a stem, one sharing a word's beginning will do ("weighs" names
    "Weight", "license" names "Licence #"): the stemmer keeps these apart.
    """
    numeric = [h for h in table.headers if h != exclude and h in table.numeric]
    for shares in (lambda h: len(header_stems[h] & asked),
                   lambda h: sum(_akin(a, b) for a in asked for b in header_stems[h])):  # fmt: skip
        scored = [(n, h) for h in numeric if (n := shares(h)) > 0]
        if scored:
            return max(scored, key=lambda t: t[0])[1]
    return None


def _akin(a: str, b: str) -> bool:
    """Whether two stems of five letters or more differ at most in their last letter."""
    shorter = min(len(a), len(b))
    return shorter >= 5 and abs(len(a) - len(b)) <= 1 and a[: shorter - 1] == b[: shorter - 1]


#: A column whose cells average more words than this holds notes, which name no kind.
_PROSE_WORDS = 6


def kind_column(table: Table, kind: set[str]) -> str | None:
    """The column most of whose cells name ``kind`` (stems), if at least half of them do.

    "Which rifle ...?" over a column "Model" of "Rifle 1889", "Carbine 1893". Not a column of
    notes (more than six words a cell on average): "most powerful locomotive ..." is no
    locomotive.
    """
    share = {h: _share(table, h, kind) for h in table.headers if not _prose(table, h)}
    best = max(share, key=lambda h: share[h], default=None)
    return best if best is not None and share[best] >= 0.5 else None


def _share(table: Table, header: str, stems: set[str]) -> float:
    cells = [r[header] for r in table.stems if header in r]
    return sum(bool(stems & c) for c in cells) / len(cells) if cells else 0.0


def _prose(table: Table, header: str) -> bool:
    """Whether a column holds sentences (notes), not names: its cells average over 6 words."""
    cells = [len(words(r[header])) for r in table.rows if r.get(header)]
    return bool(cells) and sum(cells) > _PROSE_WORDS * len(cells)


def text_column(table: Table, exclude: set[str]) -> str | None:
    """The first column that holds names rather than numbers."""
    for header in table.headers:
        if header not in exclude and header not in table.numeric:
            return header
    return None


def time_column(table: Table, header_stems: dict[str, set[str]], exclude: str | None) -> str | None:
    """The one numeric column of times ("Time", "Time (s)"), for faster and slower."""
    timed = [h for h in table.headers
             if h in table.numeric and "time" in header_stems[h] and h != exclude]  # fmt: skip
    return timed[0] if len(timed) == 1 else None
