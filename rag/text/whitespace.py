"""Whitespace as one space: hard-wrapped text, titles and table cells on one line."""

from __future__ import annotations


def one_line(text: str) -> str:
    """Whitespace runs (line breaks too) as single spaces, trimmed at both ends.

    Joining hard-wrapped text this way means the chunker never cuts a sentence at a wrap, and
    a title or a quote in a one-line format (a Markdown table, a heading) cannot break it.
    """
    return " ".join(text.split())
