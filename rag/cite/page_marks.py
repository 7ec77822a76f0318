"""Give PDF citations the page and rectangles a client needs to mark the quote on the page."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from rag.results import Citation
from rag.store.page_boxes import CharBoxes


def with_marks(
    citations: Sequence[Citation], boxes_of: Callable[[str], CharBoxes | None]
) -> list[Citation]:
    """``citations`` with :attr:`Citation.box_page` and :attr:`Citation.boxes` filled for PDFs.

    ``boxes_of(source)`` gives a document's character boxes (None for a file that has none:
    not a PDF, or indexed before boxes were kept); each document's are read once.
    """
    loaded: dict[str, CharBoxes | None] = {}
    out: list[Citation] = []
    for citation in citations:
        if citation.source not in loaded:
            loaded[citation.source] = boxes_of(citation.source)
        boxes = loaded[citation.source]
        if boxes is None or citation.end > len(boxes):
            out.append(citation)
            continue
        page, rects = boxes.marks(citation.start, citation.end)
        out.append(replace(citation, box_page=page, boxes=rects) if page else citation)
    return out
