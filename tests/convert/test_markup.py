"""reStructuredText and Markdown become plain text: headings, lists, tables and code keep
their text without their markup, and nothing a reader sees is lost."""

from __future__ import annotations

import logging
import re
from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.convert.markup import markdown_to_text, rst_to_text

DATA = Path(__file__).resolve().parents[1] / "data" / "markup"
UNDERLINE = re.compile(r"""^[=\-~^"'`#*+]{3,}$""")


def paragraphs(text: str) -> list[str]:
    return text.split("\n\n")


# --------------------------------------------------------------------------------- PEP 8


@cache
def pep8() -> tuple[str, dict[str, str]]:
    """The first 262 lines of the real PEP 8 (header, sections, a list, roles, code)."""
    return rst_to_text((DATA / "pep-0008-head.rst").read_text(encoding="utf-8"))


def test_pep_header_becomes_key_value_lines_and_metadata():
    text, meta = pep8()
    assert paragraphs(text)[0].split("\n") == [
        "PEP: 8",
        "Title: Style Guide for Python Code",
        "Author: Guido van Rossum <guido@python.org>, Barry Warsaw <barry@python.org>, "
        "Alyssa Coghlan <ncoghlan@gmail.com>",
        "Status: Active",
        "Type: Process",
        "Created: 05-Jul-2001",
        "Post-History: 05-Jul-2001, 01-Aug-2013",
    ]
    assert meta["title"] == "Style Guide for Python Code"
    assert meta["pep"] == "8"
    assert meta["post-history"] == "05-Jul-2001, 01-Aug-2013"


def test_pep_headings_are_bare_lines_and_paragraphs_are_joined():
    text, _ = pep8()
    blocks = paragraphs(text)
    assert blocks[1] == "Introduction"
    # The wrapped source paragraph is one line; :pep:`title <7>` reads as its title.
    assert blocks[2] == (
        "This document gives coding conventions for the Python code comprising the standard "
        "library in the main Python distribution. Please see the companion informational PEP "
        "describing style guidelines for the C code in the C implementation of Python."
    )
    assert blocks[3].startswith("This document and PEP 257 (Docstring Conventions) were")
    assert blocks[3].endswith("with some additions from Barry's style guide [2].")
    heading = blocks.index("Maximum Line Length")
    assert blocks[heading + 1] == "Limit all lines to a maximum of 79 characters."
    assert not [line for line in text.split("\n") if UNDERLINE.match(line.strip())]
    assert ":pep:" not in text and "``" not in text and ".. " not in text


def test_pep_enumerated_list_keeps_numbers_one_item_a_line():
    text, _ = pep8()
    block = next(b for b in paragraphs(text) if b.startswith("1. "))
    lines = block.split("\n")
    assert [line[:3] for line in lines] == ["1. ", "2. ", "3. ", "4. "]
    assert lines[0] == (
        "1. When applying the guideline would make the code less readable, even for someone "
        "who is used to reading code that follows this PEP."
    )


def test_pep_code_block_is_verbatim():
    text, _ = pep8()
    assert (
        "# Aligned with opening delimiter.\n"
        "foo = long_function_name(var_one, var_two,\n"
        "                         var_three, var_four)\n"
        "\n"
        "# Add 4 spaces (an extra level of indentation) to distinguish arguments from the rest.\n"
    ) in text
    assert ".. code-block::" not in text and ":class: good" not in text


# --------------------------------------------------------------------- hand-written rst


@cache
def sample_rst() -> tuple[list[str], dict[str, str]]:
    text, meta = rst_to_text((DATA / "sample.rst").read_text(encoding="utf-8"))
    return paragraphs(text), meta


def test_rst_title_docinfo_and_sections():
    blocks, meta = sample_rst()
    assert blocks[:3] == ["Sample Guide", "Author: Jane Doe\nVersion: 1.2", "Overview"]
    assert meta == {"title": "Sample Guide", "author": "Jane Doe", "version": "1.2"}
    assert "Contents" not in blocks  # the generated table of contents is not text


def test_rst_inline_markup_and_roles_are_stripped():
    blocks, _ = sample_rst()
    assert blocks[3] == (
        "This paragraph is wrapped across three lines and uses emphasis, strong, inline code, "
        "a link, PEP 8, RFC 2822, a label, join and a footnote [1]."
    )
    assert blocks[-1] == "[1] The footnote text."
    assert "Substituted text." in blocks


def test_rst_directives_keep_their_text():
    blocks, _ = sample_rst()
    start = blocks.index("Notes keep their text.")
    assert blocks[start : start + 7] == [
        "Notes keep their text.",
        "A one-line warning.",
        "The body of an unknown directive survives.",  # the argument is dropped
        "int PyFoo(void)",  # a domain directive's argument is its signature
        "Return foo.",
        "Deprecated since version 3.4: Use the other thing.",
        "def f(x):",
    ]
    assert blocks[start + 7] == "    return x * 2"  # code keeps its blank line and indent
    assert blocks[start + 8 : start + 10] == ["Literal block:", "$ run --fast"]


def test_rst_lists_definitions_options_and_line_blocks():
    blocks, _ = sample_rst()
    start = blocks.index("Lists")
    assert blocks[start + 1 : start + 4] == [
        "- First bullet spans two lines.\n- Second bullet\n  - Nested bullet",
        "a) Letter one\nb) Letter two",
        "1. Auto one\n2. Auto two",
    ]
    start = blocks.index("Terms")
    assert blocks[start + 1 : start + 5] == [
        "Apple: A fruit.",
        "Banana (yellow): Another fruit.",
        "--verbose, -v: Say more.",
        "Line one\nLine two",
    ]


def test_rst_tables_one_row_a_line():
    blocks, _ = sample_rst()
    start = blocks.index("Tables")
    assert blocks[start + 1 : start + 4] == [
        "Name: alpha; Size: 1\nName: beta; Size: 2",  # grid table with a header row
        "one | two\nthree | four",  # simple table without one
        "Releases\nVersion: 3.12; Date: 2023-10-02",  # list-table with its title
    ]


def test_rst_drops_targets_comments_and_substitution_definitions():
    blocks, _ = sample_rst()
    text = "\n\n".join(blocks)
    assert "https://example.org" not in text
    assert "comment" not in text
    assert "replace::" not in text and "|name|" not in text


def test_rst_spanning_cells_are_repeated_down_the_rows():
    source = """
+--------+-------+-----+
| Kind   | Name  | Age |
+========+=======+=====+
| fruit  | apple | 1   |
|        +-------+-----+
|        | pear  | 2   |
+--------+-------+-----+
"""
    text, _ = rst_to_text(source)
    assert text == "Kind: fruit; Name: apple; Age: 1\nKind: fruit; Name: pear; Age: 2"


def test_rst_field_list_in_the_body_is_key_value_lines():
    text, meta = rst_to_text("Intro text.\n\n:Parameter: the input\n:Returns: the *output*\n")
    assert text == "Intro text.\n\nParameter: the input\nReturns: the output"
    assert meta == {}  # not at the top: content, not document metadata


def test_rst_without_pep_header_is_not_mistaken_for_one():
    text, meta = rst_to_text("Note: a single field line\nis just a paragraph.\n")
    assert text == "Note: a single field line is just a paragraph."
    assert meta == {}


def test_rst_over_long_line_is_kept():
    text, _ = rst_to_text("Start " + "word " * 3000 + "end.")
    assert text.startswith("Start word") and text.endswith("word end.")
    assert len(text.split()) == 3002


# ------------------------------------------------------------------------------ Markdown


@cache
def sample_md() -> tuple[list[str], dict[str, str]]:
    text, meta = markdown_to_text((DATA / "sample.md").read_text(encoding="utf-8"))
    return paragraphs(text), meta


def test_markdown_front_matter_and_title():
    blocks, meta = sample_md()
    assert meta == {"title": "Release Notes", "author": "Jane Doe"}  # the tags list is skipped
    assert blocks[0] == "Release Notes"
    assert "---" not in "\n".join(blocks)


def test_markdown_inline_markup_is_stripped():
    blocks, _ = sample_md()
    assert blocks[1] == (
        "This release is faster, smaller and uses zstd by default; see the changelog and the "
        "logo. Line one of an address\nline two."  # a hard break stays a line break
    )


def test_markdown_lists_code_and_tables():
    blocks, _ = sample_md()
    assert blocks[2:7] == [
        "Upgrading",
        "1. Back up the data.\n2. Run the migration:\n   - on Linux\n   - on macOS",
        "rag migrate --all",
        "rag check",  # the fenced block is verbatim, blank line included
        "Version: 2.0; Released: 2024-05-01; Notes: --fast flag\n"
        "Version: 1.9; Released: 2023-11-20",
    ]


def test_markdown_quotes_html_and_rules():
    blocks, _ = sample_md()
    assert blocks[7:] == [
        "Quoted advice, wrapped over two lines.",
        "Made with care.",  # tags, the comment and the script are gone
        "indented code block",
        "Done.",
    ]


def test_markdown_first_h1_is_the_title_without_front_matter():
    text, meta = markdown_to_text("Intro\n\n# Real Title\n\n## Part\n\nText [ref].\n\n[ref]: /x\n")
    assert text == "Intro\n\nReal Title\n\nPart\n\nText ref."
    assert meta == {"title": "Real Title"}


def test_markdown_table_without_header_names():
    text, _ = markdown_to_text("|   |   |\n|---|---|\n| a | b |\n| c | d |\n")
    assert text == "a | b\nc | d"


# --------------------------------------------------------------------------- robustness


def test_crlf_and_trailing_whitespace_never_reach_the_output():
    for convert in (rst_to_text, markdown_to_text):
        text, _ = convert("Title\r\n=====\r\n\r\nLine one \r\nline two \r\n\r\n")
        assert text == "Title\n\nLine one line two"


def test_internal_failure_falls_back_to_the_source(caplog):
    # 400 nested list levels exhaust Python's recursion limit inside docutils: a real failure
    source = "".join("  " * i + f"- item {i}\n\n" for i in range(400))
    with caplog.at_level(logging.DEBUG, logger="rag.convert.markup"):
        text, meta = rst_to_text(source.replace("\n", "\r\n"))
    assert (text, meta) == (source.strip(), {})
    assert "keeping the source text" in caplog.text


MARKUP_ATOMS = st.sampled_from(
    ["\n", " ", "   ", "::", ".. ", "note::", "foo::", "`", "``", "*", "_", "|", "+--+", "===",
     "---\n", ":pep:", ":", "[1]_", "#", "- ", "1. ", "Title", "<div>", "</p>", "\t", "\r",
     "\x00", ">>> ", "[", "](", ")", "!", "~", "\u2028", "<http://x>", "|a|", "word"]
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=200), st.lists(MARKUP_ATOMS, max_size=40).map("".join)))
def test_any_text_converts_without_raising(source):
    for convert in (rst_to_text, markdown_to_text):
        text, meta = convert(source)
        assert isinstance(text, str)
        assert "\r" not in text
        assert text == text.rstrip()
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items())
