"""Run the system on test questions and score every answer: the heart of ``rag eval``.

Each question is asked through the public :class:`~rag.QA` API exactly as a user would ask
it, so the numbers describe the real system. Retrieval is also read deeper than the answerer
sees when a metric needs it (recall@10 with ``top_k`` 5), through the same retriever.
Metric definitions are in the README ("Evaluation") and in :data:`METRICS`.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from rag.embed.embedder import Embedder
from rag.errors import QuestionError
from rag.evaluation import metrics as m
from rag.evaluation import semantic
from rag.evaluation.calibration import Calibration, calibrate
from rag.evaluation.questions import Question, QuestionFileError, load_questions
from rag.qa import QA, validate_question
from rag.results import Answer, Citation, Passage
from rag.retrieve.hybrid import Fusion, HybridRetriever, to_passage
from rag.settings import Settings
from rag.store.generations import IndexDir
from rag.store.manifest import now_iso

log = logging.getLogger(__name__)

#: ``progress(stage, done, total)``, as for ingest.
Progress = Callable[[str, int, int], None]

#: Per-question F1 at or above this counts as a pass in the per-question table.
F1_PASS = 0.5

REPORT_VERSION = 1


@dataclass(frozen=True)
class MetricInfo:
    """What a headline metric measures, and which direction is better."""

    group: str
    higher_is_better: bool
    description: str


def metric_info(name: str) -> MetricInfo | None:
    """Description of a metric name, including the ``hit@k`` family."""
    if name in METRICS:
        return METRICS[name]
    family = re.fullmatch(r"(hit|recall|mrr)@\d+", name)
    return METRICS[f"{family.group(1)}@k"] if family else None


METRICS: dict[str, MetricInfo] = {
    "hit@k": MetricInfo("retrieval", True, "an expected passage is among the top k retrieved"),
    "recall@k": MetricInfo("retrieval", True, "share of the expected passages in the top k"),
    "mrr@k": MetricInfo("retrieval", True, "1/rank of the first expected passage (0 past k)"),
    "exact_match": MetricInfo("answer", True, "SQuAD exact match, citation markers removed"),
    "f1": MetricInfo("answer", True, "SQuAD token F1, citation markers removed"),
    "containment": MetricInfo("answer", True, "a normalised reference occurs in the answer"),
    "semantic_similarity": MetricInfo(
        "answer", True, "cosine of answer and reference embeddings (answered questions)"
    ),
    "token_recall": MetricInfo(
        "answer", True, "share of the reference's content words in the answer (refusal = 0)"
    ),
    "support_in_citations": MetricInfo(
        "citations", True, "answers with a cited passage that holds the support quote"
    ),
    "support_in_quotes": MetricInfo(
        "citations", True, "answers with a cited quote that is (part of) the support quote"
    ),
    "citation_precision": MetricInfo(
        "citations", True, "cited passages holding the support / all cited passages"
    ),
    "citations_verified": MetricInfo(
        "citations", True, "citations whose quote is exactly source[start:end]"
    ),
    "abstention_rate": MetricInfo(
        "refusal", True, "unanswerable questions the system declined to answer"
    ),
    "false_refusal_rate": MetricInfo(
        "refusal", False, "answerable questions the system declined to answer"
    ),
    "latency_p50": MetricInfo("latency", False, "median seconds per question"),
    "latency_p95": MetricInfo("latency", False, "95th percentile seconds per question"),
    "ingest_seconds": MetricInfo("latency", False, "seconds to bring the index up to date"),
}


@dataclass(frozen=True)
class QuestionResult:
    """One question: what was expected, what the system did, and how each metric scored it."""

    id: str
    question: str
    answerable: bool
    expected: str | None
    aliases: list[str]
    sources: list[str]
    supports: list[str]
    tags: list[str]
    answer: str
    abstained: bool
    score: float
    latency: float
    citations: list[dict[str, Any]] = field(default_factory=list)
    retrieved: list[dict[str, Any]] = field(default_factory=list)
    ranks: list[int | None] = field(default_factory=list)
    metrics: dict[str, float | None] = field(default_factory=dict)
    passed: dict[str, bool] = field(default_factory=dict)
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # the file's own columns, unscored

    @property
    def prediction(self) -> str:
        """The answer as scored: empty when abstaining, without citation markers."""
        return "" if self.abstained else m.strip_citations(self.answer)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data, as ``report.json`` stores one question."""
        return asdict(self)


@dataclass(frozen=True)
class EvalReport:
    """The result of one evaluation run: headline metrics and every question's record."""

    metrics: dict[str, float | None]
    questions: list[QuestionResult]
    counts: dict[str, int]
    threshold: float
    ks: list[int]
    settings: dict[str, Any]
    questions_file: str = ""
    created: str = ""
    calibration: Calibration | None = None
    version: int = REPORT_VERSION

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data, as ``report.json`` stores it (:meth:`from_dict` reads it)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["questions"] = [q.to_dict() for q in self.questions]
        data["calibration"] = self.calibration.to_dict() if self.calibration else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalReport:
        """Rebuild a report from :meth:`to_dict` output (``report.json``)."""
        names = {f.name for f in fields(QuestionResult)}
        questions = [
            QuestionResult(**{k: v for k, v in q.items() if k in names}) for q in data["questions"]
        ]
        cal = data.get("calibration")
        calibration = None
        if cal:
            cal = {**cal, "curve": [tuple(p) for p in cal.get("curve", [])]}
            calibration = Calibration(**cal)
        keep = {f.name for f in fields(cls)} - {"questions", "calibration"}
        return cls(
            questions=questions,
            calibration=calibration,
            **{k: v for k, v in data.items() if k in keep},
        )

    def metric(self, name: str) -> float | None:
        """One headline metric by name; None when it was not computed (e.g. no gold answers)."""
        return self.metrics.get(name)


def default_questions_file() -> Path:
    """The shipped example questions, ``tests/data/questions.jsonl``.

    Looked up in the working folder, then in the source checkout this package runs from.
    """
    for root in (Path.cwd(), Path(__file__).resolve().parents[2]):
        candidate = root / "tests" / "data" / "questions.jsonl"
        if candidate.is_file():
            return candidate
    raise QuestionFileError(
        "no questions file given and the shipped example tests/data/questions.jsonl was not "
        "found: pass a JSONL or CSV file of questions"
    )


def evaluate(
    questions: str | Path | Sequence[Question] | None = None,
    settings: Settings | None = None,
    *,
    ks: Sequence[int] | None = None,
    calibrate_threshold: bool = False,
    answers: bool = True,
    fusion: Fusion | None = None,
    ingest: bool = True,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
) -> EvalReport:
    """Ask every question, score the answers, and return an :class:`EvalReport`.

    Args:
        questions: a JSONL/CSV file, loaded questions, or None for the shipped example.
        settings: corpus, index and retrieval settings (``Settings()`` when omitted).
        ks: cut-offs for hit@k and recall@k (MRR uses the largest); default ``1`` and
            ``top_k``.
        calibrate_threshold: first choose the abstention threshold that best separates
            answerable from unanswerable questions (see :mod:`rag.evaluation.calibration`),
            store it with the index, then evaluate with it.
        answers: False scores retrieval only (no answerer; much faster on large sets).
        fusion: score retrieval with this fusion instead of the retriever's own (only with
            ``answers=False``, since the answerer always uses the configured retriever).
        ingest: bring the index up to date with the corpus first (incremental) and time it.
        embedder: a loaded model to share (tests, grids); loaded from settings otherwise.
        progress: called as ``progress(stage, done, total)``.

    Raises:
        QuestionFileError: the questions file is missing or malformed.
        CalibrationError: calibration was asked for without both kinds of question.
        RagError: the corpus or index cannot be used (the message says what to do).
    """
    settings = settings or Settings()
    if fusion is not None and answers:
        raise ValueError("a custom fusion can only be scored with answers=False")
    if questions is None:
        questions = default_questions_file()
    source_file = ""
    if isinstance(questions, str | Path):
        source_file = str(questions)
        questions = load_questions(Path(questions))
    questions = list(questions)
    if not questions:
        raise QuestionFileError("there are no questions to evaluate")
    ks = sorted({int(k) for k in (ks or (1, settings.top_k)) if int(k) >= 1})
    embedder = embedder or Embedder(
        settings.embedding_model,
        dtype=settings.embedding_dtype,
        batch_size=settings.embedding_batch_size,
    )
    ingest_seconds = _ingest(settings, embedder, progress) if ingest else None
    calibration = None
    if calibrate_threshold:
        calibration = _calibrate(questions, settings, embedder, ks, progress)
    with QA(settings, embedder=embedder) as qa:
        threshold = qa.threshold
        results = _run(qa, questions, ks, answers=answers, fusion=fusion, progress=progress)
        retriever_fusion = fusion or qa.retriever.fusion
    if answers:
        results = _add_similarity(results, embedder)
    metrics = _aggregate(results, ks, answers=answers)
    metrics["ingest_seconds"] = None if ingest_seconds is None else round(ingest_seconds, 3)
    return EvalReport(
        metrics=metrics,
        questions=results,
        counts=_counts(results),
        threshold=threshold,
        ks=ks,
        settings=_settings_summary(settings, retriever_fusion),
        questions_file=source_file,
        created=now_iso(),
        calibration=calibration,
    )


# -- steps -------------------------------------------------------------------------------------
def _ingest(settings: Settings, embedder: Embedder, progress: Progress | None) -> float | None:
    """Incremental ingest, timed; skipped (None) for an index without its corpus folder."""
    if not settings.corpus_dir.is_dir() and IndexDir(settings.index_dir).current() is not None:
        log.info("corpus %s not found: evaluating the index as it is", settings.corpus_dir)
        return None
    with QA(settings, embedder=embedder) as qa:
        summary = qa.ingest(progress=progress)
    return summary.seconds


def _calibrate(
    questions: list[Question],
    settings: Settings,
    embedder: Embedder,
    ks: list[int],
    progress: Progress | None,
) -> Calibration:
    """Score every question with abstention off, pick the threshold, store it with the index."""
    with QA(settings, embedder=embedder) as current:
        previous = current.threshold
        reader_id = current.reader_model.model_id
    open_settings = settings.model_copy(update={"abstain_threshold": -math.inf})
    with QA(open_settings, embedder=embedder) as qa:
        results = _run(qa, questions, ks[:1], answers=True, fusion=None, progress=progress)
    answerable = [(r.score, bool(r.metrics.get("containment"))) for r in results if r.answerable]
    unanswerable = [r.score for r in results if not r.answerable]
    found = calibrate(answerable, unanswerable, previous=previous)
    # stored with the reader it was calibrated for: another reader's scores mean other things
    IndexDir(settings.index_dir).store_settings(abstain_threshold=found.threshold, reader=reader_id)
    if settings.abstain_threshold is not None:
        log.warning(
            "stored the calibrated threshold %.4f, but RAG_ABSTAIN_THRESHOLD=%s overrides it",
            found.threshold,
            settings.abstain_threshold,
        )
    return replace(found, stored=True)


def _run(
    qa: QA,
    questions: list[Question],
    ks: list[int],
    *,
    answers: bool,
    fusion: Fusion | None,
    progress: Progress | None,
) -> list[QuestionResult]:
    depth = max(ks)
    retriever = qa.retriever
    if fusion is not None:
        retriever = HybridRetriever(
            snapshot=qa.snapshot,
            embedder=qa.embedder,
            k=qa.settings.top_k,
            candidate_k=qa.settings.candidate_k,
            fusion=fusion,
        )
    qa.snapshot()  # open the index and load the model now, so no question pays for it
    qa.embedder.encode(["warm-up"])
    # Texts embedded by an earlier pass (calibration, another grid row) would make these
    # questions look faster than a user's first ones; within the pass the cache stays on.
    qa.embedder.clear_recent()
    results = []
    for done, q in enumerate(questions, 1):
        results.append(_one(qa, retriever, q, ks, depth, answers=answers))
        if progress:
            progress("evaluating", done, len(questions))
    return results


def _one(
    qa: QA, retriever: HybridRetriever, q: Question, ks: list[int], depth: int, *, answers: bool
) -> QuestionResult:
    answer: Answer | None = None
    error = None
    latency = 0.0
    passages: list[Passage] = []
    if answers:
        started = time.perf_counter()
        try:
            answer = qa.ask(q.question)
        except QuestionError as exc:  # a bad question in the file is a failure, not a crash
            error = str(exc)
        latency = time.perf_counter() - started
        if answer is not None:
            passages = list(answer.passages)
    if error is None and (not answers or depth > len(passages)):
        try:
            query = validate_question(q.question, qa.settings.max_question_chars)
            passages = [to_passage(d) for d in retriever.invoke(query, k=depth)]
        except QuestionError as exc:
            error = str(exc)
    return _score(qa, q, answer, passages, ks, latency, error, answers=answers)


def _matches(q: Question, source: str, text: str) -> list[bool]:
    return m.evidence_hits(source, text, sources=q.sources, supports=q.supports)


def _score(
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


def _add_similarity(results: list[QuestionResult], embedder: Embedder) -> list[QuestionResult]:
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


def _aggregate(
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


def _counts(results: list[QuestionResult]) -> dict[str, int]:
    return {
        "questions": len(results),
        "answerable": sum(r.answerable for r in results),
        "unanswerable": sum(not r.answerable for r in results),
        "with_expected_passages": sum(bool(r.ranks) and r.answerable for r in results),
        "answered": sum(not r.abstained for r in results),
        "errors": sum(r.error is not None for r in results),
    }


def _settings_summary(settings: Settings, fusion: Fusion) -> dict[str, Any]:
    return {
        "corpus_dir": str(settings.corpus_dir),
        "index_dir": str(settings.index_dir),
        "embedding_model": settings.embedding_model,
        "chunk_size": settings.chunk_size,
        "chunk_overlap": settings.chunk_overlap,
        "embed_tokens": settings.embed_tokens,
        "embed_words": settings.embed_words,
        "top_k": settings.top_k,
        "candidate_k": settings.candidate_k,
        "llm": settings.llm,
        "fusion": asdict(fusion),
    }
