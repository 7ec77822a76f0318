"""Scoring functions for the evaluation harness: answers, retrieval, citations, latency.

They are pure functions of strings and numbers so each one can be checked on hand-made cases
and the answer metrics against the official SQuAD numbers. Answer metrics follow the official
SQuAD v1.1 script exactly (lower-case, strip ASCII punctuation, drop a/an/the, collapse
whitespace; best score over all references), because a home-made normalisation makes numbers
that cannot be compared with anyone else's.

Unanswerable references (``None`` or empty) follow the SQuAD 2.0 convention: the only correct
prediction is the empty one, so an abstention scores 1 and any answer scores 0.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence

from rag.results import Citation

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = frozenset(string.punctuation)
_MARKERS = re.compile(r"\s*\[\d+(?:\s*[,;]\s*\d+)*\]")
_SPACE = re.compile(r"\s+")

References = str | Sequence[str | None] | None


def normalize_answer(text: str) -> str:
    """The official SQuAD normalisation (``evaluate-v1.1.py``), step for step."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def strip_citations(text: str) -> str:
    """Remove ``[1]``-style markers, which are ours and not part of the answer."""
    return _SPACE.sub(" ", _MARKERS.sub("", text)).strip()


def _references(references: References) -> list[str]:
    """Usable references; an unanswerable question has the single reference ``""``."""
    if references is None or isinstance(references, str):
        references = [references]
    usable = [r for r in references if r is not None and r.strip()]
    return usable or [""]


def exact_match(prediction: str, references: References) -> float:
    """1.0 when the normalised prediction equals a normalised reference, else 0.0."""
    guess = normalize_answer(prediction or "")
    return float(any(guess == normalize_answer(r) for r in _references(references)))


def token_f1(prediction: str, references: References) -> float:
    """Best bag-of-tokens F1 between the prediction and any reference (0..1).

    When either side normalises to nothing, F1 is 1 if both do and 0 otherwise (SQuAD 2.0);
    with real text on both sides this is exactly SQuAD v1.1's F1.
    """
    guess = normalize_answer(prediction or "").split()
    return max(_f1(guess, normalize_answer(r).split()) for r in _references(references))


def _f1(guess: list[str], truth: list[str]) -> float:
    if not guess or not truth:
        return float(guess == truth)
    same = sum((Counter(guess) & Counter(truth)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(guess), same / len(truth)
    return 2 * precision * recall / (precision + recall)


def containment(prediction: str, references: References) -> float:
    """1.0 when a normalised reference occurs, as whole words, inside the normalised prediction.

    An extractive answer is often the whole evidence sentence: right, but never an exact match.
    Containment credits it. An empty reference (unanswerable) is contained only in an empty
    prediction, so answering an unanswerable question never counts as containing the answer.
    """
    guess = normalize_answer(prediction or "")
    for ref in _references(references):
        truth = normalize_answer(ref)
        if not truth:
            if not guess:
                return 1.0
        elif f" {truth} " in f" {guess} ":
            return 1.0
    return 0.0


# -- retrieval -----------------------------------------------------------------------------------
def hit_at_k(ranks: Iterable[int | None], k: int) -> float:
    """1.0 when any expected item was retrieved at rank ``<= k`` (ranks are 1-based)."""
    return float(any(r is not None and r <= k for r in ranks))


def reciprocal_rank(ranks: Iterable[int | None], k: int) -> float:
    """1/rank of the first expected item retrieved within the top ``k``, else 0."""
    found = [r for r in ranks if r is not None and r <= k]
    return 1.0 / min(found) if found else 0.0


def recall_at_k(ranks: Sequence[int | None], k: int) -> float:
    """Share of the expected items retrieved within the top ``k`` (1.0 when none expected)."""
    if not ranks:
        return 1.0
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def squash(text: str) -> str:
    """Whitespace-insensitive form for locating a quote inside a passage."""
    return _SPACE.sub(" ", text).strip()


def contains_quote(passage: str, quote: str) -> bool:
    """Whether ``quote`` occurs in ``passage``, ignoring differences in whitespace."""
    needle = squash(quote)
    return bool(needle) and needle in squash(passage)


def quotes_overlap(quote: str, support: str) -> bool:
    """Whether a cited quote and the expected support quote are the same evidence.

    True when one holds the other (whitespace-insensitive): the support may be a clause of the
    cited sentence, or the cited sentence one of the support's.
    """
    a, b = squash(quote), squash(support)
    return bool(a and b) and (a in b or b in a)


# -- citations ----------------------------------------------------------------------------------
def evidence_hits(
    source: str, text: str, *, sources: Sequence[str] = (), supports: Sequence[str] = ()
) -> list[bool]:
    """Which expected items a passage holds: each support quote, or else each source.

    With support quotes, a passage holds one when it contains the quote (whitespace-
    insensitive) and comes from an expected source, if any is named. Without them, a passage
    holds an expected source when it comes from that document.
    """
    if supports:
        right_source = not sources or source in sources
        return [right_source and contains_quote(text, s) for s in supports]
    return [source == s for s in sources]


def unique_citations(citations: Sequence[Citation]) -> list[Citation]:
    """Citations with duplicates (same source and span) counted once."""
    return list({(c.source, c.start, c.end): c for c in citations}.values())


def support_cited(
    citations: Sequence[Citation], *, sources: Sequence[str] = (), supports: Sequence[str] = ()
) -> float:
    """1.0 when some cited passage holds the expected evidence (see :func:`evidence_hits`)."""
    return float(
        any(
            any(evidence_hits(c.source, c.passage, sources=sources, supports=supports))
            for c in citations
        )
    )


def citation_precision(
    citations: Sequence[Citation], *, sources: Sequence[str] = (), supports: Sequence[str] = ()
) -> float:
    """Cited passages that hold the expected evidence / all cited passages (0 when none)."""
    unique = unique_citations(citations)
    if not unique:
        return 0.0
    holding = sum(
        any(evidence_hits(c.source, c.passage, sources=sources, supports=supports)) for c in unique
    )
    return holding / len(unique)


def support_in_quotes(
    citations: Sequence[Citation], *, sources: Sequence[str] = (), supports: Sequence[str] = ()
) -> float:
    """1.0 when a cited quote itself is the support (one holds the other).

    Stricter than :func:`support_cited`, which accepts the support anywhere in the passage.
    """
    return float(
        any(
            (not sources or c.source in sources) and quotes_overlap(c.quote, s)
            for c in citations
            for s in supports
        )
    )


def citation_verified(citation: Citation, document_text: str, answer_text: str) -> bool:
    """Whether a citation can be trusted as it stands.

    Its quote must be exactly ``document_text[start:end]``, lie inside its passage, and the
    answer must carry its ``[n]`` marker.
    """
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer_text)}
    return (
        document_text[citation.start : citation.end] == citation.quote
        and citation.quote in citation.passage
        and citation.n in markers
    )


# -- aggregation ---------------------------------------------------------------------------------
def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are not None, or None when there are none."""
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100), linearly interpolated; None for no values."""
    if not values:
        return None
    import numpy as np

    return float(np.percentile(np.asarray(values, dtype=float), q))
