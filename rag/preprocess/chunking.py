"""Split a cleaned document into chunks that are exact slices of its text.

Every chunk satisfies ``text[chunk.start:chunk.end] == chunk.text``, which is what lets a
citation point to a character span. Chunks follow the document's structure: a heading starts a
new chunk, whole paragraphs are kept together when they fit, and otherwise chunks break between
sentences (or lines, for code and lists), as :func:`rag.text.sentences.fast_sentence_spans` finds
them. Sizes are measured in model tokens because the embedding model silently truncates
anything past its window.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.text.sentences import fast_sentence_spans

TokenCounter = Callable[[Sequence[str]], list[int]]

_PARAGRAPH = re.compile(r"\S(?:.*?\S)?(?=\n[ \t]*\n|\s*\Z)", re.DOTALL)
_RST_UNDERLINE = re.compile(r"""^([=\-~^"'`#*+])\1{2,}$""")
_MD_HEADING = re.compile(r"^#{1,6}\s+\S")


@dataclass(frozen=True)
class Chunk:
    """A contiguous span of a document: ``doc_text[start:end] == text``."""

    text: str
    start: int
    end: int
    heading: str
    tokens: int


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    tokens: int
    paragraph: int
    heading: bool


def whitespace_tokens(texts: Sequence[str]) -> list[int]:
    """A model-free token counter (words), for tests and tools that need no tokenizer."""
    return [len(text.split()) for text in texts]


def chunk_text(
    text: str,
    *,
    chunk_size: int,
    chunk_overlap: int,
    count_tokens: TokenCounter = whitespace_tokens,
    markup_headings: bool = True,
) -> list[Chunk]:
    """Chunk ``text`` into pieces of at most about ``chunk_size`` tokens.

    ``chunk_overlap`` tokens' worth of whole sentences from the end of one chunk open the next
    one (never across a heading), so a fact that straddles a boundary is still retrievable.
    ``markup_headings`` recognises Markdown ``#`` and underlined headings; text converted from
    markup has none left, only code that looks like them (``# comment``), so it passes False.
    """
    if chunk_overlap >= chunk_size:
        raise ValueError("chunk_overlap must be smaller than chunk_size")
    units = _units(text, chunk_size, count_tokens, markup_headings)
    chunks: list[Chunk] = []
    current: list[_Unit] = []
    heading = ""
    section_heading = ""

    def flush(carry: bool) -> list[_Unit]:
        if not current:
            return []
        start, end = current[0].start, current[-1].end
        chunks.append(
            Chunk(text[start:end], start, end, section_heading, sum(u.tokens for u in current))
        )
        if not carry:
            return []
        tail: list[_Unit] = []
        budget = chunk_overlap
        for unit in reversed(current[1:]):
            if unit.tokens > budget or unit.heading:
                break
            tail.insert(0, unit)
            budget -= unit.tokens
        return tail

    for i, unit in enumerate(units):
        if unit.heading:
            current = flush(carry=False)
            heading = _heading_text(text[unit.start : unit.end])
        size = sum(u.tokens for u in current)
        if current and size + unit.tokens > chunk_size:
            current = flush(carry=True)
            while current and sum(u.tokens for u in current) + unit.tokens > chunk_size:
                current.pop(0)  # the overlap must leave room for the unit that follows
        elif current and unit.paragraph != current[-1].paragraph and size >= chunk_size // 2:
            # Prefer to end a well-filled chunk at a paragraph break rather than mid-paragraph.
            rest = _paragraph_tokens(units, i)
            if size + rest > chunk_size:
                current = flush(carry=False)
        if not current:
            section_heading = heading
        current.append(unit)
    flush(carry=False)
    return chunks


def _paragraph_tokens(units: list[_Unit], i: int) -> int:
    total = 0
    paragraph = units[i].paragraph
    for unit in units[i:]:
        if unit.paragraph != paragraph:
            break
        total += unit.tokens
    return total


def _units(
    text: str, chunk_size: int, count_tokens: TokenCounter, markup_headings: bool
) -> list[_Unit]:
    """Sentence- or line-sized spans covering every non-blank character of ``text``."""
    spans: list[tuple[int, int, int, bool]] = []
    for p, match in enumerate(_PARAGRAPH.finditer(text)):
        block, offset = match.group(), match.start()
        if is_heading(block, markup=markup_headings):
            spans.append((offset, match.end(), p, True))  # the match is already trimmed
            continue
        spans.extend((offset + s, offset + e, p, False) for s, e in fast_sentence_spans(block))
    counts = count_tokens([text[s:e] for s, e, _, _ in spans]) if spans else []
    units: list[_Unit] = []
    for (start, end, paragraph, heading), tokens in zip(spans, counts, strict=True):
        if tokens <= chunk_size:
            units.append(_Unit(start, end, tokens, paragraph, heading))
        else:
            units.extend(_split_long(text, start, end, paragraph, chunk_size, count_tokens))
    return units


def _split_long(
    text: str, start: int, end: int, paragraph: int, chunk_size: int, count_tokens: TokenCounter
) -> list[_Unit]:
    """Cut a span longer than a chunk into word-aligned windows that fit."""
    words = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+", text[start:end])]
    counts = count_tokens([text[s:e] for s, e in words])
    units: list[_Unit] = []
    window_start, tokens = words[0][0], 0
    window_end = words[0][1]
    for (s, e), n in zip(words, counts, strict=True):
        if tokens and tokens + n > chunk_size:
            units.append(_Unit(window_start, window_end, tokens, paragraph, False))
            window_start, tokens = s, 0
        tokens += n
        window_end = e
    units.append(_Unit(window_start, window_end, tokens, paragraph, False))
    return units


def _heading_text(block: str) -> str:
    lines = [ln.strip() for ln in block.split("\n") if not _RST_UNDERLINE.match(ln.strip())]
    return " ".join(lines).lstrip("#").strip()


def is_heading(block: str, *, markup: bool = True) -> bool:
    """A paragraph that is a title: markdown ``#``, an RST underlined title, or a short line."""
    lines = block.split("\n")
    if markup and _MD_HEADING.match(lines[0]) and len(lines) == 1:
        return True
    if markup and len(lines) in (2, 3) and _RST_UNDERLINE.match(lines[-1].strip()):
        return len(lines[-2].split()) <= 15
    if len(lines) == 1:
        words = block.split()
        return 0 < len(words) <= 12 and block[-1].isalnum() and block[0].isupper()
    return False
