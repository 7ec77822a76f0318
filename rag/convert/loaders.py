"""Turn one corpus file into text, or into a specific reason why not.

Loading is the only stage that touches file formats. It returns the text as the file holds it
(decoded, HTML reduced to its main content, reStructuredText and Markdown parsed to plain
text, PDF pages, slides, sheet rows and chapters kept apart with their locations); boilerplate
removal and everything else that changes the text happens in :mod:`rag.preprocess.cleaning`, so a
reader can see exactly what the system removed. Office files and e-books are read by
:mod:`rag.convert.office`, web pages by :mod:`rag.convert.html_text`, PDFs by
:mod:`rag.convert.pdf` (in a separate process, :mod:`rag.convert.pdf_process`); which files
are documents is :mod:`rag.convert.discovery`'s to decide, and text encodings
:mod:`rag.convert.decoding`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rag.convert import office
from rag.convert.decoding import decode_text
from rag.convert.discovery import KINDS
from rag.convert.html_text import main_text
from rag.convert.markup import markdown_to_text, rst_to_text
from rag.convert.office import Loaded, Location
from rag.convert.pdf import Boxes
from rag.convert.pdf_process import parse_pdf
from rag.errors import SkipFile

__all__ = ["READING", "RawDocument", "SkipFile", "load"]

#: How files become text. Bump it when a loader or cleaning gives a file different text: an
#: index read by another version is then re-read (its vectors are reused where texts match).
READING = 3
_DEFAULT_MAX_BYTES = 50_000_000


@dataclass(frozen=True)
class RawDocument:
    """A file's text before cleaning.

    ``parts`` holds ``(text, location)`` pairs, so locations survive cleaning: one part for
    plain text, one per page for PDFs (the location is the page number, an ``int``), and for
    other formats a label such as ``"slide 3"`` or ``"sheet Prices, row 12"``.
    """

    source: str
    kind: str
    parts: list[tuple[str, Location]]
    sha256: str
    size: int
    mtime_ns: int
    title: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    #: PDFs: per part, a box per character of its text (see :mod:`rag.convert.pdf`)
    boxes: list[Boxes] = field(default_factory=list)


def load(
    path: Path,
    source: str,
    data: bytes,
    sha256: str,
    *,
    timeout: float | None = None,
    max_bytes: int = _DEFAULT_MAX_BYTES,
    stall: bool = False,
) -> RawDocument:
    """Turn one file's bytes into a :class:`RawDocument`, or raise :class:`SkipFile`.

    PDFs are parsed in a separate process when ``timeout`` is given (see :mod:`rag.convert.pdf`).
    ``max_bytes`` bounds what a zip-based format (docx, xlsx, epub, ...) may expand to.
    ``stall`` is a test seam (``RAG_PAUSE_AT=pdf:N``): that process blocks instead of
    parsing, a parser that never finishes, so only the time limit can end it.

    Raises:
        SkipFile: the file yields no text; the message says why.
        ValueError: ``stall`` for a file that is not a PDF parsed under a time limit (it
            would block this process for good).
    """
    if not data.strip():
        raise SkipFile("empty file")
    kind = KINDS[path.suffix.lower()]
    if stall and (kind != "pdf" or not timeout):
        raise ValueError("stall applies only to a PDF parsed under a time limit")
    stat = path.stat()
    boxes: list[Boxes] = []
    if kind == "pdf":
        parts, title, metadata, boxes = parse_pdf(data, timeout, stall)
        loaded = Loaded(parts, title, metadata)
    else:
        loaded = _read(kind, data, max_bytes)
    return RawDocument(
        source=source,
        kind=kind,
        parts=loaded.parts,
        sha256=sha256,
        size=len(data),
        mtime_ns=stat.st_mtime_ns,
        title=loaded.title,
        metadata=loaded.metadata,
        boxes=boxes,
    )


def _read(kind: str, data: bytes, max_bytes: int) -> Loaded:
    """The reader of a format other than PDF; each returns located parts, a title, metadata."""
    if kind == "docx":
        return office.load_docx(data, max_bytes)
    if kind == "pptx":
        return office.load_pptx(data, max_bytes)
    if kind == "xlsx":
        return office.load_xlsx(data, max_bytes)
    if kind == "odt":
        return office.load_odt(data, max_bytes)
    if kind == "epub":
        return office.load_epub(data, max_bytes)
    text = decode_text(data)
    if kind == "html":
        body, title, metadata, _ = main_text(text)
        return Loaded([(body, None)], title, metadata)
    if kind == "csv":
        return office.load_csv(text)
    if kind in ("rst", "markdown"):
        body, metadata = rst_to_text(text) if kind == "rst" else markdown_to_text(text)
        return Loaded([(body, None)], metadata.pop("title", ""), metadata)
    return Loaded([(text, None)])
