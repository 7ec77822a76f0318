"""Turn a file's raw text into the cleaned text that chunks, offsets and citations refer to.

Cleaning removes what is not content (site banners, "join the mailing list", advertisements,
page-footer metadata) so it is never retrieved or cited, and lifts metadata (title, dates) out
of the text. A line is only ever removed when it is not a sentence: a short line without
closing punctuation that matches a call-to-action or advertisement pattern. That keeps every
sentence of an article while dropping the chrome around it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from rag.convert.discovery import TABULAR
from rag.convert.loaders import RawDocument, SkipFile
from rag.preprocess.pdf_cleaning import clean_pages
from rag.store.page_boxes import CharBoxes
from rag.text.locations import page_at
from rag.text.traced import Traced, join, sub

# Calls to action and site chrome; matched only against short non-sentence lines.
_BOILERPLATE = re.compile(
    r"""
    \bjoin\s+now\b | \bjoin\s+(?:the|our)\s+(?:mailing\s+list|newsletter|community)\b
    | \bsubscribe\b | \bsign\s+up\b | \bnewsletter\b | \bmailing\s+list\b
    | \ball\s+rights\s+reserved\b | \bcookie\s+(?:policy|settings|preferences)\b
    | \bskip\s+to\s+(?:main\s+)?content\b | \bclick\s+here\b | \bbuy\s+now\b
    | \border\s+now\b | \bdownload\s+(?:the\s+)?app\b | \bfollow\s+us\b
    | ^share\s+(?:this|on)\b | ^advertisement$ | ^sponsored\b | ^back\s+to\s+top$
    | ^(?:log\s*in|sign\s*in|register)$
    """,
    re.IGNORECASE | re.VERBOSE,
)
# "Title: Subtitle - by Author": a product (book) advertisement line.
_ADVERT = re.compile(
    r"^.{3,160}?\s[-\u2013\u2014]\s+by\s+[A-Z][\w.'\u2019-]*(?:\s+[A-Z][\w.'\u2019-]*){0,3}$"
)
# Page-footer metadata: lifted into metadata and removed from the text.
_META_LINE = re.compile(
    r"^(?P<key>(?:page\s+)?last\s+(?:modified|updated)|last\s+edited|published(?:\s+on)?|posted\s+on)"
    r"\s*:\s*(?P<value>.{1,80})$",
    re.IGNORECASE,
)
# "Key: value" header lines at the very top of a file (PEPs, RFCs, e-mail-like notes).
_HEADER_FIELD = re.compile(r"^(?P<key>[A-Z][A-Za-z-]{1,30}):[ \t]+(?P<value>\S.*)$")
_FRONT_MATTER = re.compile(r"\A---\n(?P<body>.*?)\n---\n", re.DOTALL)
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff\ufffe]")
_SENTENCE_END = re.compile(r"""[.!?:;,"'\u201d\u2019)\]]\s*$""")
_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
_RST_UNDERLINE = re.compile(r"""^([=\-~^"'`#*+])\1{2,}\s*$""")
_MAX_CHROME_WORDS = 20


@dataclass(frozen=True)
class CleanDocument:
    """A document as the index sees it: ``text`` is what every offset points into."""

    source: str
    kind: str
    text: str
    title: str
    sha256: str
    size: int
    mtime_ns: int
    metadata: dict[str, str] = field(default_factory=dict)
    pages: list[tuple[int, int]] = field(default_factory=list)  # (start offset, page number)
    removed: list[str] = field(default_factory=list)  # boilerplate lines, for inspection
    #: (start offset, label) where a location starts: "page 3", "slide 2", "sheet S, row 9"
    locations: list[tuple[int, str]] = field(default_factory=list)
    #: PDFs: the page and box of each character of ``text`` (None when the extractor gave none)
    boxes: CharBoxes | None = field(default=None, compare=False, repr=False)

    def page_at(self, offset: int) -> int | None:
        """Page number of the character at ``offset`` (PDFs only)."""
        return page_at(self.pages, offset)

    def location_at(self, offset: int) -> str:
        """Where the character at ``offset`` is in the original file ("" if unknown)."""
        return page_at(self.locations, offset) or ""


def clean(raw: RawDocument) -> CleanDocument:
    """Clean every part of ``raw`` and join them, keeping where each location starts."""
    metadata = dict(raw.metadata)
    removed: list[str] = []
    pieces: list[str] = []
    pages: list[tuple[int, int]] = []
    locations: list[tuple[int, str]] = []
    ocr_pages = {p for p in metadata.get("ocr_pages", "").split(",") if p}
    parts = raw.parts
    traced = raw.kind == "pdf" and len(raw.boxes) == len(parts)
    if raw.kind == "pdf":
        texts = [t for t, _ in parts]
        if traced:  # extracted characters numbered through the pages, as CharBoxes expects
            starts = [sum(len(t) for t in texts[:k]) for k in range(len(texts))]
            texts = [Traced(t, range(at, at + len(t))) for t, at in zip(texts, starts, strict=True)]
        parts = list(zip(clean_pages(texts), [p for _, p in parts], strict=True))
    offset = 0
    for text, where in parts:
        if raw.kind in TABULAR:
            cleaned = _CONTROL_CHARS.sub("", text).strip()
        else:
            cleaned = _clean_text(
                text, metadata, removed, strip_front_matter=raw.kind == "markdown"
            )
        if not cleaned:
            continue
        if pieces:
            offset += 2
        label = where if isinstance(where, str) else ""
        if isinstance(where, int):
            pages.append((offset, where))
            label = f"page {where}" + (" (OCR)" if str(where) in ocr_pages else "")
        if not locations or locations[-1][1] != label:
            locations.append((offset, label))
        pieces.append(cleaned)
        offset += len(cleaned)
    joined = join("\n\n", pieces)
    text = str(joined)
    boxes = None
    if traced and isinstance(joined, Traced):
        numbers = [where if isinstance(where, int) else 0 for _, where in raw.parts]
        boxes = CharBoxes.build(text, joined.src, numbers, raw.boxes)
    if not text.strip():
        raise SkipFile("no text left after cleaning")
    title = raw.title or metadata.get("title") or _title_from_text(text, raw.kind)
    title = title or _title_from_path(raw.source)
    return CleanDocument(
        source=raw.source,
        kind=raw.kind,
        text=text,
        title=title,
        sha256=raw.sha256,
        size=raw.size,
        mtime_ns=raw.mtime_ns,
        metadata=metadata,
        pages=pages,
        removed=removed,
        locations=locations if any(label for _, label in locations) else [],
        boxes=boxes,
    )


def _clean_text(
    text: str, metadata: dict[str, str], removed: list[str], *, strip_front_matter: bool
) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = sub(_CONTROL_CHARS, "", text)
    if strip_front_matter and (match := _FRONT_MATTER.match(text)):
        for line in match["body"].splitlines():
            key, sep, value = line.partition(":")
            if sep and value.strip():
                metadata.setdefault(key.strip().lower(), value.strip().strip("\"'"))
        text = text[match.end() :]
    lines = [line.rstrip() for line in text.split("\n")]
    _read_header(lines, metadata)
    kept: list[str] = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        # Only a line that stands alone as a paragraph can be chrome: a wrapped line in the
        # middle of a paragraph is part of a sentence, whatever words it holds.
        alone = (i == 0 or not lines[i - 1].strip()) and (
            i + 1 == len(lines) or not lines[i + 1].strip()
        )
        if stripped and alone and (match := _META_LINE.match(stripped)):
            key = re.sub(r"\W+", "_", match["key"].lower()).removeprefix("page_")
            metadata.setdefault(key, match["value"].strip())
            removed.append(str(stripped))
            continue
        if stripped and alone and _is_chrome(stripped):
            removed.append(str(stripped))
            continue
        kept.append(line)
    text = sub(_BLANK_LINES, "\n\n", join("\n", kept))
    return text.strip("\n").rstrip()


def _is_chrome(line: str) -> bool:
    """A short line that is not a sentence and reads as a call to action or an advert."""
    if len(line.split()) > _MAX_CHROME_WORDS or line.endswith((".", "!", "?")):
        return False
    return bool(_BOILERPLATE.search(line) or _ADVERT.match(line))


def _read_header(lines: list[str], metadata: dict[str, str]) -> None:
    """Lift a leading block of ``Key: value`` fields (two or more) into metadata."""
    fields: dict[str, str] = {}
    for line in lines:
        if not line.strip():
            break
        match = _HEADER_FIELD.match(line)
        if match:
            fields[match["key"].lower()] = match["value"].strip()
        elif not line[:1].isspace():  # continuation lines are indented
            return
    if len(fields) >= 2:
        for key, value in fields.items():
            metadata.setdefault(key, value)


def _title_from_text(text: str, kind: str) -> str:
    lines = text.split("\n")
    if kind == "markdown":
        for line in lines:
            if line.startswith("# "):
                return line[2:].strip(" #")
    for i, line in enumerate(lines[:-1]):
        if line.strip() and _RST_UNDERLINE.match(lines[i + 1]) and not _RST_UNDERLINE.match(line):
            return line.strip()
        if i > 40:
            break
    first = next((line.strip() for line in lines if line.strip()), "")
    if first and len(first.split()) <= 15 and not _SENTENCE_END.search(first):
        return first.lstrip("#").strip()
    return ""


def _title_from_path(source: str) -> str:
    stem = PurePosixPath(source).stem
    return re.sub(r"[-_]+", " ", stem).strip().capitalize() or source
