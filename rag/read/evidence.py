"""The evidence sentences that answer an explain/describe/list question, each an exact quote.

The reader points at one span; for "Why ...?" or "Describe ..." the answer is the sentence
around it and, often, one or two more: the next sentence that goes on with it, or a sentence
another window's reader span sits in (another passage, even another document). Those extra
sentences are kept only when they are about the question about as much as the first one is,
measured by the packaged embedding model's cosine between question and sentence, so an
answer grows by evidence and not by whatever sits next to it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from langchain_core.documents import Document

from rag.preprocess import is_heading as is_title
from rag.read.headers import FIELD_LINE
from rag.read.windows import Span
from rag.text.sentences import sentence_spans

#: Sentences an answer quotes at most.
MAX_SENTENCES = 3
#: Words an answer of several sentences may reach; the first sentence always counts.
MAX_WORDS = 45
#: A further sentence must be at least this similar to the question ...
MIN_SIMILARITY = 0.35
#: ... and at most this much less similar than the first one.
SLACK = 0.12
# what ends a sentence or a clause, and so no heading
_SENTENCE_END = (".", "!", "?", ":", ";", ",")
#: Words a heading on a line of its own has at most ("Proposed Design Changes").
_HEADING_LINE_WORDS = 6
#: Words a Title Case heading may leave in lower case.
_SMALL_WORDS = frozenset("a an and as at by for from in into of on or the to with".split())  # noqa: SIM905
# a list item's marker: a bullet, or a number with "." or ")", then a space
_MARKER = re.compile(r"(?:[-*\u2022+]|\d{1,3}[.)])[ \t]+(?=\S)")
#: Sentences of a passage looked at when the reader's span is in a header line, not prose.
_MAX_LEAD_CANDIDATES = 40


@dataclass(frozen=True)
class Evidence:
    """One sentence to quote: document ``doc``'s characters ``[start, end)`` of its passage."""

    doc: Document
    start: int  # offsets in doc.page_content
    end: int
    margin: float

    @property
    def text(self) -> str:
        return self.doc.page_content[self.start : self.end]

    @property
    def key(self) -> tuple[str, int]:
        return (
            str(self.doc.metadata.get("source", "")),
            int(self.doc.metadata["start"]) + self.start,
        )


def sentence_of(text: str, start: int, end: int) -> tuple[int, int]:
    """Offsets in ``text`` of the sentence(s) that hold ``text[start:end]``.

    A block of header fields ("PEP: 8", "Title: ...", "Author: ...") reads as one sentence to
    a splitter; there the unit is the field's line. A heading the span crosses into
    ("Abstract", then the paragraph) is not quoted with the sentence: the answer read
    "Abstract This document proposes ...".
    """
    spans = [s for s in sentence_spans(text) if s[1] > start and s[0] < end]
    if not spans:
        return start, end
    while len(spans) > 1 and is_heading(text, *spans[0]):
        spans.pop(0)
    while len(spans) > 1 and is_heading(text, *spans[-1]):
        spans.pop()
    first, last = spans[0][0], spans[-1][1]
    first = _past_marker(text, _past_heading_line(text, first, start), start)
    if is_field_block(text[first:last]):
        line_start = max(first, text.rfind("\n", first, start) + 1)
        line_end = text.find("\n", max(start, end - 1), last)
        return line_start, last if line_end < 0 else line_end
    return first, last


def is_heading(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is a heading: a paragraph of its own that is a title.

    A title as the chunker tells it (:func:`rag.preprocess.is_heading`), set off by blank
    lines (or the text's ends).
    """
    return (
        is_title(text[start:end])
        and (text.startswith("\n\n", end) or end == len(text))
        and (start == 0 or text[max(0, start - 2) : start] == "\n\n")
    )


def headings(text: str) -> list[tuple[int, int]]:
    """Where ``text`` has a heading that text follows: a place no span answer may start or end.

    A heading names what follows; it does not answer a question about it. On the shipped
    page "Whom did Pakistan train the Taliban to fight?" read the page's title, "Afghanistan -
    Pakistan Relations", over "US-led international troops" in the sentence under it. A
    line holding ": " (a header field, a table row) is a record, not a heading.
    """
    out = []
    cursor = 0
    for line in text.split("\n"):
        end = cursor + len(line)
        followed = end + 2 < len(text)  # text comes after the heading's blank line
        if line.strip() and ": " not in line and followed and is_heading(text, cursor, end):
            out.append((cursor, end))
        cursor = end + 1
    return out


def _past_heading_line(text: str, first: int, start: int) -> int:
    """``first``, or where the sentence begins after a heading line the splitter joined to it.

    Text from PDFs keeps a heading on a line of its own with no blank line around it
    ("Background", then "On October 29, 2018, ..." on the next line), and the sentence
    splitter reads it as the sentence's first words. A short Title Case line with no end
    punctuation, followed by a line that starts with a capital, is taken for a heading,
    unless the reader's span (``start``) is in it.
    """
    newline = text.find("\n", first, start)
    if newline < 0:
        return first
    words = text[first:newline].split()
    rest = text[newline:].lstrip()
    titled = all(w[0].isupper() or w[0].isdigit() or w.casefold() in _SMALL_WORDS for w in words)
    if (
        1 <= len(words) <= _HEADING_LINE_WORDS
        and words[0][0].isupper()
        and titled
        and not words[-1].endswith(_SENTENCE_END)
        and rest[:1].isupper()
    ):
        return len(text) - len(rest)
    return first


def _past_marker(text: str, first: int, start: int) -> int:
    """``first``, or past the list marker ("- ", "* ", "1. ", "2) ") a quoted item begins with.

    The marker is layout, not words of the quote ("1. The semantics of a generator
    expression are ..."); the quote stays an exact slice, one that starts after it.
    """
    found = _MARKER.match(text, first)
    return found.end() if found and found.end() <= start else first


def is_field_block(text: str) -> bool:
    """Whether ``text`` is lines of "Field: value" (three or more), not prose."""
    return text.count("\n") >= 2 and len(FIELD_LINE.findall(text)) >= 3


def next_sentence(text: str, end: int) -> tuple[int, int] | None:
    """The sentence of prose that follows offset ``end`` in ``text``, if any.

    Header fields and headings ("Abstract") are stepped over, so the line of a PEP's header
    the reader pointed at is followed by the PEP's first sentence.
    """
    for span in sentence_spans(text):
        if span[0] >= end and is_prose(text[span[0] : span[1]]):
            return _past_marker(text, _past_heading_line(text, *span), span[1]), span[1]
    return None


def is_prose(text: str) -> bool:
    """A sentence worth quoting as an explanation: words, not a header, a heading or code."""
    letters = sum(ch.isalpha() for ch in text)
    return (
        len(text.split()) >= 4
        and not is_field_block(text)
        and not FIELD_LINE.match(text)
        and letters >= 0.6 * len(text.replace(" ", ""))
        and not text.lstrip().startswith(">>>")
    )


def select(
    question: str,
    first: Evidence,
    spans: Sequence[Span],
    passages: Sequence[Document],
    threshold: float,
    embed: Callable[[Sequence[str]], np.ndarray],
) -> list[Evidence]:
    """``first`` and up to two more sentences that answer ``question`` about as well.

    Candidates are the sentence after ``first`` in its passage and the sentences holding the
    other windows' reader spans that clear ``threshold``.
    """
    candidates: dict[tuple[str, int], Evidence] = {}
    following = next_sentence(first.doc.page_content, first.end)
    if following is not None:
        nxt = Evidence(first.doc, following[0], following[1], first.margin)
        candidates[nxt.key] = nxt
    for span in sorted(spans, key=lambda s: -s.margin):
        if span.margin < threshold or span.end <= span.start:
            continue
        doc = passages[span.passage]
        start, end = sentence_of(doc.page_content, span.start, span.end)
        found = Evidence(doc, start, end, span.margin)
        candidates.setdefault(found.key, found)
    if not is_prose(first.text):  # a header line or code: its document's prose may lead
        for doc in passages:
            if doc.metadata.get("source") != first.doc.metadata.get("source"):
                continue
            for start, end in sentence_spans(doc.page_content)[:_MAX_LEAD_CANDIDATES]:
                found = Evidence(doc, start, end, first.margin)
                candidates.setdefault(found.key, found)
    candidates.pop(first.key, None)
    overlapping = [k for k, e in candidates.items() if _overlaps(e, first) or not is_prose(e.text)]
    for k in overlapping:
        candidates.pop(k)
    if not candidates:
        return [first]
    pool = list(candidates.values())
    vectors = embed([question, first.text, *(e.text for e in pool)])
    lead_score, scores = float(vectors[1] @ vectors[0]), list(vectors[2:] @ vectors[0])
    best = int(np.argmax(scores))
    if not is_prose(first.text) and scores[best] >= MIN_SIMILARITY:
        # a header line or code: the best prose sentence leads
        first, lead_score = pool.pop(best), float(scores.pop(best))
    bar = max(MIN_SIMILARITY, lead_score - SLACK)
    chosen = [first]
    words = len(first.text.split())
    for score, evidence in sorted(zip(scores, pool, strict=True), key=lambda t: -t[0]):
        if len(chosen) >= MAX_SENTENCES or score < bar:
            break
        size = len(evidence.text.split())
        if words + size > MAX_WORDS or any(_same(evidence, c) for c in chosen):
            continue
        chosen.append(evidence)
        words += size
    return _in_reading_order(chosen)


def _same(a: Evidence, b: Evidence) -> bool:
    """The same place, or the same words (an abstract repeated in its document)."""
    return _overlaps(a, b) or " ".join(a.text.split()) == " ".join(b.text.split())


def _overlaps(a: Evidence, b: Evidence) -> bool:
    (sa, oa), (sb, ob) = a.key, b.key
    return sa == sb and oa < ob + (b.end - b.start) and ob < oa + (a.end - a.start)


def _in_reading_order(chosen: list[Evidence]) -> list[Evidence]:
    """The first sentence leads; sentences of one document follow in their order."""
    first, rest = chosen[0], chosen[1:]
    return [first, *sorted(rest, key=lambda e: (e.key[0] != first.key[0], e.key))]
