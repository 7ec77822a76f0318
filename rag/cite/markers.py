"""Make a model's answer safe to show and its ``[n]`` markers point at real passages.

A language model's ``[n]`` markers are claims, not facts: it cites passages that do not
exist, glues markers to words, cites nothing at all, or writes an image link that would
fetch a URL when rendered. This module makes the text safe and its markers consistent;
:mod:`rag.cite.checker` then checks what each cited passage really supports:

1. :func:`sanitize` strips markdown images, raw HTML and links to hosts the passages do not
   mention (rendering them could leak the conversation to a server).
2. :func:`renumber` keeps markers that point at a passage, drops the rest and numbers the
   survivors 1..n in order of first use.
3. :class:`StreamCleaner` does the same to a streamed answer as it arrives, holding back only
   what could still turn into a marker or a link.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from langchain_core.documents import Document

from rag.results import ABSTAIN_TEXT

# -- sanitising -------------------------------------------------------------------------------
_IMAGE = re.compile(r"!\[[^\]\n]*\]\s*(?:\([^)\n]*\)?|\[[^\]\n]*\]?)")
_LINK = re.compile(r"(?<!!)\[([^\]\n]*)\]\(\s*([^)\s]*)[^)\n]*\)")
_REF_DEF = re.compile(r"^\s*\[[^\]\n]+\]:\s*\S+.*$", re.M)
_SCRIPT = re.compile(
    r"<\s*(script|style|iframe|object|embed|svg|math|template)\b.*?(?:<\s*/\s*\1\s*>|\Z)",
    re.I | re.S,
)
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_TAG = re.compile(r"</?\s*[a-zA-Z][\w:-]*(?:\s[^<>]*)?/?\s*>|<\s*[a-zA-Z][\w:-]*\s[^<>]*\Z")
_URL = re.compile(r"(?:\b[a-zA-Z][a-zA-Z0-9+.-]*://|\bwww\.|\bdata:)[^\s<>\"')\]]+")
_PLACEHOLDER = re.compile(r"\[\s*(?:n|m|k|x|N|number|source)\s*\]")  # "[n]" copied from the prompt
_SPACES = re.compile(r"[ \t]{2,}")
_SPACE_BEFORE_PUNCT = re.compile(r"[ \t]+([.,;:!?](?:\s|$))")

# -- markers ----------------------------------------------------------------------------------
_NUMBERS = r"\^?\d{1,3}(?:\s*(?:,|;|-|–|and)\s*\^?\d{1,3})*"
_MARKER = re.compile(
    rf"\[\s*(?:(?:passage|source|doc(?:ument)?|ref)\s*)?({_NUMBERS})\s*\]"
    rf"|【\s*({_NUMBERS})\s*】",
    re.I,
)
#: A marker as the answers carry it once cleaned: ``[n]``, one to three digits.
CLEAN_MARKER = re.compile(r"\[(\d{1,3})\]")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")

_REFUSAL_PHRASE = re.compile(
    r"\b(?:do(?:es)?\s*n[o']t|cannot|can't|unable to)\s+(?:answer|contain|mention|say|provide"
    r"|state|include|specify|find)\b|\bno information\b|\bnot (?:mentioned|stated|provided"
    r"|specified|given)\b|\bi (?:do not|don't) know\b",
    re.I,
)


def sanitize(text: str, allowed_urls: Sequence[str] = ()) -> str:
    """Strip what must not be rendered: images, HTML, and links to hosts.

    A markdown link keeps its text; a bare URL stays only when a passage contains it
    verbatim (quoting the document is fine; inventing a destination is not).
    """
    allowed = set(allowed_urls)
    text = _SCRIPT.sub(" ", text)
    text = _COMMENT.sub(" ", text)
    text = _IMAGE.sub(" ", text)
    text = _LINK.sub(lambda m: f"[{m[1]}]" if m[1].strip().isdigit() else m[1], text)
    text = _REF_DEF.sub("", text)
    text = _TAG.sub(" ", text)
    text = re.sub(r"<\s*/?\s*[a-zA-Z][\w:-]*\s*\Z", "", text)  # a tag cut off by the length cap
    text = _URL.sub(lambda m: m[0] if m[0].rstrip(".,;:") in allowed else " ", text)
    text = _PLACEHOLDER.sub(" ", text)
    return tidy(text)


def tidy(text: str) -> str:
    """Collapse the gaps that removals leave behind."""
    text = _SPACES.sub(" ", text)
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def urls_in(passages: Sequence[Document]) -> list[str]:
    """URLs quoted by the passages: the only ones an answer may repeat."""
    return [m[0].rstrip(".,;:") for doc in passages for m in _URL.finditer(doc.page_content)]


@dataclass(frozen=True)
class Renumbered:
    """Answer text with valid markers renumbered 1..n.

    ``order[i]`` is the passage number (1-based, as in the prompt) behind marker ``[i+1]``;
    ``dropped`` counts markers that pointed at no passage.
    """

    text: str
    order: list[int] = field(default_factory=list)
    dropped: int = 0


def renumber(text: str, passages: int) -> Renumbered:
    """Keep markers ``[n]`` with ``1 <= n <= passages``, renumbered by first use.

    ``[1, 3]``, ``[1-2]``, ``[^2]`` and ``[passage 2]`` are understood; a marker glued to a
    word ("Kabul[1]") gets a space; repeats of the same marker in a row collapse.
    """
    order: list[int] = []
    dropped = 0
    out: list[str] = []
    cursor = 0
    for match in _MARKER.finditer(text):
        numbers = _expand(match[1] or match[2])
        valid = [n for n in numbers if 1 <= n <= passages]
        dropped += len(numbers) - len(valid)
        new: list[int] = []
        for n in dict.fromkeys(valid):
            if n not in order:
                order.append(n)
            new.append(order.index(n) + 1)
        out.append(text[cursor : match.start()])
        cursor = match.end()
        if not new:
            continue
        before = "".join(out).rstrip(" \t")
        already = {int(m) for m in re.findall(r"\[(\d+)\]\s*$", before) if m}
        marks = " ".join(f"[{m}]" for m in new if m not in already)
        if not marks:
            continue
        out[:] = [before, " " if before and not before.endswith("\n") else "", marks]
        if cursor < len(text) and (text[cursor].isalnum() or text[cursor] in "([\"'"):
            out.append(" ")
    out.append(text[cursor:])
    return Renumbered(tidy("".join(out)), order, dropped)


def _expand(spec: str) -> list[int]:
    numbers: list[int] = []
    for part in re.split(r"\s*(?:,|;|and)\s*", spec.replace("^", "")):
        if not part:
            continue
        bounds = re.split(r"\s*[-–]\s*", part)
        if len(bounds) == 2 and bounds[0].isdigit() and bounds[1].isdigit():
            low, high = int(bounds[0]), int(bounds[1])
            numbers.extend(range(low, high + 1) if 0 <= high - low <= 10 else [low, high])
        elif part.isdigit():
            numbers.append(int(part))
    return numbers


def strip_markers(text: str) -> str:
    """``text`` without its ``[n]`` markers, and without the gaps they leave."""
    return tidy(CLEAN_MARKER.sub(" ", text))


def is_refusal(text: str, *, cited: bool) -> bool:
    """The model said the passages do not answer.

    The fixed sentence always counts; a paraphrase ("the passages do not mention ...") counts
    only when nothing is cited, since a cited sentence can legitimately say what is not so.
    """
    flat = _normal(text)
    if _normal(ABSTAIN_TEXT) in flat:
        return True
    return not cited and bool(_REFUSAL_PHRASE.search(text))


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


# -- streaming ---------------------------------------------------------------------------------
class StreamCleaner:
    """Clean a model's output while it streams, so deltas are safe to show.

    Only whole words are released, and never the inside of a construct that is still open
    (``<...``, ``[...``, ``(...``): a delta is the growth of the cleaned stable prefix. If
    cleaning ever rewrites what was already released, the stream waits; the final
    :class:`~rag.results.Answer` text is the authoritative one either way.
    """

    def __init__(self, passages: int, allowed_urls: Sequence[str] = ()) -> None:
        self.passages = passages
        self.allowed_urls = list(allowed_urls)
        self.raw = ""
        self.sent = ""

    def feed(self, delta: str) -> str:
        self.raw += delta
        return self._release(_stable(self.raw))

    def finish(self) -> str:
        return self._release(self.raw)

    def clean(self, text: str) -> str:
        return renumber(sanitize(text, self.allowed_urls), self.passages).text

    def _release(self, text: str) -> str:
        clean = self.clean(text)
        if not clean.startswith(self.sent):
            return ""
        new, self.sent = clean[len(self.sent) :], clean
        return new


def _stable(raw: str) -> str:
    cut = max(raw.rfind(" "), raw.rfind("\n"))
    text = raw[: cut + 1] if cut >= 0 else ""
    changed = True
    while changed:
        changed = False
        for opener, closer in (("<", ">"), ("[", "]"), ("(", ")")):
            i = text.rfind(opener)
            if i > text.rfind(closer):
                text, changed = text[:i], True
    return text


def iter_text(chunks: Iterator[object]) -> Iterator[str]:
    """The text of each streamed message chunk."""
    for chunk in chunks:
        content = getattr(chunk, "content", chunk)
        if isinstance(content, str):
            if content:
                yield content
        elif isinstance(content, list):
            for part in content:
                text = part.get("text") if isinstance(part, dict) else part
                if isinstance(text, str) and text:
                    yield text
