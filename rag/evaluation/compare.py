"""Compare a run with an earlier one, and gate on minimum scores (``--fail-under``).

"Did my change to chunking help or hurt?" is answered per metric (delta, and whether that is
better) and per question (which questions now pass or fail a metric, or answer differently).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import RagError
from rag.evaluation.results import EvalReport, metric_info


class ReportFileError(RagError):
    """A baseline report cannot be read."""


class GateError(RagError):
    """A ``--fail-under`` specification is malformed or names an unknown metric."""


@dataclass(frozen=True)
class MetricDelta:
    name: str
    baseline: float | None
    current: float | None
    delta: float | None
    better: bool | None  # None when unchanged or not comparable


@dataclass(frozen=True)
class QuestionChange:
    id: str
    question: str
    flipped: dict[str, tuple[bool | None, bool | None]]  # metric -> (passed before, after)
    answer_before: str
    answer_after: str


@dataclass(frozen=True)
class Comparison:
    """A report against its baseline: metric deltas and the questions whose outcome changed."""

    deltas: list[MetricDelta]
    changed: list[QuestionChange] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    baseline_file: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline_file": self.baseline_file,
            "deltas": [d.__dict__ for d in self.deltas],
            "changed": [
                {**c.__dict__, "flipped": {k: list(v) for k, v in c.flipped.items()}}
                for c in self.changed
            ],
            "added": self.added,
            "removed": self.removed,
        }


def load_report(path: Path) -> EvalReport:
    """Read a ``report.json`` written by an earlier run."""
    try:
        return EvalReport.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise ReportFileError(f"baseline report {path} does not exist") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ReportFileError(
            f"baseline {path} is not a report.json written by `rag eval` ({type(exc).__name__})"
        ) from exc


def compare(current: EvalReport, baseline: EvalReport, *, baseline_file: str = "") -> Comparison:
    """Per-metric deltas and the questions (matched by id) whose outcome changed."""
    deltas = []
    for name in dict.fromkeys([*current.metrics, *baseline.metrics]):
        now, before = current.metrics.get(name), baseline.metrics.get(name)
        delta = None if now is None or before is None else round(now - before, 6)
        info = metric_info(name)
        better = None
        if delta and info is not None:
            better = (delta > 0) == info.higher_is_better
        deltas.append(MetricDelta(name, before, now, delta, better))
    old = {q.id: q for q in baseline.questions}
    new = {q.id: q for q in current.questions}
    changed = []
    for qid, q in new.items():
        if qid not in old:
            continue
        b = old[qid]
        flipped = {
            k: (b.passed.get(k), q.passed.get(k))
            for k in dict.fromkeys([*b.passed, *q.passed])
            if b.passed.get(k) != q.passed.get(k)
        }
        if flipped or b.answer != q.answer:
            changed.append(QuestionChange(qid, q.question, flipped, b.answer, q.answer))
    return Comparison(
        deltas=deltas,
        changed=changed,
        added=[qid for qid in new if qid not in old],
        removed=[qid for qid in old if qid not in new],
        baseline_file=baseline_file,
    )


def parse_gates(specs: Iterable[str]) -> dict[str, float]:
    """``["f1=0.5", "hit@5=0.9"]`` -> ``{"f1": 0.5, "hit@5": 0.9}``."""
    gates: dict[str, float] = {}
    for spec in specs:
        name, sep, value = spec.partition("=")
        name = name.strip()
        try:
            number = float(value)
        except ValueError:
            number = None
        if not sep or not name or number is None:
            raise GateError(f"--fail-under expects metric=value (like f1=0.5), not {spec!r}")
        if metric_info(name) is None:
            raise GateError(f"--fail-under: unknown metric {name!r}")
        gates[name] = number
    return gates


def check_gates(report: EvalReport, gates: dict[str, float]) -> list[str]:
    """One line per gate the report fails (a metric below its minimum, or not measured)."""
    failures = []
    for name, minimum in gates.items():
        value = report.metrics.get(name)
        if value is None:
            failures.append(f"{name} was not measured (known here: {', '.join(report.metrics)})")
        elif value < minimum:
            failures.append(f"{name} = {value:.4f} is under {minimum:g}")
    return failures
