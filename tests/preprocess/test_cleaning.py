"""Cleaning removes page chrome, keeps every sentence, and lifts metadata out of the text."""

from __future__ import annotations

import re

from rag.convert.loaders import RawDocument
from rag.preprocess.cleaning import clean
from tests.conftest import CORPUS, SEED


def raw(text: str, kind: str = "text", source: str = "doc.txt") -> RawDocument:
    return RawDocument(
        source=source, kind=kind, parts=[(text, None)], sha256="x", size=len(text), mtime_ns=0
    )


def test_seed_page_loses_its_chrome_but_no_sentence():
    original = (CORPUS / SEED).read_text(encoding="utf-8")
    doc = clean(raw(original, source=SEED))
    assert "JOIN NOW" not in doc.text
    assert "Join the mailing list" not in doc.text
    assert "One Billion Americans" not in doc.text
    assert "Page last modified" not in doc.text
    assert doc.title == "Afghanistan - Pakistan Relations"
    assert doc.metadata["last_modified"] == "23-12-2018 18:41:45 ZULU"
    # Every sentence of the article survives, byte for byte.
    paragraphs = [p.strip() for p in original.split("\n\n") if p.strip()]
    article = [p for p in paragraphs if p.endswith(".")]
    assert len(article) == 13
    for paragraph in article:
        assert paragraph in doc.text
    assert len(doc.removed) == 4


def test_chrome_words_inside_a_wrapped_paragraph_are_kept():
    text = (
        "Proposals are discussed on the python-dev mailing list\n"
        "and then decided. Subscribe here\n"
        "only if you want every message.\n\n"
        "Subscribe to our newsletter\n"
    )
    doc = clean(raw(text))
    assert "mailing list\nand then decided. Subscribe here\nonly if" in doc.text
    assert "newsletter" not in doc.text


def test_a_sentence_that_mentions_signing_up_is_content():
    doc = clean(raw("Countries sign up to the treaty every year.\n\nJoin now"))
    assert doc.text == "Countries sign up to the treaty every year."


def test_header_fields_become_metadata_and_stay_in_text():
    text = "PEP: 8\nTitle: Style Guide for Python Code\nAuthor: Guido\n\nBody text here."
    doc = clean(raw(text, kind="rst", source="pep-0008.rst"))
    assert doc.title == "Style Guide for Python Code"
    assert doc.metadata["author"] == "Guido"
    assert doc.text.startswith("PEP: 8")


def test_markdown_front_matter_and_heading():
    text = '---\ntitle: "Notes"\ndate: 2024-01-01\n---\n# Heading one\n\nSome text.'
    doc = clean(raw(text, kind="markdown", source="notes.md"))
    assert doc.title == "Notes"
    assert doc.metadata["date"] == "2024-01-01"
    assert not doc.text.startswith("---")


def test_control_characters_and_crlf_are_normalised():
    doc = clean(raw("Line one\r\nline\x00 two\x07.\r\n\r\n\r\n\r\nNext."))
    assert doc.text == "Line one\nline two.\n\nNext."
    assert not re.search(r"[\x00-\x08]", doc.text)


def test_pdf_pages_keep_their_offsets():
    parts = [("First page text.", 1), ("Second page text.", 2)]
    doc = clean(RawDocument("a.pdf", "pdf", parts, "x", 1, 0))
    assert doc.text == "First page text.\n\nSecond page text."
    assert doc.page_at(0) == 1
    assert doc.page_at(doc.text.index("Second")) == 2


def test_title_falls_back_to_the_file_name():
    doc = clean(
        raw(
            "just one long sentence that is not a title at all, really.",
            source="dir/my_notes-2024.txt",
        )
    )
    assert doc.title == "My notes 2024"
