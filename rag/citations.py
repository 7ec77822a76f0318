"""Check a model's answer against the passages it was given, and turn it into citations.

A language model's ``[n]`` markers are claims, not facts: it cites passages that do not
exist, glues markers to words, cites nothing at all, or writes an image link that would
fetch a URL when rendered. This module makes the output safe and verifiable:

1. :func:`sanitize` strips markdown images, raw HTML and links to hosts the passages do not
   mention (rendering them could leak the conversation to a server).
2. :func:`renumber` keeps markers that point at a passage, drops the rest and numbers the
   survivors 1..n in order of first use.
3. :class:`CitationChecker` finds, for each cited passage, the sentence that best supports
   the answer sentence citing it, and returns it as a :class:`~rag.types.Citation` whose
   quote is exactly ``document_text[start:end]``. When the model cites nothing, it attaches
   citations where a passage sentence supports an answer sentence; when nothing supports
   the answer it says so (``supported=False``) instead of dressing it up with citations.

Support is the same kind of evidence score the extractive answerer uses (embedding
similarity plus IDF-weighted term overlap), measured from the answer sentence to a passage
sentence, so a claim counts as supported when the passage says the same thing in most of
the same words. Numbers are strict: a claim with a number its evidence lacks is not
supported, since a wrong year is the commonest small-model error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
from langchain_core.documents import Document

from rag.analysis import analyze
from rag.embeddings import Embedder
from rag.locations import locate
from rag.sentences import sentence_spans
from rag.types import ABSTAIN_TEXT, Citation

#: A claim counts as supported by a passage sentence at or above this score.
MIN_SUPPORT = 0.5
_DENSE_WEIGHT = 0.4
_LEXICAL_WEIGHT = 0.6
_MISSING_NUMBER_PENALTY = 0.5

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
_CLEAN_MARKER = re.compile(r"\[(\d{1,3})\]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")

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
    return tidy(_CLEAN_MARKER.sub(" ", text))


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
    :class:`~rag.types.Answer` text is the authoritative one either way.
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


# -- support -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Evidence:
    """One sentence of a retrieved passage, with its offsets in the source document."""

    n: int  # the passage's number in the prompt (1-based)
    doc: Document
    start: int
    end: int
    text: str


def evidence_sentences(passages: Sequence[Document]) -> list[Evidence]:
    out: list[Evidence] = []
    for n, doc in enumerate(passages, 1):
        base = int(doc.metadata.get("start", 0))
        spans = sentence_spans(doc.page_content) or [(0, len(doc.page_content))]
        for s, e in spans:
            text = doc.page_content[s:e]
            if text.strip():
                out.append(Evidence(n, doc, base + s, base + e, text))
    return out


@dataclass(frozen=True)
class Claim:
    """A sentence of the answer: its span in the answer text and the markers it carries."""

    start: int
    end: int
    text: str  # without markers
    markers: tuple[int, ...]


def claims(text: str) -> list[Claim]:
    """The answer's sentences; markers opening a sentence belong to the sentence before."""
    spans = sentence_spans(text) or ([(0, len(text))] if text.strip() else [])
    out: list[Claim] = []
    for s, e in spans:
        piece = text[s:e]
        lead = re.match(r"^(?:\s*\[\d+\])+", piece)
        if lead and out:
            moved = tuple(int(m) for m in _CLEAN_MARKER.findall(lead[0]))
            prev = out[-1]
            out[-1] = Claim(prev.start, prev.end, prev.text, prev.markers + moved)
            s += lead.end()
            piece = text[s:e]
        markers = tuple(int(m) for m in _CLEAN_MARKER.findall(piece))
        out.append(Claim(s, e, strip_markers(piece), markers))
    return [c for c in out if c.text or c.markers]


@dataclass(frozen=True)
class Checked:
    """A validated answer: safe text, verified citations, and what was wrong with the raw one."""

    text: str
    citations: list[Citation]
    abstained: bool
    supported: bool
    dropped: int = 0  # markers that pointed at no passage
    attached: bool = False  # citations were found by similarity: the model cited nothing
    support: list[float] = field(default_factory=list)  # best support of each claim
    unsupported: list[str] = field(default_factory=list)  # claims no passage sentence supports


class CitationChecker:
    """Validate a generated answer against the passages it was generated from.

    Args:
        embedder: compares answer sentences with passage sentences.
        idf: weight of a stemmed term (a shared rare name says more than "said").
        doc_text: full cleaned text of a source, to verify every quote's offsets.
        min_support: score at which a passage sentence supports a claim.
    """

    def __init__(
        self,
        embedder: Embedder,
        idf: Callable[[str], float],
        doc_text: Callable[[str], str],
        min_support: float = MIN_SUPPORT,
    ) -> None:
        self.embedder = embedder
        self.idf = idf
        self.doc_text = doc_text
        self.min_support = min_support

    def check(self, raw: str, passages: Sequence[Document]) -> Checked:
        safe = sanitize(raw, urls_in(passages))
        numbered = renumber(safe, len(passages))
        if not strip_markers(numbered.text) or is_refusal(
            numbered.text, cited=bool(numbered.order)
        ):
            return Checked(ABSTAIN_TEXT, [], True, True, numbered.dropped)
        found = claims(numbered.text)
        evidence = evidence_sentences(passages)
        scores = self.support_scores([c.text for c in found], evidence)
        contentful = [i for i, c in enumerate(found) if analyze(c.text) or _NUMBER.search(c.text)]
        best = [float(scores[i].max()) if evidence else 0.0 for i in range(len(found))]
        weak = [strip_markers(c.text).strip() for i, c in enumerate(found)
                if i in contentful and best[i] < self.min_support]  # fmt: skip
        text, order = numbered.text, list(numbered.order)
        attached = False
        if not order:
            text, order = self._attach(text, found, evidence, scores, contentful)
            attached = bool(order)
            found = claims(text)
        citations = self._citations(found, order, evidence, scores)
        supported = bool(citations) and not weak
        return Checked(
            text=text,
            citations=citations,
            abstained=False,
            supported=supported,
            dropped=numbered.dropped,
            attached=attached,
            support=[round(b, 4) for b in best],
            unsupported=weak,
        )

    def support_scores(self, sentences: Sequence[str], evidence: Sequence[Evidence]) -> np.ndarray:
        """``scores[i, j]``: how well evidence sentence ``j`` supports answer sentence ``i``."""
        if not sentences or not evidence:
            return np.zeros((len(sentences), len(evidence)), dtype=np.float32)
        vectors = self.embedder.encode([*sentences, *(e.text for e in evidence)])
        dense = vectors[: len(sentences)] @ vectors[len(sentences) :].T
        stems = [set(analyze(e.text)) for e in evidence]
        numbers = [_numbers(e.text) for e in evidence]
        scores = np.zeros_like(dense)
        for i, sentence in enumerate(sentences):
            terms = list(dict.fromkeys(analyze(sentence)))
            weights = [self.idf(t) for t in terms]
            total = sum(weights)
            wanted = _numbers(sentence)
            for j in range(len(evidence)):
                lexical = (
                    sum(w for t, w in zip(terms, weights, strict=True) if stems_match(t, stems[j]))
                    / total
                    if total > 0
                    else 0.0
                )
                score = _DENSE_WEIGHT * max(float(dense[i, j]), 0.0) + _LEXICAL_WEIGHT * lexical
                if wanted - numbers[j]:
                    score *= _MISSING_NUMBER_PENALTY
                scores[i, j] = score
        return scores

    def _attach(
        self,
        text: str,
        found: list[Claim],
        evidence: list[Evidence],
        scores: np.ndarray,
        contentful: list[int],
    ) -> tuple[str, list[int]]:
        """Cite, after each claim, the passage whose sentence supports it best (if any does)."""
        order: list[int] = []
        inserts: list[tuple[int, str]] = []
        for i in contentful:
            if not evidence:
                break
            j = int(scores[i].argmax())
            if scores[i, j] < self.min_support:
                continue
            n = evidence[j].n
            if n not in order:
                order.append(n)
            claim = found[i]
            piece = text[claim.start : claim.end]
            trail = len(piece) - len(piece.rstrip(".!?;:\"'\u201d "))
            inserts.append((claim.end - trail, f" [{order.index(n) + 1}]"))
        for position, mark in sorted(inserts, reverse=True):
            text = text[:position].rstrip() + mark + text[position:]
        return tidy(text), order

    def _citations(
        self,
        found: list[Claim],
        order: list[int],
        evidence: list[Evidence],
        scores: np.ndarray,
    ) -> list[Citation]:
        """One citation per marker, quoting the cited passage's best-supporting sentence."""
        citations: list[Citation] = []
        for m, n in enumerate(order, 1):
            candidates = [j for j, e in enumerate(evidence) if e.n == n]
            citing = [i for i, c in enumerate(found) if m in c.markers and i < len(scores)]
            best_j, best = candidates[0], -1.0
            for j in candidates:
                score = max((float(scores[i, j]) for i in citing), default=0.0)
                if score > best:
                    best_j, best = j, score
            citations.append(self._citation(m, evidence[best_j], max(best, 0.0)))
        return citations

    def _citation(self, m: int, ev: Evidence, score: float) -> Citation:
        meta = ev.doc.metadata
        source = meta["source"]
        quote = self.doc_text(source)[ev.start : ev.end]
        if quote != ev.text:
            raise AssertionError(f"quote offsets do not match {source}[{ev.start}:{ev.end}]")
        page, location = locate(meta, ev.start)
        return Citation(
            n=m,
            source=source,
            quote=quote,
            start=ev.start,
            end=ev.end,
            passage=ev.doc.page_content,
            score=round(score, 4),
            title=meta.get("title", ""),
            page=page,
            location=location,
            chunk_id=meta.get("chunk_id", ""),
            passage_start=int(meta.get("start", 0)),
        )


def _numbers(text: str) -> set[str]:
    return {m[0].replace(",", "").rstrip(".") for m in _NUMBER.finditer(strip_markers(text))}


def stems_match(term: str, words: set[str]) -> bool:
    """Stems match when equal or when one extends the other ("recogn"/"recognit")."""
    if term in words:
        return True
    if len(term) < 5:
        return False
    return any(w[:5] == term[:5] and (w.startswith(term) or term.startswith(w)) for w in words)


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
