"""What an evaluation produces: each question's record, the report, and the metrics' meanings.

These are the data ``report.json`` holds and every report format reads
(:mod:`rag.evaluation.report`, :mod:`rag.evaluation.html_report`, :mod:`rag.evaluation.compare`),
kept apart from running and scoring so a reader of reports never imports the system under test.
Metric definitions are in the README ("Evaluation") and in :data:`METRICS`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from rag.evaluation import metrics as m
from rag.evaluation.calibration import Calibration

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


#: Every headline metric by name: what it measures, its group, and which direction is better.
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
    #: the answer's calibrated P(right) (:attr:`rag.Answer.confidence`); None if it has none
    confidence: float | None = None
    #: who answered (:attr:`rag.Answer.answerer`); empty when nothing did
    answerer: str = ""

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
