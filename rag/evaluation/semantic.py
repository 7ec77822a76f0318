"""Answer scores for answers longer than a span: semantic similarity and token recall.

SQuAD exact match and F1 reward a short span and punish the sentence that explains: a
30-word reference answer to "explain how ..." is never matched by a fragment, but a two-word
fragment still scores some F1 against it. Two scores judge such answers better:

- **semantic similarity**: cosine of the answer's and the reference's embeddings with the
  packaged embedding model (its vectors are unit length, so the cosine is a dot product), as
  ARAGOG-style RAG evaluations score generated answers against written references;
- **token recall**: the share of the reference's content words (stems from
  :func:`rag.text.words.analyze`, so stop words and question words do not count) that the
  answer holds. A long answer is not penalised for its length here; the answer-length
  median in the benchmarks watches that side.

Both take the best reference when there are aliases. Abstentions are the caller's business:
the runner scores similarity for answered questions only and token recall of an abstention
as 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from rag.text.words import analyze


class Encoder(Protocol):
    """Anything that embeds texts as unit vectors (:class:`rag.embed.embedder.Embedder`)."""

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def content_words(text: str) -> set[str]:
    """The distinct content-word stems of ``text`` (the units token recall counts)."""
    return set(analyze(text or ""))


def token_recall(prediction: str, references: str | Sequence[str | None] | None) -> float | None:
    """Best share, over the references, of a reference's content words found in the answer.

    Returns None when no reference has a content word (an unanswerable question, or a
    reference made only of stop words), since a share of nothing says nothing.
    """
    if references is None or isinstance(references, str):
        references = [references]
    guess = content_words(prediction)
    best: float | None = None
    for ref in references:
        truth = content_words(ref or "")
        if truth:
            share = len(truth & guess) / len(truth)
            best = share if best is None else max(best, share)
    return best


def similarities(
    encoder: Encoder, pairs: Sequence[tuple[str, Sequence[str]]]
) -> list[float | None]:
    """For each (answer, references) pair, the best cosine of the answer and a reference.

    All texts are embedded in one call. A pair with an empty answer or no non-empty reference
    gets None.
    """
    texts: list[str] = []
    spans: list[tuple[int, int] | None] = []
    for answer, refs in pairs:
        kept = [r for r in refs if r and r.strip()]
        if not (answer and answer.strip()) or not kept:
            spans.append(None)
            continue
        spans.append((len(texts), len(kept)))
        texts.extend([answer, *kept])
    if not texts:
        return [None] * len(pairs)
    vectors = np.asarray(encoder.encode(texts), dtype=np.float32)
    out: list[float | None] = []
    for span in spans:
        if span is None:
            out.append(None)
            continue
        first, n = span
        sims = vectors[first + 1 : first + 1 + n] @ vectors[first]
        out.append(round(float(np.clip(sims.max(), -1.0, 1.0)), 6))
    return out


def similarity(encoder: Encoder, answer: str, references: Sequence[str]) -> float | None:
    """The best cosine of one answer and its references (see :func:`similarities`)."""
    return similarities(encoder, [(answer, references)])[0]
