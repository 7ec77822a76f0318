"""Run the system on test questions and score every answer: the heart of ``rag eval``.

Each question is asked through the public :class:`~rag.QA` API exactly as a user would ask
it, so the numbers describe the real system. Retrieval is also read deeper than the answerer
sees when a metric needs it (recall@10 with ``top_k`` 5), through the same retriever.
The records it returns are :mod:`rag.evaluation.results`'s, the scoring of each answer
:mod:`rag.evaluation.scoring`'s.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from rag.clock import utc_now
from rag.embed.embedder import Embedder
from rag.errors import QuestionError
from rag.evaluation.calibration import Calibration, calibrate
from rag.evaluation.questions import Question, QuestionFileError, load_questions
from rag.evaluation.results import EvalReport, QuestionResult
from rag.evaluation.scoring import add_similarity, aggregate, counts, score_question
from rag.protocols import Progress
from rag.qa import QA
from rag.questions import validate_question
from rag.read import NAME_ABSTAINER, RELATION_ABSTAINER, TABLE_ANSWERER, YEAR_ABSTAINER
from rag.results import Answer, Passage
from rag.retrieve.hybrid import Fusion, HybridRetriever, to_passage
from rag.settings import Settings
from rag.store.generations import IndexDir

log = logging.getLogger(__name__)


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
        results = add_similarity(results, embedder)
    metrics = aggregate(results, ks, answers=answers)
    metrics["ingest_seconds"] = None if ingest_seconds is None else round(ingest_seconds, 3)
    return EvalReport(
        metrics=metrics,
        questions=results,
        counts=counts(results),
        threshold=threshold,
        ks=ks,
        settings=_settings_summary(settings, retriever_fusion),
        questions_file=source_file,
        created=utc_now(),
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
    answerable, unanswerable = calibration_scores(results)
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


def calibration_scores(
    results: Sequence[QuestionResult],
) -> tuple[list[tuple[float, bool]], list[float]]:
    """``(score, right)`` of the answerable questions and the scores of the others.

    Only answers the threshold decides count: a cell read from a whole table is given whatever
    its score (:data:`rag.read.TABLE_ANSWERER`), and a question about a year no passage
    or a name no passage mentions is refused unread (:data:`rag.read.YEAR_ABSTAINER`,
    :data:`rag.read.NAME_ABSTAINER`), and one whose answer never words the relation asked for
    is refused whatever its score (:data:`rag.read.RELATION_ABSTAINER`), so their scores say
    nothing about a threshold.
    """
    unscored = (TABLE_ANSWERER, YEAR_ABSTAINER, NAME_ABSTAINER, RELATION_ABSTAINER)
    gated = [r for r in results if r.answerer not in unscored]
    answerable = [(r.score, bool(r.metrics.get("containment"))) for r in gated if r.answerable]
    return answerable, [r.score for r in gated if not r.answerable]


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
    return score_question(qa, q, answer, passages, ks, latency, error, answers=answers)


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
