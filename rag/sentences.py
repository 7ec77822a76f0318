"""Sentence boundaries with exact character offsets, for quoting evidence.

pysbd's rules handle abbreviations ("U.S.", "Mr.", "e.g.") and quotes far better than a
regex. It returns sentence strings; we map each back to its offsets by a forward search, which
is exact because pysbd (with ``clean=False``) never rewrites the text.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

_BLOCK = re.compile(r"[^\n]+(?:\n(?!\s*\n)[^\n]+)*")  # paragraphs: no sentence spans them
_MAX_BLOCK = 5000  # pysbd is super-linear on huge blocks; longer ones are cut on lines first


@lru_cache(maxsize=1)
def _segmenter() -> Any:
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def _sentences(text: str) -> list[str]:
    """The sentences pysbd finds, without its own offset search.

    ``Segmenter.segment`` (non-destructive mode) finds each sentence again by compiling it as
    a regular expression and scanning the whole text: most of its time, and it floods
    Python's regex cache, so pysbd's own rules are compiled again and again. The forward
    search in :func:`_spans` does that job exactly, so only the rules are run here.
    """
    return _segmenter().processor(text).process()


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence in ``text``, trimmed of surrounding whitespace."""
    return list(_spans(text))


@lru_cache(maxsize=4096)
def _spans(text: str) -> tuple[tuple[int, int], ...]:
    """Memoised: the same passages come back question after question, and pysbd is slow."""
    spans: list[tuple[int, int]] = []
    for block in _BLOCK.finditer(text):
        for start, end in _pieces(block.start(), block.end(), text):
            # Hard-wrapped lines are one paragraph: join them with spaces, which keeps every
            # offset the same (one character for one character).
            flat = text[start:end].replace("\n", " ")
            cursor = 0
            for sentence in _sentences(flat):
                stripped = sentence.strip()
                if not stripped:
                    continue
                found = flat.find(stripped, cursor)
                if found < 0:  # defensive: take the rest of the block as one sentence
                    rest = flat[cursor:]
                    found, stripped = cursor + len(rest) - len(rest.lstrip()), rest.strip()
                spans.append((start + found, start + found + len(stripped)))
                cursor = found + len(stripped)
    return tuple(spans)


def _pieces(start: int, end: int, text: str) -> list[tuple[int, int]]:
    """Cut an over-long block at line breaks (or hard) so segmentation stays fast."""
    if end - start <= _MAX_BLOCK:
        return [(start, end)]
    pieces: list[tuple[int, int]] = []
    cursor = start
    while cursor < end:
        stop = min(end, cursor + _MAX_BLOCK)
        if stop < end:
            newline = text.rfind("\n", cursor, stop)
            stop = newline + 1 if newline > cursor else stop
        pieces.append((cursor, stop))
        cursor = stop
    return pieces
