"""Where sentences begin and end, as exact character offsets: the one sentence splitter.

Two modes, because the two callers need different things:

- :func:`sentence_spans` (exact) runs pysbd, whose rules handle abbreviations ("U.S.", "Mr.",
  "e.g."), quotes and hard-wrapped lines far better than a regex. It is for quoting evidence
  and scoring answer sentences, a few passages per question, memoised.
- :func:`fast_sentence_spans` (fast) is a regex: a sentence ends at ``.``, ``!`` or ``?``
  before a capital or a digit, and every line break ends a span too, so code and lists break
  between lines. It is for chunking, which splits every document at ingest and only needs
  places where a chunk may end.

Why chunking keeps the regex: ``chunk_text`` (300-token chunks, model token counts) over 100
PEPs spread over the series (1.91 MB of cleaned text, 2,829 chunks) takes 2.4 CPU-seconds
with the regex, 14.8 with pysbd inside each line and 14.1 with pysbd over whole paragraphs.
The extra 6 s per MB is single-threaded and serial, against a first ingest of about 20-26 s
per MB (the README's "Performance": 14.0 s for 30 PEPs, 282 s for all 695, nearly all of it
embedding): a quarter more ingest time. The chunks barely change for it: 46 of 2,828 (1.6%)
with pysbd inside lines, and not always for the better (pysbd makes a numbered-list marker
such as "6." a sentence of its own). ``python -m bench.splitters --peps 100`` measures it
again (there, :func:`sentence_spans` on each block: 2.48 against 14.15 CPU-seconds, 175 of
2,838 chunks differ).

pysbd returns sentence strings; :func:`sentence_spans` maps each back to its offsets by a
forward search, which is exact because pysbd (with ``clean=False``) never rewrites the text.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

# A sentence ends at . ! ? (plus closing quotes/brackets) before whitespace and a capital,
# digit or opening quote; a line break is a boundary as well.
_BOUNDARY = re.compile(r"""(?<=[.!?])["'\u201d\u2019)\]]*\s+(?=["'\u201c\u2018(\[]?[A-Z0-9])|\n""")
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
    """``(start, end)`` of each sentence in ``text``, trimmed of surrounding whitespace (pysbd).

    A blank line ends a sentence; single line breaks inside a paragraph do not.
    """
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


def fast_sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence or line of ``text``, trimmed of whitespace (regex).

    Fast but rough: "Mr. Smith" is cut after "Mr.", and a sentence wrapped over two lines is
    two spans. Blank pieces give no span; the spans cover every non-blank character.
    """
    spans: list[tuple[int, int]] = []
    cursor = 0
    for boundary in _BOUNDARY.finditer(text):
        _add_trimmed(spans, text, cursor, boundary.start())
        cursor = boundary.end()
    _add_trimmed(spans, text, cursor, len(text))
    return spans


def _add_trimmed(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if stripped:
        lead = len(piece) - len(piece.lstrip())
        spans.append((start + lead, start + lead + len(stripped)))
