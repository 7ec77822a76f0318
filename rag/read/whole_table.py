"""A question about a whole table, put to the document it was asked of.

:mod:`rag.read.table_ops` answers over a parsed table with one cell, and
:mod:`rag.read.table_counts` with the rows it counts; this finds the table (the document of
the best-ranked passage, when that passage holds table rows) and turns the rows back into
passages and offsets the answerer can quote and cite.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from langchain_core.documents import Document

from rag.read.table_counts import asks_count, counted_rows
from rag.read.table_ops import answer_cell, compares_rows
from rag.read.table_parse import Table, parse_table
from rag.read.tables import row_lines, sub_document

#: Rows a count cites at most: the first ones, in the table's order.
MAX_CITED_ROWS = 10


def whole_table_cell(
    question: str,
    passages: Sequence[Document],
    doc_text: Callable[[str], str],
    document: Callable[[str], Sequence[Document]],
) -> tuple[Document, int, int] | None:
    """The row and the cell (offsets in the row) of a question about a whole table.

    Only when the best-ranked passage holds table rows and its document (``doc_text``) is one
    table: :func:`answer_cell` says which cell, or None when the question compares no rows.
    The row is cut from the passage that holds it (``document``: the document's passages),
    so that its citation has that passage's place (``row 12``).
    """
    found = _table(question, passages, doc_text, compares_rows)
    cell = answer_cell(question, found[1]) if found is not None else None
    if found is None or cell is None:
        return None
    source, table = found
    row = _row(table, cell.row, document(source))
    if row is None:
        return None  # a row across two passages: left to the reader
    a, b = table.places[cell.row][cell.header]
    start = table.spans[cell.row][0]
    return row, a - start, b - start


def counted(
    question: str,
    passages: Sequence[Document],
    doc_text: Callable[[str], str],
    document: Callable[[str], Sequence[Document]],
) -> tuple[int, list[Document]] | None:
    """How many rows a counting question names, and the first of them as passages to cite.

    Under the same condition as :func:`whole_table_cell`; None when the question counts no
    rows of this table (:func:`counted_rows`). A row that runs across two passages is counted
    but not cited; with no row to cite, the question is left to the reader.
    """
    found = _table(question, passages, doc_text, asks_count)
    rows = counted_rows(question, found[1]) if found is not None else None
    if found is None or rows is None:
        return None
    source, table = found
    parts = document(source)
    cited = [row for r in rows[:MAX_CITED_ROWS] if (row := _row(table, r, parts)) is not None]
    return (len(rows), cited) if cited else None  # an answer without a citation is none


def _table(
    question: str,
    passages: Sequence[Document],
    doc_text: Callable[[str], str],
    asks: Callable[[str], bool],
) -> tuple[str, Table] | None:
    """The best passage's source and its table, when ``asks(question)`` and it is one table."""
    if not passages or not asks(question) or not row_lines(passages[0].page_content):
        return None
    source = passages[0].metadata["source"]
    table = parse_table(doc_text(source))
    return None if table is None else (source, table)


def _row(table: Table, row: int, parts: Sequence[Document]) -> Document | None:
    """Row ``row`` as a passage of its own, cut from the passage of ``parts`` that holds it."""
    start, end = table.spans[row]
    for doc in parts:
        base = int(doc.metadata["start"])
        if base <= start and end <= base + len(doc.page_content):
            return sub_document(doc, start - base, end - base)
    return None
