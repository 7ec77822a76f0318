"""PDF text extraction, runnable in a separate process.

A hostile or pathological PDF can keep a pure-Python parser busy for minutes, and only a
process can be stopped, so :mod:`rag.loaders` runs this file as a script in a fresh
interpreter with a time limit. A fresh interpreter rather than a fork of the caller: the
caller may be a web server or hold model threads, and a lock another thread held at the
fork stays locked forever in a forked child, which then hangs until the time limit.

The module imports nothing from :mod:`rag` (only ``pypdf``), so starting it costs about a
tenth of a second rather than the whole package's import.
"""

from __future__ import annotations

import io
import json
import sys

Pages = list[tuple[str, int | None]]


class Unreadable(Exception):
    """The PDF yields no usable text; the message says why, for the ingest summary."""


def parse_pdf(data: bytes) -> tuple[Pages, str, dict[str, str]]:
    """Text of each page (with 1-based page numbers), the title and reader-facing metadata."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception:  # noqa: BLE001 - pypdf raises many types for bad crypto
                ok = 0
            if not ok:
                raise Unreadable("encrypted PDF (needs a password)")
        parts = [(page.extract_text() or "", number) for number, page in enumerate(reader.pages, 1)]
        info = reader.metadata or {}
        title = str(info.get("/Title") or "").strip()
        metadata = {
            key.lstrip("/").lower(): str(value)
            for key, value in info.items()
            if key in ("/Author", "/CreationDate", "/ModDate", "/Subject") and value
        }
    except Unreadable:
        raise
    except Exception as exc:  # noqa: BLE001 - a parser of untrusted files fails in many ways
        kind = "corrupt or unreadable PDF" if isinstance(exc, PyPdfError) else "unreadable PDF"
        raise Unreadable(f"{kind} ({type(exc).__name__}: {str(exc)[:200]})") from None
    if not any(text.strip() for text, _ in parts):
        raise Unreadable("no extractable text (a scanned PDF without a text layer?)")
    return parts, title, metadata


def main() -> None:
    """Read a PDF on stdin, write ``{"ok": ..., ...}`` as JSON on stdout."""
    data = sys.stdin.buffer.read()
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
