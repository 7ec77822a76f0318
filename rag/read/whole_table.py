"""A question about a whole table, put to the document it was asked of.

:mod:`rag.read.table_ops` answers over a parsed table; this finds the table (the document of
the best-ranked passage, when that passage holds table rows) and turns its answer back into a
passage and offsets the answerer can quote and cite.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from langchain_core.documents import Document

from rag.read.table_ops import answer_cell, compares_rows
from rag.read.table_parse import parse_table
from rag.read.tables import row_lines, sub_document


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
    if not passages or not compares_rows(question) or not row_lines(passages[0].page_content):
        return None
    source = passages[0].metadata["source"]
    table = parse_table(doc_text(source))
    cell = answer_cell(question, table) if table is not None else None
    if cell is None:
        return None
    start, end = table.spans[cell.row]
    for doc in document(source):
        base = int(doc.metadata["start"])
        if base <= start and end <= base + len(doc.page_content):
            a, b = table.places[cell.row][cell.header]
            return sub_document(doc, start - base, end - base), a - start, b - start
    return None  # a row across two passages: left to the reader
