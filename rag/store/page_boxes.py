"""Where each character of a PDF's cleaned text is on its page, stored with the index.

A citation holds offsets into the cleaned text; drawing it on the page needs the page and the
boxes of those characters. :class:`CharBoxes` keeps, per cleaned character, its page number
and its box, made at ingest from the extractor's boxes (:mod:`rag.convert.pdf`) and the
cleaning's character sources (:mod:`rag.text.traced`), and saved beside the document's text
(``docs/<key>.boxes.npz``) so that a citation is drawn without parsing the PDF again.

Boxes are ``(left, bottom, right, top)`` in PDF page coordinates: points, in the page's user
space with the origin at its bottom left as PDFium reports it, before the page's ``/Rotate``
(:func:`rag.cite.page_image.render_marked_page` maps them onto the rendered image).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: A box ``(left, bottom, right, top)`` in PDF page coordinates (points, origin bottom left).
Rect = tuple[float, float, float, float]
SUFFIX = ".boxes.npz"
UNITS = 20  # stored coordinates are in 1/20 point


@dataclass(frozen=True, eq=False)
class CharBoxes:
    """Per cleaned character: ``pages[i]`` (0: nowhere) and ``boxes[i]`` (left, bottom, right, top).

    Whitespace and characters the cleaning inserted have page 0: a mark covers the words.
    """

    pages: np.ndarray  # uint16, (n,)
    boxes: np.ndarray  # float32, (n, 4)

    @classmethod
    def build(
        cls,
        text: str,
        src: Sequence[int],
        page_numbers: Sequence[int],
        page_boxes: Sequence[Sequence[float]],
    ) -> CharBoxes:
        """Boxes of ``text``, whose character ``i`` is extracted character ``src[i]``.

        Extracted characters are numbered through the pages in order (page ``k``'s first
        character follows page ``k-1``'s last), ``page_boxes[k]`` holding four floats per
        character of page ``k``, whose number is ``page_numbers[k]``.
        """
        starts = np.cumsum([0] + [len(b) // 4 for b in page_boxes])
        flat = np.concatenate(
            [np.asarray(b, dtype=np.float32).reshape(-1, 4) for b in page_boxes]
            or [np.zeros((0, 4), np.float32)]
        )
        index = np.asarray(src, dtype=np.int64)
        known = (index >= 0) & (index < len(flat))
        known &= ~np.fromiter((ch.isspace() for ch in text), bool, len(text))
        boxes = np.zeros((len(text), 4), np.float32)
        boxes[known] = flat[index[known]]
        known &= (boxes[:, 2] > boxes[:, 0]) | (boxes[:, 3] > boxes[:, 1])
        which = np.searchsorted(starts, index, side="right") - 1
        numbers = np.asarray([*page_numbers, 0], dtype=np.uint16)
        pages = np.where(known, numbers[np.clip(which, 0, len(page_numbers))], 0)
        boxes[~known] = 0
        return cls(pages.astype(np.uint16), boxes)

    def save(self, path: Path) -> None:
        """Write the boxes compactly: 1/20 point integers, one coordinate after another.

        A twentieth of a point is far below what a mark can show; whole integers in columns
        (every bottom, then every top, ...) repeat along a line and compress to half the size
        of the floats.
        """
        columns = np.ascontiguousarray(np.round(self.boxes.T * UNITS), dtype=np.int32)
        # A file object, so that numpy adds no second ".npz" to the name.
        with open(path, "wb") as handle:
            np.savez_compressed(handle, pages=self.pages, columns=columns)

    @classmethod
    def load(cls, path: Path) -> CharBoxes:
        with np.load(path) as data:
            boxes = (data["columns"].T / UNITS).astype(np.float32)
            return cls(data["pages"], boxes)

    def __len__(self) -> int:
        return len(self.pages)

    def marks(self, start: int, end: int) -> tuple[int | None, tuple[Rect, ...]]:
        """The page of ``text[start:end]`` and one rectangle per line of it on that page.

        A quote that runs onto the next page is marked on the page where it starts. The
        characters of one line (same baseline band, moving right) are merged into one
        rectangle; a new line or column starts a new one.
        """
        start = max(0, start)
        pages = self.pages[start:end]
        found = np.flatnonzero(pages)
        if not len(found):
            return None, ()
        page = int(pages[found[0]])
        rects: list[list[float]] = []
        previous = 0.0  # right edge of the last character
        for left, bottom, right, top in self.boxes[start:end][pages == page].tolist():
            if rects and _same_line(rects[-1], previous, left, bottom, top):
                rect = rects[-1]
                rect[0], rect[1] = min(rect[0], left), min(rect[1], bottom)
                rect[2], rect[3] = max(rect[2], right), max(rect[3], top)
            else:
                rects.append([left, bottom, right, top])
            previous = right
        return page, tuple(tuple(round(v, 2) for v in rect) for rect in rects)  # type: ignore[misc]


def _same_line(rect: list[float], previous: float, left: float, bottom: float, top: float) -> bool:
    """Whether a character continues the line ``rect`` whose last character ends at ``previous``.

    It must overlap the line's height by half, and start neither left of the last character
    (a new line or column) nor further right than a wide word space (the next cell of a
    table, whose cells in between belong to other text).
    """
    height = max(rect[3] - rect[1], top - bottom, 1.0)
    overlap = min(rect[3], top) - max(rect[1], bottom)
    gap = left - previous
    return overlap > 0.5 * min(rect[3] - rect[1], top - bottom) and -0.5 * height <= gap <= height


def box_path(docs_dir: Path, doc: str) -> Path:
    """Where the boxes of the document stored as ``docs/<doc>.txt`` are."""
    return docs_dir / f"{doc}{SUFFIX}"
