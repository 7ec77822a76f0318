"""Score one answered question against its expected answer and evidence, and sum up a run.

Each metric of :data:`~rag.evaluation.results.METRICS` is computed here from what the system
returned (the answer, its citations, the passages retrieved) and what the question file
expects; the formulas themselves are :mod:`rag.evaluation.metrics`'s and
:mod:`rag.evaluation.semantic`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from rag.embed.embedder import Embedder
from rag.evaluation import metrics as m
from rag.evaluation import semantic
from rag.evaluation.questions import Question
from rag.evaluation.results import QuestionResult
from rag.qa import QA
from rag.results import Answer, Citation, Passage

#: Per-question F1 at or above this counts as a pass in the per-question table.
F1_PASS = 0.5


def _matches(q: Question, source: str, text: str) -> list[bool]:
    return m.evidence_hits(source, text, sources=q.sources, supports=q.supports)


def score_question(
    qa: QA,
    q: Question,
    answer: Answer | None,
    passages: list[Passage],
    ks: list[int],
    latency: float,
    error: str | None,
    *,
    answers: bool,
) -> QuestionResult:
    """One question's record: retrieval ranks, answer and citation scores, and passes.

    ``answer`` is None when answering was off or the question was refused as unusable
    (``error``); ``passages`` are what retrieval returned, read to ``max(ks)``.
    """
    scores: dict[str, float | None] = {}
    passed: dict[str, bool] = {}
    expected = list(q.supports or q.sources)
    ranks: list[int | None] = [None] * len(expected)
    for rank, p in enumerate(passages, 1):
        for i, hit in enumerate(_matches(q, p.source, p.text)):
            if hit and ranks[i] is None:
                ranks[i] = rank
    if expected and q.answerable:
        for k in ks:
            scores[f"hit@{k}"] = m.hit_at_k(ranks, k)
            scores[f"recall@{k}"] = m.recall_at_k(ranks, k)
            passed[f"hit@{k}"] = bool(scores[f"hit@{k}"])
        scores[f"mrr@{max(ks)}"] = m.reciprocal_rank(ranks, max(ks))
    abstained = answer.abstained if answer is not None else True
    citations: list[dict[str, Any]] = []
    if answers:
        citations = _citations(qa, answer) if answer is not None else []
        scores["citations_verified"] = (
            sum(c["verified"] for c in citations) / len(citations) if citations else None
        )
        passed["citations_verified"] = all(c["verified"] for c in citations) and (error is None)
        if q.answerable:
            prediction = "" if abstained else m.strip_citations(answer.text if answer else "")
            refs = q.references
            scores["exact_match"] = m.exact_match(prediction, refs)
            scores["f1"] = m.token_f1(prediction, refs)
            scores["containment"] = m.containment(prediction, refs)
            scores["token_recall"] = semantic.token_recall(prediction, refs)
            passed["exact_match"] = scores["exact_match"] == 1.0
            passed["f1"] = scores["f1"] >= F1_PASS
            passed["containment"] = scores["containment"] == 1.0
            passed["answered"] = not abstained
            if expected and not abstained and answer is not None:
                _citation_scores(q, answer.citations, scores, passed)
        else:
            passed["abstained"] = abstained
    return QuestionResult(
        id=q.id,
        question=q.question,
        answerable=q.answerable,
        expected=q.answer,
        aliases=list(q.aliases),
        sources=list(q.sources),
        supports=list(q.supports),
        tags=list(q.tags),
        extra=dict(q.extra),
        answer=answer.text if answer is not None else "",
        abstained=abstained,
        score=round(float(answer.score), 6) if answer is not None else 0.0,
        confidence=answer.confidence if answer is not None else None,
        answerer=answer.answerer if answer is not None else "",
        latency=round(latency, 5),
        citations=citations,
        retrieved=[
            {
                "rank": i,
                "chunk_id": p.chunk_id,
                "source": p.source,
                "start": p.start,
                "end": p.end,
                "score": round(float(p.score), 6),
            }
            for i, p in enumerate(passages, 1)
        ],
        ranks=ranks,
        metrics=scores,
        passed=passed,
        error=error,
    )


def _citations(qa: QA, answer: Answer) -> list[dict[str, Any]]:
    """Each citation as recorded in the report, checked against its source document."""
    out = []
    for c in answer.citations:
        try:
            verified = m.citation_verified(c, qa.document_text(c.source), answer.text)
        except (KeyError, OSError):
            verified = False
        out.append(
            {
                "n": c.n,
                "source": c.source,
                "start": c.start,
                "end": c.end,
                "quote": c.quote,
                "passage": c.passage,
                "chunk_id": c.chunk_id,
                "verified": verified,
            }
        )
    return out


def _citation_scores(
    q: Question,
    citations: Sequence[Citation],
    scores: dict[str, float | None],
    passed: dict[str, bool],
) -> None:
    """Whether the citations point at the expected evidence; duplicates count once."""
    expected = {"sources": q.sources, "supports": q.supports}
    scores["support_in_citations"] = m.support_cited(citations, **expected)
    scores["citation_precision"] = m.citation_precision(citations, **expected)
    if q.supports:
        scores["support_in_quotes"] = m.support_in_quotes(citations, **expected)
    passed["support_in_citations"] = bool(scores["support_in_citations"])


def add_similarity(results: list[QuestionResult], embedder: Embedder) -> list[QuestionResult]:
    """Cosine similarity of each answered answerable question's answer and best reference."""
    todo = [i for i, r in enumerate(results) if r.answerable and not r.abstained]
    pairs = [
        (results[i].prediction, [results[i].expected or "", *results[i].aliases]) for i in todo
    ]
    out = list(results)
    for i, value in zip(todo, semantic.similarities(embedder, pairs), strict=True):
        if value is not None:
            out[i] = replace(out[i], metrics={**out[i].metrics, "semantic_similarity": value})
    return out


def aggregate(
    results: list[QuestionResult], ks: list[int], *, answers: bool
) -> dict[str, float | None]:
    """Headline numbers; each averages over the questions it applies to (see METRICS)."""

    def avg(name: str) -> float | None:
        value = m.mean(r.metrics.get(name) for r in results)
        return None if value is None else round(value, 6)

    out: dict[str, float | None] = {}
    for k in ks:
        out[f"hit@{k}"] = avg(f"hit@{k}")
    for k in ks:
        out[f"recall@{k}"] = avg(f"recall@{k}")
    out[f"mrr@{max(ks)}"] = avg(f"mrr@{max(ks)}")
    if not answers:
        return out
    for name in ("exact_match", "f1", "containment", "semantic_similarity", "token_recall"):
        out[name] = avg(name)
    for name in ("support_in_citations", "support_in_quotes", "citation_precision"):
        out[name] = avg(name)
    cited = [c["verified"] for r in results for c in r.citations]
    out["citations_verified"] = round(sum(cited) / len(cited), 6) if cited else None
    unanswerable = [r for r in results if not r.answerable]
    answerable = [r for r in results if r.answerable]
    out["abstention_rate"] = (
        round(sum(r.abstained for r in unanswerable) / len(unanswerable), 6)
        if unanswerable
        else None
    )
    out["false_refusal_rate"] = (
        round(sum(r.abstained for r in answerable) / len(answerable), 6) if answerable else None
    )
    latencies = [r.latency for r in results]
    p50, p95 = m.percentile(latencies, 50), m.percentile(latencies, 95)
    out["latency_p50"] = None if p50 is None else round(p50, 4)
    out["latency_p95"] = None if p95 is None else round(p95, 4)
    return out


def counts(results: list[QuestionResult]) -> dict[str, int]:
    """How many questions of each kind the run had (the report's header line)."""
    return {
        "questions": len(results),
        "answerable": sum(r.answerable for r in results),
        "unanswerable": sum(not r.answerable for r in results),
        "with_expected_passages": sum(bool(r.ranks) and r.answerable for r in results),
        "answered": sum(not r.abstained for r in results),
        "errors": sum(r.error is not None for r in results),
    }
