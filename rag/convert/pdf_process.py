"""A PDF parsed in a separate interpreter under a time limit, as :mod:`rag.convert.pdf` explains.

The parser's own module runs as a script; this side starts it, feeds it the file, stops it
after the time limit, and turns whatever comes back (a result, a crash, silence) into parts or
a :class:`~rag.errors.SkipFile` that says what happened.
"""

from __future__ import annotations

import json
import subprocess
import sys

from rag.convert import pdf as pdf_module
from rag.convert.office import Location
from rag.convert.pdf import Boxes, Unreadable, decode_boxes, read_pdf
from rag.errors import SkipFile


def parse_pdf(
    data: bytes, timeout: float | None, stall: bool = False
) -> tuple[list[tuple[str, Location]], str, dict[str, str], list[Boxes]]:
    """Parse a PDF in a separate interpreter, stopped after ``timeout`` seconds.

    Without a timeout it is parsed here, in this process (tests and trusted callers). ``-P``
    keeps the script's own folder (``rag/convert/``) off ``sys.path``, so no module there can
    shadow a standard-library one; the environment (``PYTHONPATH``, site-packages) is the
    caller's.
    ``stall`` asks that interpreter to block instead of parsing (see
    :func:`rag.convert.loaders.load`).
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
