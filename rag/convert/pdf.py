"""PDF text extraction (and OCR of pages without text), runnable in a separate process.

A hostile or pathological PDF can keep a parser busy for minutes, and only a process can be
stopped, so :mod:`rag.convert.loaders` runs this file as a script in a fresh interpreter with a time
limit. A fresh interpreter rather than a fork of the caller: the caller may be a web server
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
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from typing import Any

Pages = list[tuple[str, int | None]]

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


def parse_pdf(data: bytes) -> tuple[Pages, str, dict[str, str]]:
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
        texts = [_page_text(document, index) for index in range(len(document))]
        parts: Pages = [(text, number) for number, text in enumerate(texts, 1)]
        metadata = {
            key.lower(): value.strip()
            for key, value in metadata_dict.items()
            if key in ("Author", "CreationDate", "ModDate", "Subject") and value.strip()
        }
        title = metadata_dict.get("Title", "").strip()
        scanned = [number for text, number in parts if _letters(text) < MIN_LETTERS]
        if scanned:
            parts = _ocr(document, parts, scanned, metadata)
    except Unreadable:
        raise
    except Exception as exc:  # noqa: BLE001 - a parser of untrusted files fails in many ways
        raise Unreadable(f"unreadable PDF ({type(exc).__name__}: {str(exc)[:200]})") from None
    if not any(text.strip() for text, _ in parts):
        raise Unreadable("no extractable text (a PDF without a text layer, and OCR found none)")
    return parts, title, metadata


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


def _page_text(document: Any, index: int) -> str:
    """One page's text layer, with newline line ends and PDFium's hyphen mark spelled out.

    PDFium writes U+FFFE where a line ended in a hyphen it took for a soft one, and drops
    that line break; "-" and the line break put back what the page shows, and the
    hyphenation rule of :mod:`rag.preprocess.pdf_cleaning` decides whether the word is rejoined.
    """
    page = document[index]
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
    finally:
        textpage.close()
        page.close()
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufffe", "-\n")


def _letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


def _ocr(document: Any, parts: Pages, scanned: list[int], metadata: dict[str, str]) -> Pages:
    """OCR the ``scanned`` pages; keep the OCR text only where it is confident and longer."""
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
            text, confidence = _tesseract(_render_pgm(document, number - 1))
        except Unreadable:
            if any(_letters(text) for text, _ in parts):
                metadata["pages_without_text"] = ",".join(map(str, scanned[at:]))
                break
            raise
        if confidence >= MIN_CONFIDENCE and _letters(text) > _letters(texts[number]):
            texts[number] = text
            done.append(number)
    if done:
        metadata["ocr_pages"] = ",".join(map(str, done))
        metadata["ocr"] = _tesseract_version()
    return [(texts[number], number) for _, number in parts]


def _render_pgm(document: Any, index: int) -> bytes:
    """The page rendered at ``OCR_DPI`` in grey, as a binary PGM (Tesseract reads it as is)."""
    page = document[index]
    try:
        width, height = page.get_size()  # points
        scale = min(OCR_DPI / 72, MAX_RENDER_PIXELS / max(width, height, 1.0))
        bitmap = page.render(scale=scale, grayscale=True)
        width, height, stride = bitmap.width, bitmap.height, bitmap.stride
        buffer = bytes(bitmap.buffer)
    finally:
        page.close()
    if stride != width:
        buffer = b"".join(buffer[row * stride : row * stride + width] for row in range(height))
    return b"P5\n%d %d\n255\n" % (width, height) + buffer


def _tesseract(image: bytes) -> tuple[str, float]:
    """Text of one page image and the mean word confidence (0-100), from Tesseract's TSV.

    The text keeps Tesseract's layout: words of a line joined by spaces, lines by line
    breaks, paragraphs and blocks by a blank line. Tesseract is killed with this process
    (``PR_SET_PDEATHSIG``), so the caller's time limit also stops it.
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
    paragraphs: dict[tuple[str, str], dict[str, list[str]]] = {}
    confidences: list[tuple[float, int]] = []
    for row in done.stdout.decode(errors="replace").splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) < 12 or cells[0] != "5" or not cells[11].strip():
            continue
        word = cells[11].strip()
        paragraph = paragraphs.setdefault((cells[2], cells[3]), {})  # (block, paragraph)
        paragraph.setdefault(cells[4], []).append(word)  # line
        confidences.append((float(cells[10]), len(word)))
    text = "\n\n".join(
        "\n".join(" ".join(words) for words in lines.values()) for lines in paragraphs.values()
    )
    weight = sum(n for _, n in confidences)
    mean = sum(c * n for c, n in confidences) / weight if weight else 0.0
    return text, mean


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
        parts, title, metadata = parse_pdf(data)
        result = {"ok": True, "parts": parts, "title": title, "metadata": metadata}
    except Unreadable as exc:
        result = {"ok": False, "reason": str(exc)}
    except BaseException as exc:  # noqa: BLE001 - report, whatever it is, to the parent
        result = {"ok": False, "reason": f"unreadable file ({type(exc).__name__}: {exc!s:.200})"}
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main()
