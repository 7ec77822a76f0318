"""Tiny real PDFs for tests, written by hand."""

from __future__ import annotations

import io
import zlib


def make_pdf(pages: list[str]) -> bytes:
    """A valid PDF with one Helvetica text line on each page."""
    return _pdf([f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode() for text in pages])


def slow_pdf(repeats: int = 200_000) -> bytes:
    """A 20 KB PDF whose one page holds ``repeats`` compressed text operators.

    pypdf needs about 17 s for 200,000 of them on this machine: a stand-in for a file that
    keeps a parser busy, to exercise the per-file time limit.
    """
    return _pdf([b"BT /F1 12 Tf 72 720 Td (loop) Tj ET\n" * repeats], compress=True)


def encrypt_pdf(data: bytes, password: str = "secret") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _pdf(contents: list[bytes], *, compress: bool = False) -> bytes:
    """Catalog, page tree, one page per content stream, one font; xref and trailer."""
    n = len(contents)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode(),
    ]
    font_id = 3 + 2 * n
    for i, content in enumerate(contents):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode()
        )
        body = zlib.compress(content, 9) if compress else content
        flate = b" /Filter /FlateDecode" if compress else b""
        objects.append(b"<< /Length %d%s >>\nstream\n" % (len(body), flate) + body + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()
