"""Bytes of unknown encoding to text, or a :class:`~rag.errors.SkipFile` saying it is not text.

A corpus folder holds whatever users drop into it: text in any code page, UTF-16 from
Windows tools, and binary files with a text extension. Deciding which is which, before any
cleaning, keeps binary junk out of the index and tells the user why a file was left out.
"""

from __future__ import annotations

import logging
import re

from rag.errors import SkipFile

log = logging.getLogger(__name__)

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
