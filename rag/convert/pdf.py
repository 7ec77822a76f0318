"""PDF text extraction (and OCR of pages without text), runnable in a separate process.

A hostile or pathological PDF can keep a parser busy for minutes, and only a process can be
stopped, so :mod:`rag.convert.pdf_process` runs this file as a script in a fresh interpreter with
a time limit. A fresh interpreter rather than a fork of the caller: the caller may be a web server
or hold model threads, and a lock another thread held at the fork stays locked forever in a
forked child, which then hangs until the time limit.

The module imports nothing from :mod:`rag` (only ``pypdfium2``), so starting it costs about a
tenth of a second rather than the whole package's import.

Text comes from pypdfium2 (PDFium, the PDF engine of Chrome): on the shared real-world PDFs
it reads about 20 times as many pages a second as pypdf and 45 times as many as
pdfminer.six (221, 12.1 and 4.7 in one run), and its text is as good or better after
:func:`rag.preprocess.pdf_cleaning.clean_pages` (``python -m bench.pdf_extractors``).
Pages without a usable text layer (scans, or fonts that map to no characters) are rendered
and OCR'd with Tesseract (``python -m bench.ocr``: on English pages about as accurate as
RapidOCR, better on prose and worse on ruled tables, and ten times as fast), from this same
process and so under the same time limit.

Each page's text comes with a box per character (:func:`read_pdf`), so that a citation can be
drawn on the page without parsing the file again: PDFium's character boxes for a text layer,
Tesseract's word boxes (shared out evenly among the word's letters) for an OCR'd page. A box is
``(left, bottom, right, top)`` in PDF page coordinates: points, in the page's own user space
(origin at its bottom left as PDFium reports it), before the page's ``/Rotate``.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
from array import array
from typing import Any, NamedTuple

Pages = list[tuple[str, int | None]]
#: per character of a page's text, ``left, bottom, right, top`` (zeros: no box)
Boxes = array
NO_BOX = (0.0, 0.0, 0.0, 0.0)

# 200 dpi: on the shared PDFs' pages Tesseract is 3 times as fast as at 300 dpi (2.3 against
# 7.2 s a page) for 1.3 points less word F1 (0.804 against 0.817), and the per-file time
# limit covers a scan 3 times as long (python -m bench.ocr --dpi 200).
OCR_DPI = 200
# Longest side of a rendered page, in pixels (A3 at 300 dpi): a hostile page 200 inches wide
# would otherwise render to gigabytes.
MAX_RENDER_PIXELS = 5000
MIN_LETTERS = 20  # a page with fewer letters in its text layer is OCR'd
MIN_CONFIDENCE = 60.0  # mean Tesseract word confidence below which OCR text is noise
INSTALL_TESSERACT = "apt-get install tesseract-ocr tesseract-ocr-eng"
# FPDF_GetLastError codes (fpdfview.h)
_ERR_FILE, _ERR_FORMAT, _ERR_PASSWORD, _ERR_SECURITY = 2, 3, 4, 6


class Unreadable(Exception):
    """The PDF yields no usable text; the message says why, for the ingest summary."""


class PdfText(NamedTuple):
    """What :func:`read_pdf` found: pages, title, metadata and each page's character boxes."""

    parts: Pages
    title: str
    metadata: dict[str, str]
    #: per page, four floats per character of its text (see :data:`Boxes`); empty if not asked
    boxes: list[Boxes]


def parse_pdf(data: bytes) -> tuple[Pages, str, dict[str, str]]:
    """Text of each page (with 1-based page numbers), the title and reader-facing metadata.

    See :func:`read_pdf`, which also returns where each character is on its page.
    """
    parts, title, metadata, _ = read_pdf(data, boxes=False)
    return parts, title, metadata


def read_pdf(data: bytes, *, boxes: bool = True) -> PdfText:
    """Text of each page (with 1-based page numbers), the title and reader-facing metadata.

    Pages whose text layer holds fewer than ``MIN_LETTERS`` letters are OCR'd when the
    ``tesseract`` command is installed; their numbers go into ``metadata["ocr_pages"]``
    ("1,3") and the engine into ``metadata["ocr"]`` ("tesseract 5.3.0"). When OCR is needed
    but not installed, those pages' numbers go into ``metadata["pages_without_text"]``.

    Raises:
        Unreadable: encrypted with a password, damaged, or no text at all (with what to
            install when OCR would have read it).
    """
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise Unreadable(_open_error(exc)) from None
    try:
        metadata_dict = document.get_metadata_dict(skip_empty=True)
        pages = [_page_text(document, index, boxes) for index in range(len(document))]
        parts: Pages = [(text, number) for number, (text, _) in enumerate(pages, 1)]
        page_boxes = [found for _, found in pages]
        metadata = {
            key.lower(): value.strip()
            for key, value in metadata_dict.items()
            if key in ("Author", "CreationDate", "ModDate", "Subject") and value.strip()
        }
        title = metadata_dict.get("Title", "").strip()
        scanned = [number for text, number in parts if _letters(text) < MIN_LETTERS]
        if scanned:
            parts = _ocr(document, parts, scanned, metadata, page_boxes)
    except Unreadable:
        raise
    except Exception as exc:  # noqa: BLE001 - a parser of untrusted files fails in many ways
        raise Unreadable(f"unreadable PDF ({type(exc).__name__}: {str(exc)[:200]})") from None
    if not any(text.strip() for text, _ in parts):
        raise Unreadable("no extractable text (a PDF without a text layer, and OCR found none)")
    return PdfText(parts, title, metadata, page_boxes if boxes else [])


def encode_boxes(boxes: Boxes) -> str:
    """A page's boxes as text for the JSON that crosses the process boundary (float32, base64)."""
    return base64.b64encode(boxes.tobytes()).decode("ascii")


def decode_boxes(text: str) -> Boxes:
    """The inverse of :func:`encode_boxes`."""
    boxes = array("f")
    boxes.frombytes(base64.b64decode(text))
    return boxes


def _open_error(exc: Exception) -> str:
    code = getattr(exc, "err_code", None)
    if code == _ERR_PASSWORD:
        return "encrypted PDF (needs a password)"
    if code == _ERR_SECURITY:
        return "encrypted PDF (unsupported security handler)"
    if code == _ERR_FORMAT:
        return "corrupt or unreadable PDF (damaged structure: PDFium reports a data format error)"
    if code == _ERR_FILE:
        return "corrupt or unreadable PDF (not a PDF file, or truncated)"
    return f"corrupt or unreadable PDF ({str(exc)[:200]})"


def _page_text(document: Any, index: int, with_boxes: bool = True) -> tuple[str, Boxes]:
    """One page's text layer, with newline line ends and PDFium's hyphen mark spelled out.

    PDFium writes U+FFFE where a line ended in a hyphen it took for a soft one, and drops
    that line break; "-" and the line break put back what the page shows, and the
    hyphenation rule of :mod:`rag.preprocess.pdf_cleaning` decides whether the word is rejoined.
    The boxes follow the returned text: PDFium's text has one character per character index
    (its generated spaces and line ends included), a CR LF line end takes one empty box,
    and the "-" for U+FFFE takes that character's box.
    """
    page = document[index]
    textpage = page.get_textpage()
    try:
        raw = textpage.get_text_range()
        count = textpage.count_chars() if with_boxes else 0
        char_boxes = [textpage.get_charbox(i) for i in range(count)] if count == len(raw) else []
    finally:
        textpage.close()
        page.close()
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\ufffe", "-\n")
    boxes = array("f")
    if not with_boxes:
        return text, boxes
    if not char_boxes:  # PDFium disagrees with itself: no boxes rather than wrong ones
        boxes.extend(NO_BOX * len(text))
        return text, boxes
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\r":
            boxes.extend(NO_BOX)
            i += 2 if raw[i + 1 : i + 2] == "\n" else 1
            continue
        boxes.extend(char_boxes[i])
        if ch == "\ufffe":
            boxes.extend(NO_BOX)
        i += 1
    return text, boxes


def _letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


def _ocr(
    document: Any, parts: Pages, scanned: list[int], metadata: dict[str, str], boxes: list[Boxes]
) -> Pages:
    """OCR the ``scanned`` pages; keep the OCR text only where it is confident and longer.

    A page whose OCR text is kept gets the OCR words' boxes in ``boxes``.
    """
    if not shutil.which("tesseract"):
        if len(scanned) == len(parts) and not any(_letters(text) for text, _ in parts):
            raise Unreadable(
                "scanned PDF without a text layer: install Tesseract "
                f"({INSTALL_TESSERACT}) to read it"
            )
        metadata["pages_without_text"] = ",".join(map(str, scanned))
        return parts
    done: list[int] = []
    texts = {number: text for text, number in parts}
    for at, number in enumerate(scanned):
        try:
            image, to_page = _render_pgm(document, number - 1)
            text, confidence, pixel_boxes = _tesseract(image)
        except Unreadable:
            if any(_letters(text) for text, _ in parts):
                metadata["pages_without_text"] = ",".join(map(str, scanned[at:]))
                break
            raise
        if confidence >= MIN_CONFIDENCE and _letters(text) > _letters(texts[number]):
            texts[number] = text
            boxes[number - 1] = _to_page(pixel_boxes, to_page)
            done.append(number)
    if done:
        metadata["ocr_pages"] = ",".join(map(str, done))
        metadata["ocr"] = _tesseract_version()
    return [(texts[number], number) for _, number in parts]


def _render_pgm(document: Any, index: int) -> tuple[bytes, tuple[float, ...]]:
    """The page rendered at ``OCR_DPI`` in grey, as a binary PGM (Tesseract reads it as is).

    Also returns the affine map from the image's pixels to page coordinates (see
    :func:`device_to_page`), for the OCR words' boxes.
    """
    page = document[index]
    try:
        width, height = page.get_size()  # points
        scale = min(OCR_DPI / 72, MAX_RENDER_PIXELS / max(width, height, 1.0))
        bitmap = page.render(scale=scale, grayscale=True)
        width, height, stride = bitmap.width, bitmap.height, bitmap.stride
        buffer = bytes(bitmap.buffer)
        to_page = device_to_page(page, width, height)
    finally:
        page.close()
    if stride != width:
        buffer = b"".join(buffer[row * stride : row * stride + width] for row in range(height))
    return b"P5\n%d %d\n255\n" % (width, height) + buffer, to_page


def device_to_page(page: Any, width: int, height: int) -> tuple[float, ...]:
    """``(a, b, c, d, e, f)``: page ``x = a*px + b*py + c``, ``y = d*px + e*py + f``.

    For the page rendered at ``width`` x ``height`` pixels; PDFium's own conversion, so a
    crop box that does not start at the origin and the page's ``/Rotate`` are accounted for.
    Three corners fix the affine map (PDFium takes whole pixels; the image's far corners
    make the rounding negligible).
    """
    import ctypes

    import pypdfium2.raw as raw

    def convert(px: int, py: int) -> tuple[float, float]:
        x, y = ctypes.c_double(), ctypes.c_double()
        raw.FPDF_DeviceToPage(page.raw, 0, 0, width, height, 0, px, py, x, y)
        return x.value, y.value

    (x0, y0), (x1, y1), (x2, y2) = convert(0, 0), convert(width, 0), convert(0, height)
    return (
        (x1 - x0) / width,
        (x2 - x0) / height,
        x0,
        (y1 - y0) / width,
        (y2 - y0) / height,
        y0,
    )


def _to_page(pixel_boxes: list[tuple[float, float, float, float]], m: tuple[float, ...]) -> Boxes:
    """Pixel boxes ``(left, top, right, bottom)`` as page boxes ``(left, bottom, right, top)``."""
    a, b, c, d, e, f = m
    boxes = array("f")
    for box in pixel_boxes:
        if box == NO_BOX:
            boxes.extend(NO_BOX)
            continue
        px0, py0, px1, py1 = box
        xs = (a * px0 + b * py0 + c, a * px1 + b * py1 + c)
        ys = (d * px0 + e * py0 + f, d * px1 + e * py1 + f)
        boxes.extend((min(xs), min(ys), max(xs), max(ys)))
    return boxes


def _tesseract(image: bytes) -> tuple[str, float, list[tuple[float, float, float, float]]]:
    """Text of one page image, the mean word confidence (0-100) and a box per character.

    Read from Tesseract's TSV. The text keeps Tesseract's layout: words of a line joined by
    spaces, lines by line breaks, paragraphs and blocks by a blank line. A word's box is shared
    out evenly among its characters (``(left, top, right, bottom)`` in pixels; separators get
    :data:`NO_BOX`). Tesseract is killed with this process (``PR_SET_PDEATHSIG``), so the
    caller's time limit also stops it.
    """
    env = dict(os.environ)
    env.setdefault("OMP_THREAD_LIMIT", "1")  # one page at a time: threads only add overhead
    done = subprocess.run(
        ["tesseract", "stdin", "stdout", "-l", "eng", "--psm", "3", "tsv"],
        input=image,
        capture_output=True,
        env=env,
        check=False,
        preexec_fn=_die_with_parent,  # safe: this process runs no threads
    )
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
        raise Unreadable(f"OCR failed ({why[0][:200]}); is {INSTALL_TESSERACT} complete?")
    Word = tuple[str, tuple[int, int, int, int]]
    paragraphs: dict[tuple[str, str], dict[str, list[Word]]] = {}
    confidences: list[tuple[float, int]] = []
    for row in done.stdout.decode(errors="replace").splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) < 12 or cells[0] != "5" or not cells[11].strip():
            continue
        word = cells[11].strip()
        left, top, width, height = (int(cell) for cell in cells[6:10])
        paragraph = paragraphs.setdefault((cells[2], cells[3]), {})  # (block, paragraph)
        paragraph.setdefault(cells[4], []).append((word, (left, top, width, height)))  # line
        confidences.append((float(cells[10]), len(word)))
    pieces: list[str] = []
    boxes: list[tuple[float, float, float, float]] = []

    def add(piece: str, box: tuple[int, int, int, int] | None = None) -> None:
        pieces.append(piece)
        if box is None:
            boxes.extend([NO_BOX] * len(piece))
            return
        left, top, width, height = box
        step = width / len(piece)
        for i in range(len(piece)):
            boxes.append((left + i * step, top, left + (i + 1) * step, top + height))

    for p, lines in enumerate(paragraphs.values()):
        for i, words in enumerate(lines.values()):
            if p or i:
                add("\n" if i else "\n\n")
            for j, (word, box) in enumerate(words):
                if j:
                    add(" ")
                add(word, box)
    weight = sum(n for _, n in confidences)
    mean = sum(c * n for c, n in confidences) / weight if weight else 0.0
    return "".join(pieces), mean, boxes


def _die_with_parent() -> None:
    """In the OCR child: ask Linux to kill it when this process dies (no-op elsewhere)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort on systems without prctl
        pass


def _tesseract_version() -> str:
    done = subprocess.run(["tesseract", "--version"], capture_output=True, text=True, check=False)
    first = (done.stdout or done.stderr).splitlines()[:1]
    return first[0].strip() if first else "tesseract"


def main() -> None:
    """Read a PDF on stdin, write ``{"ok": ..., ...}`` as JSON on stdout.

    With ``--stall`` (a test seam, ``RAG_PAUSE_AT=pdf:N``) it reads the PDF and then blocks
    for good: a parser that never finishes, whatever the machine's speed, so a test of the
    caller's time limit does not depend on how long a slow file takes today.
    """
    data = sys.stdin.buffer.read()
    if "--stall" in sys.argv[1:]:
        while True:
            time.sleep(60)
    try:
        parts, title, metadata, boxes = read_pdf(data)
        result = {
            "ok": True,
            "parts": parts,
            "title": title,
            "metadata": metadata,
            "boxes": [encode_boxes(page) for page in boxes],
        }
    except Unreadable as exc:
        result = {"ok": False, "reason": str(exc)}
    except BaseException as exc:  # noqa: BLE001 - report, whatever it is, to the parent
        result = {"ok": False, "reason": f"unreadable file ({type(exc).__name__}: {exc!s:.200})"}
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main()
