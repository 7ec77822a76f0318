"""Find corpus files and turn each into text, or into a specific reason why not.

Loading is the only stage that touches file formats. It returns the text as the file holds it
(decoded, HTML reduced to its main content, reStructuredText and Markdown parsed to plain
text, PDF pages, slides, sheet rows and chapters kept apart with their locations); boilerplate
removal and everything else that changes the text happens in :mod:`rag.preprocess.cleaning`, so a
reader can see exactly what the system removed. Office files and e-books are read by
:mod:`rag.convert.office`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from rag.convert import office
from rag.convert import pdf as pdf_module
from rag.convert.markup import markdown_to_text, rst_to_text
from rag.convert.office import Loaded, Location
from rag.convert.pdf import Boxes, Unreadable, decode_boxes, read_pdf
from rag.errors import SkipFile
from rag.results import SkippedFile

__all__ = [
    "KINDS",
    "PARSED_MARKUP",
    "READING",
    "RawDocument",
    "SkipFile",
    "decode_text",
    "discover",
    "file_digest",
    "load",
]

log = logging.getLogger(__name__)

KINDS = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".rst": "rst",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
    ".pptx": "pptx",
    ".xlsx": "xlsx",
    ".csv": "csv",
    ".tsv": "csv",
    ".epub": "epub",
    ".odt": "odt",
}
#: How files become text. Bump it when a loader or cleaning gives a file different text: an
#: index read by another version is then re-read (its vectors are reused where texts match).
READING = 2
#: kinds parsed from markup into plain text: their text has no markup headings left
PARSED_MARKUP = frozenset({"rst", "markdown"})
#: kinds whose text is a table: cleaning keeps every row (no chrome or header detection)
TABULAR = frozenset({"csv", "xlsx"})
_DEFAULT_MAX_BYTES = 50_000_000

# File signatures of common binary formats: a `.txt` that starts with one of these is not text.
_MAGIC = {
    b"\x89PNG": "PNG image",
    b"\xff\xd8\xff": "JPEG image",
    b"GIF8": "GIF image",
    b"PK\x03\x04": "ZIP archive (or docx/xlsx)",
    b"\x7fELF": "executable",
    b"\x1f\x8b": "gzip archive",
    b"%PDF-": "PDF (rename it to .pdf)",
    b"SQLite format 3": "SQLite database",
}
_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")


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


def discover(corpus_dir: Path) -> tuple[list[Path], list[SkippedFile]]:
    """List indexable files under ``corpus_dir``, recursively, in a stable order.

    Symlinks that lead outside the corpus are not followed (a corpus must not be able to pull
    in ``/etc``), hidden files are ignored, and other extensions are reported as skipped.
    """
    root = corpus_dir.resolve()
    files: list[Path] = []
    skipped: list[SkippedFile] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(root):
                    skipped.append(SkippedFile(rel, "symlink to outside the corpus, not followed"))
                    continue
            if path.suffix.lower() not in KINDS:
                skipped.append(SkippedFile(rel, f"unsupported file type '{path.suffix or name}'"))
                continue
            files.append(path)
    return files, skipped


def file_digest(path: Path, max_bytes: int) -> tuple[bytes, str]:
    """Read a file (bounded) and return its bytes and SHA-256."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SkipFile(f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit")
        data = path.read_bytes()
    except FileNotFoundError:
        raise SkipFile("file disappeared while the corpus was being read") from None
    except IsADirectoryError:
        raise SkipFile("not a regular file") from None
    except PermissionError:
        raise SkipFile("permission denied") from None
    return data, hashlib.sha256(data).hexdigest()


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
        parts, title, metadata, boxes = _pdf(data, timeout, stall)
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
        return office.load_epub(data, max_bytes, _chapter_text)
    text = decode_text(data)
    if kind == "html":
        return Loaded(*_load_html(text))
    if kind == "csv":
        return office.load_csv(text)
    if kind in ("rst", "markdown"):
        body, metadata = rst_to_text(text) if kind == "rst" else markdown_to_text(text)
        return Loaded([(body, None)], metadata.pop("title", ""), metadata)
    return Loaded([(text, None)])


def _chapter_text(xhtml: str) -> tuple[str, str]:
    """An e-book chapter's main text and its heading.

    The first ``<h1>``-``<h3>`` names a chapter better than ``<title>``, which e-books often
    fill with the book's title on every page.
    """
    text, title, _, heading = _html(xhtml)
    return text, heading or title


def decode_text(data: bytes) -> str:
    """Decode bytes of unknown encoding, refusing binary data.

    UTF-8 is tried first because it almost never decodes non-UTF-8 text by accident; other
    encodings (cp1252, UTF-16 without BOM, ...) are left to charset-normalizer.
    """
    for bom, codec in (
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\x00\x00\xfe\xff", "utf-32"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                raise SkipFile(f"invalid {codec} text despite its byte-order mark") from None
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            raise SkipFile(f"binary file ({what}), not text")
    sample = data[:65536]
    # Valid UTF-8 with only a sprinkling of NUL/control bytes is text with junk in it (cleaning
    # strips the junk); UTF-16 without a BOM is mostly NULs and goes to detection below.
    if sample.count(b"\x00") <= 0.1 * len(sample):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            if len(_CONTROL.findall(sample)) > 0.1 * len(sample):
                raise SkipFile("binary file (mostly control bytes), not text")
            return text
    from charset_normalizer import from_bytes

    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        raise SkipFile("binary or undecodable file: no text encoding fits")
    # Short Western text fits several code pages equally well; prefer the common one.
    best = next(
        (
            m
            for m in matches
            if m.encoding == "cp1252" and m.chaos <= best.chaos and m.coherence >= best.coherence
        ),
        best,
    )
    encoding = best.encoding
    nul_heavy = sample.count(b"\x00") > 0.01 * len(sample)
    if nul_heavy and not encoding.startswith(("utf_16", "utf_32")):
        raise SkipFile("binary file (contains NUL bytes), not text")
    if len(_CONTROL.findall(sample.replace(b"\x00", b""))) > 0.05 * len(sample):
        raise SkipFile("binary file (many control bytes), not text")
    log.debug("decoded as %s", encoding)
    return str(best)


def _load_html(html: str) -> tuple[list[tuple[str, Location]], str, dict[str, str]]:
    """Main text of an HTML page: scripts, styles, navigation, hidden text and comments go."""
    text, title, metadata, _ = _html(html)
    return [(text, None)], title, metadata


def _html(html: str) -> tuple[str, str, dict[str, str], str]:
    """``(main text, title, metadata, first heading)`` of an HTML page, parsed once."""
    from bs4 import BeautifulSoup, Comment

    soup = BeautifulSoup(html, "lxml")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    metadata: dict[str, str] = {}
    for meta in soup.find_all("meta"):
        name = (meta.get("name") or meta.get("property") or "").lower()
        content = meta.get("content")
        if content and name in {
            "author",
            "description",
            "date",
            "last-modified",
            "article:modified_time",
            "article:published_time",
        }:
            metadata[name.replace("article:", "")] = str(content)
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in soup.find_all(
        [
            "script",
            "style",
            "noscript",
            "template",
            "iframe",
            "object",
            "embed",
            "svg",
            "canvas",
            "nav",
            "header",
            "footer",
            "aside",
            "form",
            "button",
            "select",
            "input",
            "textarea",
            "head",
            "img",
            "video",
            "audio",
        ]
    ):
        tag.decompose()
    for tag in soup.find_all(True):
        if tag.decomposed:
            continue
        style = (tag.get("style") or "").replace(" ", "").lower()
        if (
            tag.has_attr("hidden")
            or str(tag.get("aria-hidden", "")).lower() == "true"
            or "display:none" in style
            or "visibility:hidden" in style
        ):
            tag.decompose()
    root = soup.find("main") or soup.find("article") or soup.body or soup
    h1 = root.find("h1")
    if not title and h1:
        title = h1.get_text(" ", strip=True)
    first = root.find(["h1", "h2", "h3"])
    heading = first.get_text(" ", strip=True) if first else ""
    for tag in root.find_all(_HTML_BLOCKS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    for br in root.find_all("br"):
        br.replace_with("\n")
    lines = (" ".join(line.split()) for line in root.get_text().split("\n"))
    text = "\n".join(lines)
    return text, title, metadata, heading


_HTML_BLOCKS = [
    "p",
    "div",
    "section",
    "article",
    "main",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "tr",
    "table",
    "pre",
    "blockquote",
    "figcaption",
    "figure",
    "hr",
    "address",
]


def _pdf(
    data: bytes, timeout: float | None, stall: bool = False
) -> tuple[list[tuple[str, Location]], str, dict[str, str], list[Boxes]]:
    """Parse a PDF in a separate interpreter, stopped after ``timeout`` seconds.

    Without a timeout it is parsed here, in this process (tests and trusted callers). ``-P``
    keeps the script's own folder off ``sys.path``, where ``rag/results.py`` would shadow the
    standard library's ``types``; the environment (``PYTHONPATH``, site-packages) is the caller's.
    ``stall`` asks that interpreter to block instead of parsing (see :func:`load`).
    """
    if not timeout:
        try:
            parts, title, metadata, boxes = read_pdf(data)
            return list(parts), title, metadata, boxes
        except Unreadable as exc:
            raise SkipFile(str(exc)) from None
    try:
        done = subprocess.run(
            [sys.executable, "-P", pdf_module.__file__, *(["--stall"] if stall else [])],
            input=data,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SkipFile(
            f"parsing took longer than {timeout:g} s (a malformed or hostile file?); "
            "raise RAG_FILE_TIMEOUT to allow more"
        ) from None
    try:
        result = json.loads(done.stdout)
    except ValueError:
        why = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or [
            f"exit status {done.returncode}"
        ]
        raise SkipFile(f"the parser crashed on this file ({why[0][:200]})") from None
    if not result["ok"]:
        raise SkipFile(result["reason"])
    parts = [(text, number) for text, number in result["parts"]]
    boxes = [decode_boxes(page) for page in result["boxes"]]
    return parts, result["title"], result["metadata"], boxes
