"""A cited PDF page as a PNG, with the quote's rectangles marked, cached on disk.

A reader checks a citation fastest on the page they know, with its layout, tables and figures.
:func:`render_marked_page` renders the page with PDFium and marks the rectangles of
:attr:`rag.results.Citation.boxes` (made at ingest, :mod:`rag.store.page_boxes`), so nothing is
parsed again but the one page.

Only a document of the live index is rendered, read from the corpus folder: a source that is
not in the index, a path that leads outside the corpus (``..``, a symlink) or a file changed
since it was indexed (its boxes would mark the wrong words) is refused with a
:class:`~rag.errors.SourceError`. Images are cached in ``<index>/page-cache`` under a hash of
the file's content, the page, the rectangles and the width; the folder is kept under
``max_bytes`` by deleting the least recently used images (a hit refreshes the file's mtime).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import tempfile
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from rag.errors import SourceError
from rag.store.generations import IndexSnapshot
from rag.store.page_boxes import Rect

log = logging.getLogger(__name__)

CACHE_DIR = "page-cache"
MAX_CACHE_BYTES = 64 * 1024 * 1024
#: The page image's width in pixels unless asked: its text legible, the PNG about 100-200 kB.
DEFAULT_WIDTH = 900
MAX_WIDTH = 2400
FILL = (255, 214, 0, 90)  # translucent yellow over the quoted words
OUTLINE = (222, 74, 0, 255)  # and an orange frame, visible on a yellow page too
PAD = 1.5  # points around the characters' tight boxes
BAND = 110.0  # points of the page kept above and below the mark in a band (a source card)
MIN_BAND_WIDTH = 260.0  # points: a column of a three-column page and a margin either side
COLOURS = 32  # a palette PNG: a text page with its mark needs few colours, at a third the size


def render_marked_page(
    snapshot: IndexSnapshot,
    corpus_dir: Path,
    source: str,
    page: int,
    rects: Sequence[Rect] = (),
    *,
    width: int = DEFAULT_WIDTH,
    band: bool = False,
    max_bytes: int = MAX_CACHE_BYTES,
) -> Path:
    """The PNG of ``page`` (1-based) of the indexed PDF ``source`` with ``rects`` marked.

    Args:
        snapshot: The live index: only its documents are rendered, and its folder holds the cache.
        corpus_dir: The corpus folder the index was built from.
        source: The document, as the index names it (a path relative to the corpus).
        page: The page number, 1-based.
        rects: ``(left, bottom, right, top)`` in PDF points (as :attr:`Citation.boxes`).
        width: The image's width in pixels.
        band: Only the band of the page around the mark (its full width, :data:`BAND`
            points above and below), for a preview; the whole page otherwise.
        max_bytes: The cache folder's size bound.

    Returns:
        The path of the cached PNG (read it; it may be evicted by a later render).

    Raises:
        SourceError: not an indexed PDF, outside the corpus, changed since indexed, or no
            such page.
    """
    entry = snapshot.manifest.files.get(source)
    if entry is None or entry.kind != "pdf":
        raise SourceError(f"{source!r} is not a PDF of the current index")
    root = corpus_dir.resolve()
    path = (root / source).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise SourceError(f"{source!r} is not a file inside the corpus folder")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != entry.sha256:
        raise SourceError(f"{source!r} changed since it was indexed: run `rag ingest` first")
    width = max(100, min(int(width), MAX_WIDTH))
    boxes = [tuple(round(float(v), 2) for v in rect) for rect in rects]
    key = json.dumps([entry.sha256, int(page), boxes, width, band]).encode()
    cache = snapshot.root.root / CACHE_DIR
    target = cache / f"{hashlib.sha256(key).hexdigest()[:32]}.png"
    if target.exists():
        os.utime(target)  # most recently used
        return target
    png = page_png(data, page, boxes, width, band=band)  # type: ignore[arg-type]
    cache.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=cache, suffix=".part")
    with os.fdopen(fd, "wb") as handle:
        handle.write(png)
    os.replace(temporary, target)
    _evict(cache, max_bytes, keep=target)
    return target


def page_png(
    data: bytes, page: int, rects: Sequence[Rect], width: int, *, band: bool = False
) -> bytes:
    """Render page ``page`` of the PDF ``data`` at ``width`` pixels, marking ``rects``.

    With ``band``, only the part of the page around the rectangles is kept, rendered so that
    it is ``width`` pixels wide (see :func:`render_marked_page`).

    Raises:
        SourceError: the PDF has no such page.
    """
    import pypdfium2 as pdfium
    from PIL import Image, ImageDraw

    document = pdfium.PdfDocument(data)
    try:
        if not 1 <= page <= len(document):
            raise SourceError(f"the PDF has no page {page} (it has {len(document)})")
        handle = document[page - 1]
        try:
            page_width, page_height = handle.get_size()
            if handle.get_rotation() in (90, 270):
                page_width, page_height = page_height, page_width
            crop = _band(handle, (page_width, page_height), rects) if band and rects else None
            scale = width / max(crop[2] - crop[0] if crop else page_width, 1.0)
            scale = min(scale, MAX_WIDTH / max(page_width, page_height, 1.0))
            image = handle.render(scale=scale).to_pil().convert("RGBA")
            corners = [_to_device(handle, image.size, rect) for rect in rects]
        finally:
            handle.close()
    finally:
        document.close()
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for left, top, right, bottom in corners:
        draw.rectangle((left, top, right, bottom), fill=FILL, outline=OUTLINE, width=2)
    marked = Image.alpha_composite(image, overlay).convert("RGB")
    if crop:
        marked = marked.crop(tuple(round(v * scale) for v in crop))
    out = io.BytesIO()
    marked.quantize(colors=COLOURS, method=Image.Quantize.FASTOCTREE).save(out, "PNG")
    return out.getvalue()


def _band(page: Any, size: tuple[float, float], rects: Sequence[Rect]) -> tuple[float, ...]:
    """The page region around ``rects``: ``(left, top, right, bottom)`` in rendered points.

    Measured from the rendered page's top left: :data:`BAND` above and below, half that at
    the sides, at least :data:`MIN_BAND_WIDTH` wide (a short quote keeps its line's context).
    """
    width, height = size
    corners = [_to_device(page, (round(width), round(height)), rect) for rect in rects]
    left = min(c[0] for c in corners) - BAND / 2
    right = max(c[2] for c in corners) + BAND / 2
    if right - left < MIN_BAND_WIDTH:
        middle = (left + right) / 2
        left, right = middle - MIN_BAND_WIDTH / 2, middle + MIN_BAND_WIDTH / 2
    top = min(c[1] for c in corners) - BAND
    bottom = max(c[3] for c in corners) + BAND
    return max(0.0, left), max(0.0, top), min(width, right), min(height, bottom)


def _to_device(page: Any, size: tuple[int, int], rect: Rect) -> tuple[int, int, int, int]:
    """A page rectangle as ``(left, top, right, bottom)`` pixels of the rendered image."""
    import ctypes

    import pypdfium2.raw as raw

    left, bottom, right, top = rect
    xs, ys = [], []
    for x, y in ((left - PAD, bottom - PAD), (right + PAD, top + PAD)):
        px, py = ctypes.c_int(), ctypes.c_int()
        raw.FPDF_PageToDevice(page.raw, 0, 0, size[0], size[1], 0, x, y, px, py)
        xs.append(px.value)
        ys.append(py.value)
    return min(xs), min(ys), max(xs), max(ys)


def _evict(cache: Path, max_bytes: int, *, keep: Path) -> None:
    """Delete the least recently used images until the folder holds at most ``max_bytes``."""
    files = []
    for path in cache.glob("*.png"):
        try:
            stat = path.stat()
        except FileNotFoundError:  # another process evicted it
            continue
        files.append((stat.st_mtime_ns, stat.st_size, path))
    total = sum(size for _, size, _ in files)
    for _, size, path in sorted(files):
        if total <= max_bytes:
            break
        if path == keep:
            continue
        with suppress(FileNotFoundError):  # another process evicted it
            path.unlink()
        total -= size
    log.debug("page cache %s: %d bytes", cache, total)
