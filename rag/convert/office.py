"""Office documents, spreadsheets and e-books as located text parts.

Each reader returns :class:`Loaded`: the file's text as ``(text, location)`` parts, in reading
order, plus a title and metadata. A location is what a user looks for in the original file:
``"slide 3"``, ``"sheet Prices, row 12"``, ``"chapter 2: The Voyage"``, or the section heading
of a word-processor document (which has no pages until it is printed). The parts are cleaned
and joined by :mod:`rag.preprocess.cleaning`, which remembers where each location starts.

Tables, in every format, become one line per row that repeats the column headers
("Product: Widget; Price: 42.5."), so a question naming a product and a column finds the row
by keyword and by meaning, and the answer is a quote of one self-contained line.

Every reader here parses untrusted files with a well-kept library (python-docx, python-pptx,
openpyxl, odfpy, EbookLib); a file the library cannot open becomes a :class:`SkipFile` whose
reason names the format and what is wrong, never an exception that aborts an ingest.
"""

from __future__ import annotations

import csv
import io
import logging
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from rag.convert.html_text import chapter_text
from rag.convert.markup.text import row_line as text_row_line
from rag.errors import SkipFile

log = logging.getLogger(__name__)

Location = int | str | None
Parts = list[tuple[str, Location]]

# An OOXML or ODF file is a zip; one that expands to more than this many times the size
# limit is a zip bomb, refused before any library inflates it.
_MAX_EXPANSION = 20
# Microsoft's encrypted OOXML files (a password on .docx/.xlsx/.pptx) are OLE compound files.
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True)
class Loaded:
    """What a reader found in one file."""

    parts: Parts
    title: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


def row_line(headers: Sequence[str], cells: Sequence[str]) -> str:
    """One table row as a sentence-like line: ``"Header: value; Header: value."``.

    Empty cells are left out (a row of a sparse sheet stays short); a row without headers
    joins its cells with ``" | "``. The final full stop keeps a one-line row from being taken
    for a heading by the chunker, and ends the sentence for the reader.
    """
    line = text_row_line(headers, cells)
    return line if not line or line.endswith((".", "!", "?")) else line + "."


def _header_row(rows: Sequence[Sequence[str]]) -> bool:
    """Whether the first row names the columns.

    None of its cells is a number, and all are filled but at most one of two or more: an index
    or a date column often has no name.
    """
    if len(rows) < 2 or not rows[0]:
        return False
    first = [c.strip() for c in rows[0]]
    filled = [c for c in first if c]
    unnamed = len(first) - len(filled)
    return (unnamed == 0 or (unnamed == 1 and len(filled) >= 2)) and not any(
        _is_number(c) for c in filled
    )


def _headers(first: Sequence[str]) -> list[str]:
    """The header row's names, a column without one named by its place ("Column 1")."""
    return [c.strip() or f"Column {i}" for i, c in enumerate(first, 1)]


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


def table_lines(rows: Sequence[Sequence[str]]) -> Iterator[tuple[int, str]]:
    """``(row number, line)`` for each non-empty row; row numbers are 1-based as in the file."""
    headers: Sequence[str] = _headers(rows[0]) if _header_row(rows) else ()
    for number, cells in enumerate(rows, 1):
        if headers and number == 1:
            continue
        line = row_line(headers, cells)
        if line:
            yield number, line


def check_zip(data: bytes, what: str, max_bytes: int) -> zipfile.ZipFile:
    """Open an OOXML/ODF/EPUB container, refusing encrypted, corrupt and bomb-like files."""
    if data.startswith(_OLE):
        raise SkipFile(
            f"password-protected (encrypted) {what}, or an old binary Office file: "
            "save it again without a password, in the current format"
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        expanded = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise SkipFile(f"corrupt {what} (not a zip container)") from None
    if expanded > _MAX_EXPANSION * max_bytes:
        raise SkipFile(f"{what} expands to {expanded / 1e6:.0f} MB (a zip bomb?), not read")
    return archive


def _library_errors(what: str, read: Callable[[], Loaded]) -> Loaded:
    """Run a library reader, turning whatever it raises on a damaged file into a skip reason."""
    try:
        return read()
    except SkipFile:
        raise
    except Exception as exc:  # noqa: BLE001 - parsers of untrusted files fail in many ways
        raise SkipFile(
            f"corrupt or unreadable {what} ({type(exc).__name__}: {exc!s:.200})"
        ) from None


# --- word processors ---------------------------------------------------------------------


def load_docx(data: bytes, max_bytes: int) -> Loaded:
    """A Word document: headings kept as heading lines, tables as rows, in body order."""
    check_zip(data, "Word document (.docx)", max_bytes)
    return _library_errors("Word document (.docx)", lambda: _docx(data))


def _docx(data: bytes) -> Loaded:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = docx.Document(io.BytesIO(data))
    builder = _Sections()
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            style = (block.style.name if block.style is not None else "") or ""
            text = block.text.strip()
            if style.startswith(("Heading", "Title")):
                builder.heading(text)
            else:
                builder.add(text)
        elif isinstance(block, Table):
            rows = [[cell.text for cell in row.cells] for row in block.rows]
            builder.add("\n".join(line for _, line in table_lines(rows)))
    props = document.core_properties
    metadata = _metadata(author=props.author, subject=props.subject, created=props.created)
    return Loaded(builder.parts, (props.title or "").strip() or builder.first_heading, metadata)


def load_odt(data: bytes, max_bytes: int) -> Loaded:
    """An OpenDocument text: headings, paragraphs and list items in order."""
    check_zip(data, "OpenDocument text (.odt)", max_bytes)
    return _library_errors("OpenDocument text (.odt)", lambda: _odt(data))


def _odt(data: bytes) -> Loaded:
    from odf import teletype
    from odf.opendocument import load

    document = load(io.BytesIO(data))
    builder = _Sections()
    for kind, node in _walk(document.text):
        if kind == "h":
            builder.heading(teletype.extractText(node).strip())
        else:
            builder.add(teletype.extractText(node).strip())
    meta = {
        "author": _odf_meta(document, "initial-creator") or _odf_meta(document, "creator"),
    }
    title = _odf_meta(document, "title") or builder.first_heading
    return Loaded(builder.parts, title, {k: v for k, v in meta.items() if v})


def _walk(node: object) -> Iterator[tuple[str, object]]:
    """``("h" | "p", element)`` in document order; a paragraph's own children are its text."""
    for child in getattr(node, "childNodes", []):
        name = getattr(child, "qname", None)
        if name and name[1] in ("h", "p"):
            yield name[1], child
        else:
            yield from _walk(child)


def _odf_meta(document: object, name: str) -> str:
    from odf import teletype

    for element in document.meta.childNodes:  # type: ignore[attr-defined]
        if getattr(element, "qname", (None, None))[1] == name:
            return teletype.extractText(element).strip()
    return ""


class _Sections:
    """Collects paragraphs into parts located by the section heading above them."""

    def __init__(self) -> None:
        self.parts: Parts = []
        self.first_heading = ""
        self._location: str | None = None

    def heading(self, text: str) -> None:
        if not text:
            return
        self.first_heading = self.first_heading or text
        self._location = f"section “{text[:80]}”"
        self.parts.append((text, self._location))

    def add(self, text: str) -> None:
        if text.strip():
            self.parts.append((text, self._location))


# --- slides ------------------------------------------------------------------------------


def load_pptx(data: bytes, max_bytes: int) -> Loaded:
    """A slide deck: one part per slide (title, text, tables), then the speaker notes."""
    check_zip(data, "PowerPoint deck (.pptx)", max_bytes)
    return _library_errors("PowerPoint deck (.pptx)", lambda: _pptx(data))


def _pptx(data: bytes) -> Loaded:
    from pptx import Presentation

    deck = Presentation(io.BytesIO(data))
    parts: Parts = []
    first_title = ""
    for number, slide in enumerate(deck.slides, 1):
        title_shape = slide.shapes.title
        title = title_shape.text_frame.text.strip() if title_shape is not None else ""
        first_title = first_title or title
        blocks = [title] if title else []
        for shape in slide.shapes:
            if shape is title_shape:
                continue
            if shape.has_text_frame:
                lines = [p.text.strip() for p in shape.text_frame.paragraphs]
                blocks.append("\n".join(line for line in lines if line))
            elif shape.has_table:
                rows = [[cell.text for cell in row.cells] for row in shape.table.rows]
                blocks.append("\n".join(line for _, line in table_lines(rows)))
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            if notes is not None and notes.text.strip():
                blocks.append("Notes: " + " ".join(notes.text.split()))
        text = "\n\n".join(block for block in blocks if block.strip())
        if text:
            parts.append((text, f"slide {number}"))
    props = deck.core_properties
    metadata = _metadata(author=props.author, subject=props.subject, created=props.created)
    metadata["slides"] = str(len(deck.slides))
    return Loaded(parts, (props.title or "").strip() or first_title, metadata)


# --- spreadsheets ------------------------------------------------------------------------


def load_xlsx(data: bytes, max_bytes: int) -> Loaded:
    """An Excel workbook: each sheet's name as a heading, then one line per row."""
    check_zip(data, "Excel workbook (.xlsx)", max_bytes)
    return _library_errors("Excel workbook (.xlsx)", lambda: _xlsx(data))


def _xlsx(data: bytes) -> Loaded:
    import openpyxl

    # read_only streams rows (bounded memory on big sheets); data_only gives cached values,
    # not formulas: the number a user sees.
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    parts: Parts = []
    try:
        for sheet in book.worksheets:
            rows = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
            parts.extend(_sheet_parts(sheet.title, rows))
        props = book.properties
        metadata = _metadata(author=props.creator, subject=props.subject, created=props.created)
        metadata["sheets"] = ", ".join(sheet.title for sheet in book.worksheets)
        return Loaded(parts, (props.title or "").strip(), metadata)
    finally:
        book.close()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _sheet_parts(name: str, rows: list[list[str]]) -> Parts:
    """The sheet's name as a heading part (a chunk starts there), then its rows."""
    lines = list(table_lines(rows))
    if not lines:
        return []
    heading: Parts = [(f"Sheet {name}", f"sheet {name}")]
    return heading + [(line, f"sheet {name}, row {number}") for number, line in lines]


def load_csv(text: str) -> Loaded:
    """A CSV (or TSV) file: one line per row, repeating the header row's names."""
    sample = text[:65536]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, ",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(io.StringIO(text), dialect))
        if '\\"' in text:  # quotes escaped by a backslash (MySQL, pandas): no Sniffer tells
            escaped = csv.reader(io.StringIO(text), dialect, escapechar="\\", doublequote=False)
            rows = min(rows, list(escaped), key=_ragged)  # a tie: the standard reading
    except csv.Error as exc:
        raise SkipFile(f"malformed CSV ({exc})") from None
    lines = list(table_lines(rows))
    if not lines:
        raise SkipFile("CSV file without any filled cell")
    return Loaded([(line, f"row {number}") for number, line in lines])


def _ragged(rows: Sequence[Sequence[str]]) -> int:
    """How many rows are not as wide as the first: a quote read the wrong way splits a cell."""
    return sum(len(r) != len(rows[0]) for r in rows if r) if rows else 0


# --- e-books -----------------------------------------------------------------------------


def load_epub(data: bytes, max_bytes: int) -> Loaded:
    """An EPUB: chapters in spine order, title and author from its metadata.

    Each chapter's XHTML goes through the web pages' main-text extraction
    (:func:`rag.convert.html_text.chapter_text`), so chapters are cleaned like web pages.
    """
    check_zip(data, "EPUB e-book", max_bytes)
    loaded = _library_errors("EPUB e-book", lambda: _epub(data))
    if not loaded.parts:
        raise SkipFile("EPUB e-book without any chapter text")
    return loaded


def _epub(data: bytes) -> Loaded:
    import tempfile

    from ebooklib import ITEM_DOCUMENT, epub

    # EbookLib reads from a path only.
    with tempfile.NamedTemporaryFile(suffix=".epub") as handle:
        handle.write(data)
        handle.flush()
        book = epub.read_epub(handle.name, options={"ignore_ncx": True})
    parts: Parts = []
    chapter = 0
    for item_id, _linear in book.spine:
        item = book.get_item_with_id(item_id)
        if item is None or item.get_type() != ITEM_DOCUMENT:
            continue
        text, heading = chapter_text(item.get_content().decode("utf-8", errors="replace"))
        if not text.strip():
            continue
        chapter += 1
        label = f"chapter {chapter}" + (f": {heading[:80]}" if heading else "")
        parts.append((text, label))
    title = _dc(book, "title")
    metadata = {"author": _dc(book, "creator"), "language": _dc(book, "language")}
    metadata = {k: v for k, v in metadata.items() if v}
    return Loaded(parts, title, metadata)


def _dc(book: object, name: str) -> str:
    values = book.get_metadata("DC", name)  # type: ignore[attr-defined]
    return ", ".join(str(v[0]).strip() for v in values if v and v[0]) if values else ""


def _metadata(**values: object) -> dict[str, str]:
    return {key: str(value).strip() for key, value in values.items() if value}
