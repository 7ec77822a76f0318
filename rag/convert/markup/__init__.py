"""Plain text from reStructuredText and Markdown, for quoting.

Read as plain text, markup leaks into answers: heading underlines, ``.. directive::`` lines and
backquoted roles end up in quotes. These converters parse the source (docutils for
reStructuredText, markdown-it-py for Markdown) and keep only what a reader of the rendered
page sees. The result *is* the document text (every citation is a slice of it), so it is laid
out for the chunker in :mod:`rag.preprocess.chunking`:

* each heading is a paragraph of its own, one line, with no underline and no ``#``;
* a paragraph is one line (the source's hard wrapping is joined, so no sentence is cut);
* blocks are separated by one blank line; lines inside a block are units of their own
  (list items, table rows, field-list fields, code lines);
* code and literal blocks are verbatim;
* a table row is one line, ``Column: value; Column: value`` when the table has a header row
  (a row quoted or retrieved on its own still says what its values are), or
  ``value | value`` when it has none.

Both converters take untrusted input: they never raise, never print, never read files, and on
an internal failure fall back to the source text (line endings normalised).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from rag.convert.markup.markdown import markdown_document
from rag.convert.markup.rst import rst_document
from rag.convert.markup.text import normalise_newlines, row_line, tidy

__all__ = ["markdown_to_text", "row_line", "rst_to_text"]

logger = logging.getLogger(__name__)

_MIN_CHECKED_LETTERS = 1000
_MIN_KEPT_FRACTION = 0.1


def rst_to_text(source: str) -> tuple[str, dict[str, str]]:
    """Convert reStructuredText to plain text, and its title and header fields to metadata.

    Args:
        source: The reStructuredText source (a PEP, a README, Sphinx docs). Untrusted: file
            inclusion and raw output are disabled and nothing is printed.

    Returns:
        ``(text, metadata)``. ``metadata["title"]`` is the PEP ``Title:`` header, a docinfo
        ``:Title:`` field or the first section title, in that order of preference; the other
        keys are the header and docinfo fields, lower-cased. On an internal failure the text
        is the source itself and the metadata is empty.
    """
    return _convert(source, rst_document, "reStructuredText")


def markdown_to_text(source: str) -> tuple[str, dict[str, str]]:
    """Convert Markdown (CommonMark plus pipe tables) to plain text and metadata.

    Args:
        source: The Markdown source, optionally opening with ``---`` front matter.

    Returns:
        ``(text, metadata)``. The metadata holds the front matter's ``key: value`` fields
        (lower-cased keys) and ``title``: the front matter's title, else the first level-one
        heading. On an internal failure the text is the source itself and the metadata is
        empty.
    """
    return _convert(source, markdown_document, "Markdown")


# --------------------------------------------------------------------------- shared helpers


def _convert(
    source: str, document: Callable[[str], tuple[str, dict[str, str]]], what: str
) -> tuple[str, dict[str, str]]:
    text = normalise_newlines(source)
    try:
        return _checked(text, *document(text))
    except Exception:  # any input must give text: the reader is better off with raw markup
        logger.debug("%s conversion failed; keeping the source text", what, exc_info=True)
        return tidy(text), {}


def _checked(source: str, text: str, metadata: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The conversion, unless it silently lost most of the text (then the source is better).

    Parsers have limits that drop text without an error (markdown-it stops at a nesting
    depth); markup never accounts for nine letters in ten, so an output that small means
    the parse went wrong. Across the PEPs the output keeps 76% to 100% of the letters.
    """
    kept, total = _letters(text), _letters(source)
    if total >= _MIN_CHECKED_LETTERS and kept < total * _MIN_KEPT_FRACTION:
        logger.debug("conversion kept %d of %d letters; keeping the source text", kept, total)
        return tidy(source), {}
    return text, metadata


def _letters(text: str) -> int:
    return sum(char.isalnum() for char in text)
