"""Check a generated answer against its passages, and turn its markers into citations.

:class:`CitationChecker` finds, for each cited passage, the sentence that best supports the
answer sentence citing it, and returns it as a :class:`~rag.results.Citation` whose quote is
exactly ``document_text[start:end]``. When the model cites nothing, it attaches citations
where a passage sentence supports an answer sentence; when nothing supports the answer it says
so (``supported=False``) instead of dressing it up with citations.

Support is the same kind of evidence score the extractive answerer uses (embedding
similarity plus IDF-weighted term overlap), measured from the answer sentence to a passage
sentence, so a claim counts as supported when the passage says the same thing in most of
the same words. Numbers are strict: a claim with a number its evidence lacks is not
supported, since a wrong year is the commonest small-model error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from langchain_core.documents import Document

from rag.cite.markers import (
    CLEAN_MARKER,
    NUMBER,
    is_refusal,
    renumber,
    sanitize,
    strip_markers,
    tidy,
    urls_in,
)
from rag.embed.embedder import Embedder
from rag.results import ABSTAIN_TEXT, Citation
from rag.text.locations import locate
from rag.text.sentences import sentence_spans
from rag.text.words import analyze

#: A claim counts as supported by a passage sentence at or above this score.
MIN_SUPPORT = 0.5
_DENSE_WEIGHT = 0.4
_LEXICAL_WEIGHT = 0.6
_MISSING_NUMBER_PENALTY = 0.5


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
            moved = tuple(int(m) for m in CLEAN_MARKER.findall(lead[0]))
            prev = out[-1]
            out[-1] = Claim(prev.start, prev.end, prev.text, prev.markers + moved)
            s += lead.end()
            piece = text[s:e]
        markers = tuple(int(m) for m in CLEAN_MARKER.findall(piece))
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
        contentful = [i for i, c in enumerate(found) if analyze(c.text) or NUMBER.search(c.text)]
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
    return {m[0].replace(",", "").rstrip(".") for m in NUMBER.finditer(strip_markers(text))}


def stems_match(term: str, words: set[str]) -> bool:
    """Stems match when equal or when one extends the other ("recogn"/"recognit")."""
    if term in words:
        return True
    if len(term) < 5:
        return False
    return any(w[:5] == term[:5] and (w.startswith(term) or term.startswith(w)) for w in words)
