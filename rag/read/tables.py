"""Table rows at the answer stage: read the row the question names, answer with its cell.

A spreadsheet or CSV row is one line that repeats its headers, "Route: Dublin to Sligo;
Departure: 09:40; Platform: 7." (:func:`rag.convert.office.row_line`). Read as prose, every row
of a table looks alike to the reader, and it may quote the neighbouring row's departure. So
when the passages are such rows, :func:`focus_rows` keeps the rows that hold most of the
question's terms ("Sligo") as passages of their own, and :func:`cell_span` trims a span to
the value of one cell, never its header label or the next cell. The citation is the row, whose
location is ``sheet S, row N``.

A PDF table has no such lines: its header row is a line of labels above lines of values, and
:func:`cell_span` keeps a span that starts in a label line and ends in a value line to the
value line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from langchain_core.documents import Document

#: "Header: value; Header: value." Headers are short; a value is anything but a separator,
#: which is "; " before a header: a cell may hold "; " ("Salvador Moreno ; Estíbaliz Río").
_HEADER = r"[^\n:;]{1,60}: "
_VALUE = rf"(?:[^\n;]|;(?! {_HEADER}))*"
_ROW = re.compile(rf"^{_HEADER}{_VALUE}(?:; {_HEADER}{_VALUE})+\.?$")
#: Where a row line's next cell starts: the separator, "; ", before a header.
CELL_BREAK = re.compile(rf"; (?={_HEADER})")
#: Rows read at most when the question names a row.
MAX_ROWS = 4


def row_lines(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of every line of ``text`` that is a table row with its headers."""
    out: list[tuple[int, int]] = []
    cursor = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if _ROW.match(stripped):
            start = cursor + line.index(stripped)
            out.append((start, start + len(stripped)))
        cursor += len(line) + 1
    return out


def focus_rows(
    passages: Sequence[Document], coverage: Callable[[str], float]
) -> list[Document] | None:
    """The rows that hold the most question terms, each a passage; None if not a table question.

    ``coverage`` is the share of the question's weighted terms a text holds. Only when a row
    holds more of the question than any other row and than any passage's prose is the choice
    narrowed: otherwise the reader reads the passages as they are.
    """
    rows: list[tuple[float, Document, int, int]] = []
    prose = 0.0
    for doc in passages:
        text = doc.page_content
        found = row_lines(text)
        for start, end in found:
            rows.append((coverage(text[start:end]), doc, start, end))
        rest = text
        for start, end in reversed(found):
            rest = rest[:start] + rest[end:]
        if rest.strip():
            prose = max(prose, coverage(rest))
    if len(rows) < 2:
        return None
    best = max(score for score, *_ in rows)
    if best <= 0 or best < prose or all(score == best for score, *_ in rows):
        return None
    kept = [r for r in rows if r[0] == best][:MAX_ROWS]
    return [sub_document(doc, start, end) for _, doc, start, end in kept]


def sub_document(doc: Document, start: int, end: int) -> Document:
    """``doc.page_content[start:end]`` as a passage of its own, its offsets the document's."""
    base = int(doc.metadata["start"])
    meta = {**doc.metadata, "start": base + start, "end": base + end}
    return Document(page_content=doc.page_content[start:end], metadata=meta)


def cell_span(text: str, start: int, end: int) -> tuple[int, int]:
    """``text[start:end]`` cut to one cell's value when it lies in a table row.

    In a header-repeating row, a span that starts in a label starts after it, and one that
    runs over a cell separator ends before it. In a line-per-row table (a PDF), a span that
    starts on a line of labels and ends on a line with figures keeps its last line.
    """
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    line_end = len(text) if line_end < 0 else line_end
    line = text[line_start:line_end].strip()
    if _ROW.match(line):
        breaks = [m.start() for m in CELL_BREAK.finditer(text, line_start, line_end)]
        cell_start = max((b + 2 for b in breaks if b + 2 <= start), default=line_start)
        colon = text.find(": ", cell_start, line_end)
        if colon >= 0 and start < colon + 2:
            start = colon + 2
        stop = min((b for b in breaks if b >= start), default=line_end)
        end = min(max(end, start + 1), stop)
        while end > start and text[end - 1] in ". ":
            end -= 1
        return start, end
    last_break = text.rfind("\n", start, end)
    if last_break >= 0 and not re.search(r"\d", line) and re.search(r"\d", text[last_break:end]):
        start = last_break + 1
    return start, end
