"""How a report's numbers and outcomes read, the same in every format (console, Markdown, HTML).

One place for it, so a metric shows the same value in ``report.md``, ``report.html`` and the
terminal, and the formats do not import each other for their helpers.
"""

from __future__ import annotations

from rag.evaluation.compare import Comparison, QuestionChange
from rag.evaluation.results import EvalReport, QuestionResult, metric_info

_GROUPS = ("retrieval", "answer", "citations", "refusal", "latency")


def fmt(name: str, value: float | None) -> str:
    """A metric value for people: rates with three decimals, times in ms or s."""
    if value is None:
        return "n/a"
    if name.startswith("latency"):
        return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"
    if name == "ingest_seconds":
        return f"{value:.1f} s"
    return f"{value:.3f}"


def delta_text(name: str, comparison: Comparison | None) -> str:
    """The change of a metric against the baseline report, signed ("" without one)."""
    if comparison is None:
        return ""
    for d in comparison.deltas:
        if d.name == name and d.delta is not None:
            if name.startswith("latency") or name == "ingest_seconds":
                text = f"{d.delta * 1000:+.0f} ms" if abs(d.delta) < 1 else f"{d.delta:+.2f} s"
            else:
                text = f"{d.delta:+.3f}"
            return text if d.delta else "="
    return ""


def grouped(report: EvalReport) -> list[tuple[str, str, float | None, str]]:
    """(group, metric, value, description) in display order."""
    rows = []
    for group in _GROUPS:
        for name, value in report.metrics.items():
            info = metric_info(name)
            if info is not None and info.group == group:
                rows.append((group, name, value, info.description))
    return rows


def outcome_of(q: QuestionResult) -> str:
    """How a question went, in a few words ("correct", "refused (should answer)", ...)."""
    if q.error:
        return "error"
    if not q.answerable:
        return "abstained (right)" if q.abstained else "answered (should abstain)"
    if q.abstained:
        return "refused (should answer)"
    return "correct" if q.passed.get("containment") else "wrong"


def pass_fail(value: bool | None) -> str:
    """A per-question check as a word ("-" when it does not apply)."""
    return "-" if value is None else "pass" if value else "fail"


def flips_text(changed: QuestionChange) -> str:
    """What flipped for a changed question: "containment: fail→pass, ..."."""
    return ", ".join(f"{k}: {pass_fail(a)}→{pass_fail(b)}" for k, (a, b) in changed.flipped.items())


def num_text(value: float | None) -> str:
    """A per-question metric with two decimals ("" when not measured)."""
    return "" if value is None else f"{value:.2f}"
