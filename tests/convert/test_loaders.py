"""Loaders read every supported format and give a specific reason for every file they skip."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rag.convert.decoding import decode_text
from rag.convert.discovery import discover, file_digest
from rag.convert.loaders import SkipFile, load
from tests.pdfs import encrypt_pdf, make_pdf


def load_bytes(tmp_path: Path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    content, sha = file_digest(path, 10**8)
    return load(path, name, content, sha)


def test_cp1252_text_is_decoded_not_dropped(tmp_path):
    text = "Caf\u00e9 \u201cquoted\u201d \u2013 na\u00efve r\u00e9sum\u00e9 for \u00a35."
    doc = load_bytes(tmp_path, "old.txt", text.encode("cp1252"))
    assert doc.parts[0][0] == text


def test_utf16_with_and_without_bom(tmp_path):
    text = "Unicode text in UTF-16, with enough words to be detected reliably. " * 3
    assert load_bytes(tmp_path, "a.txt", text.encode("utf-16")).parts[0][0] == text
    assert decode_text(text.encode("utf-16-le")) == text


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"   \n\t ", "empty file"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "PNG image"),
        (bytes(range(256)) * 64, "binary"),
        (os.urandom(4096), "binary"),
    ],
)
def test_binary_and_empty_files_are_skipped_with_a_reason(tmp_path, data, reason):
    with pytest.raises(SkipFile, match=reason):
        load_bytes(tmp_path, "bad.txt", data)


def test_text_with_a_few_nul_and_control_bytes_is_text(tmp_path):
    data = ("A normal sentence about things. " * 40).encode() + b"\x00\x07" + b" More text."
    doc = load_bytes(tmp_path, "nul.txt", data)
    assert "More text." in doc.parts[0][0]


def test_html_keeps_main_text_only(tmp_path):
    html = """<html><head><title>The Page</title><style>p{color:red}</style>
    <meta name="author" content="Ann"></head><body>
    <nav>Home | About</nav><header>Site header</header>
    <main><h1>Heading</h1><p>Real content sentence.</p><!-- a comment -->
    <p style="display: none">Hidden text</p><div hidden>Also hidden</div>
    <script>alert('x')</script><p>Second paragraph.</p></main>
    <footer>Copyright</footer></body></html>"""
    doc = load_bytes(tmp_path, "page.html", html.encode())
    text = doc.parts[0][0]
    assert doc.title == "The Page"
    assert doc.metadata["author"] == "Ann"
    assert "Real content sentence." in text and "Second paragraph." in text
    for gone in (
        "Home",
        "Site header",
        "alert",
        "a comment",
        "Hidden text",
        "Also hidden",
        "Copyright",
        "color:red",
    ):
        assert gone not in text


def test_pdf_pages_are_kept(tmp_path):
    doc = load_bytes(tmp_path, "two.pdf", make_pdf(["Alpha page one.", "Beta page two."]))
    assert [(t.strip(), p) for t, p in doc.parts] == [("Alpha page one.", 1), ("Beta page two.", 2)]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"%PDF-1.4\n garbage that is not a pdf", "PDF"),
        (make_pdf(["x"])[:60], "PDF"),
        (encrypt_pdf(make_pdf(["Secret page."])), "encrypted PDF"),
        (make_pdf([" "]), "no extractable text"),
    ],
)
def test_bad_pdfs_are_skipped_with_a_reason(tmp_path, data, reason):
    with pytest.raises(SkipFile, match=reason):
        load_bytes(tmp_path, "bad.pdf", data)


def test_discover_walks_recursively_and_reports_what_it_ignores(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "sub" / "b.md").write_text("b")
    (tmp_path / "c.pages").write_text("c")
    (tmp_path / ".hidden.txt").write_text("h")
    outside = tmp_path.parent / "outside-secret.txt"
    outside.write_text("secret")
    (tmp_path / "link.txt").symlink_to(outside)
    files, skipped = discover(tmp_path)
    assert [f.relative_to(tmp_path).as_posix() for f in files] == ["a.txt", "sub/b.md"]
    reasons = {s.path: s.reason for s in skipped}
    assert "unsupported" in reasons["c.pages"]
    assert "outside the corpus" in reasons["link.txt"]


def test_a_file_that_disappears_is_a_reason_not_a_crash(tmp_path):
    with pytest.raises(SkipFile, match="disappeared"):
        file_digest(tmp_path / "gone.txt", 100)


def test_oversized_files_are_skipped(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 2000)
    with pytest.raises(SkipFile, match="over the"):
        file_digest(path, 1000)
