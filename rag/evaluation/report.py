"""Render an :class:`~rag.evaluation.EvalReport`: console tables, JSON and Markdown.

The HTML page is :mod:`rag.evaluation.html_report`'s; :func:`write_reports` writes all three files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rag.evaluation.compare import Comparison, QuestionChange
from rag.evaluation.grid import GridResult
from rag.evaluation.runner import EvalReport, QuestionResult, metric_info

_GROUPS = ("retrieval", "answer", "citations", "refusal", "latency")


def write_reports(
    report: EvalReport, out: Path, comparison: Comparison | None = None
) -> dict[str, Path]:
    """Write ``report.json``, ``report.md`` and ``report.html`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    data = report.to_dict()
    if comparison is not None:
        data["comparison"] = comparison.to_dict()
    paths = {
        "json": out / "report.json",
        "md": out / "report.md",
        "html": out / "report.html",
    }
    paths["json"].write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    paths["md"].write_text(to_markdown(report, comparison), encoding="utf-8")
    from rag.evaluation.html_report import to_html  # it uses this module's formatting helpers

    paths["html"].write_text(to_html(report, comparison), encoding="utf-8")
    return paths


# -- formatting helpers --------------------------------------------------------------------------
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


# -- console ---------------------------------------------------------------------------------------
def console_tables(report: EvalReport, comparison: Comparison | None = None) -> list[Any]:
    """Rich renderables summarising the run, for the CLI to print."""
    from rich.markup import escape
    from rich.table import Table

    c = report.counts
    title = (
        f"{c['questions']} questions ({c['answerable']} answerable, "
        f"{c['unanswerable']} unanswerable); abstention threshold {report.threshold:.3f}"
    )
    table = Table(title=title, title_justify="left")
    table.add_column("group", style="dim")
    table.add_column("metric")
    table.add_column("value", justify="right", style="bold")
    if comparison is not None:
        table.add_column("vs baseline", justify="right")
    table.add_column("meaning", style="dim")
    for group, name, value, description in grouped(report):
        cells = [group, name, fmt(name, value)]
        if comparison is not None:
            delta = delta_text(name, comparison)
            better = next((d.better for d in comparison.deltas if d.name == name), None)
            style = "green" if better else "red" if better is False else ""
            cells.append(f"[{style}]{delta}[/]" if style else delta)
        cells.append(escape(description))
        table.add_row(*cells)
    out: list[Any] = [table]
    if report.calibration is not None:
        cal = report.calibration
        out.append(
            f"Calibrated abstention threshold: {cal.threshold:.4f} (was {cal.previous:.4f}); "
            f"answered correctly {cal.answered_correctly:.3f} + abstained "
            f"{cal.abstained:.3f} = {cal.objective:.3f}"
            + ("; stored with the index" if cal.stored else "")
        )
    if comparison is not None and not comparison.changed:
        out.append("No question changed since the baseline.")
    elif comparison is not None:
        changes = Table(title=f"{len(comparison.changed)} questions changed", title_justify="left")
        for col in ("id", "question", "metric flips", "answer now"):
            changes.add_column(col, overflow="fold")
        for ch in comparison.changed[:50]:
            flips = flips_text(ch)
            changes.add_row(
                escape(ch.id),
                escape(ch.question),
                escape(flips or "answer text"),
                escape(ch.answer_after[:80]),
            )
        out.append(changes)
    return out


def pass_fail(value: bool | None) -> str:
    return "-" if value is None else "pass" if value else "fail"


def flips_text(changed: QuestionChange) -> str:
    """What flipped for a changed question: "containment: fail→pass, ..."."""
    return ", ".join(f"{k}: {pass_fail(a)}→{pass_fail(b)}" for k, (a, b) in changed.flipped.items())


_GRID_COLUMNS = (
    "hit@1",
    "hit@k",
    "mrr@k",
    "containment",
    "f1",
    "exact_match",
    "support_in_citations",
    "abstention_rate",
    "false_refusal_rate",
    "latency_p50",
)


def grid_rows(result: GridResult) -> list[dict[str, Any]]:
    """One dict per configuration (best first): its settings and its headline metrics."""
    rows = []
    for row in result.rows:
        r = row.report
        k = r.settings["top_k"]
        values = {
            "hit@1": r.metrics.get("hit@1"),
            "hit@k": r.metrics.get(f"hit@{k}"),
            "mrr@k": r.metrics.get(f"mrr@{max(r.ks)}"),
        }
        values.update({n: r.metrics.get(n) for n in _GRID_COLUMNS if n not in values})
        rows.append({"config": row.config, "metrics": values})
    return rows


def grid_table(result: GridResult) -> Any:
    """A rich table of the grid, best configuration first."""
    from rich.table import Table

    table = Table(title=f"Configurations, best first by {result.rank_by}", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("configuration")
    for name in _GRID_COLUMNS:
        table.add_column(name, justify="right")
    for n, row in enumerate(grid_rows(result), 1):
        config = " ".join(f"{k}={v}" for k, v in row["config"].items())
        table.add_row(str(n), config, *(fmt(name, row["metrics"][name]) for name in _GRID_COLUMNS))
    return table


# -- markdown ------------------------------------------------------------------------------------
def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(report: EvalReport, comparison: Comparison | None = None) -> str:
    c = report.counts
    lines = [
        "# Evaluation report",
        "",
        f"- questions: {c['questions']} ({c['answerable']} answerable, "
        f"{c['unanswerable']} unanswerable) from `{report.questions_file or 'given list'}`",
        f"- created: {report.created}",
        f"- abstention threshold: {report.threshold:.4f}",
        "- settings: " + ", ".join(f"{k}={v}" for k, v in report.settings.items() if k != "fusion"),
        f"- fusion: {report.settings.get('fusion')}",
        "",
        "## Metrics",
        "",
        "| group | metric | value |" + (" Δ baseline |" if comparison else "") + " meaning |",
        "| --- | --- | ---: |" + (" ---: |" if comparison else "") + " --- |",
    ]
    for group, name, value, description in grouped(report):
        delta = f" {delta_text(name, comparison)} |" if comparison else ""
        lines.append(f"| {group} | {name} | {fmt(name, value)} |{delta} {description} |")
    if report.calibration is not None:
        cal = report.calibration
        lines += [
            "",
            "## Calibration",
            "",
            f"Threshold {cal.threshold:.4f} (was {cal.previous:.4f}): answered correctly "
            f"{cal.answered_correctly:.3f} of {cal.answerable} answerable + abstained "
            f"{cal.abstained:.3f} of {cal.unanswerable} unanswerable = {cal.objective:.3f}.",
        ]
    if comparison is not None:
        lines += ["", f"## Changed questions ({len(comparison.changed)})", ""]
        if comparison.changed:
            lines += ["| id | question | flips | answer before | answer now |", "| --- |" * 5]
            lines[-1] = "| --- | --- | --- | --- | --- |"
            for ch in comparison.changed:
                flips = flips_text(ch)
                lines.append(
                    f"| {ch.id} | {_md(ch.question)} | {flips} | {_md(ch.answer_before)} "
                    f"| {_md(ch.answer_after)} |"
                )
    k = report.settings["top_k"]
    lines += [
        "",
        "## Questions",
        "",
        "| id | question | expected | answer | outcome | score | EM | F1 | sim | recall "
        f"| hit@{k} |",
        "| --- | --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for q in report.questions:
        lines.append(
            f"| {q.id} | {_md(q.question)} | {_md(q.expected or '(none)')} | {_md(q.answer)} "
            f"| {outcome_of(q)} | {q.score:.3f} | {num_text(q.metrics.get('exact_match'))} "
            f"| {num_text(q.metrics.get('f1'))} "
            f"| {num_text(q.metrics.get('semantic_similarity'))} "
            f"| {num_text(q.metrics.get('token_recall'))} "
            f"| {num_text(q.metrics.get(f'hit@{k}'))} |"
        )
    return "\n".join(lines) + "\n"


def num_text(value: float | None) -> str:
    """A per-question metric with two decimals ("" when not measured)."""
    return "" if value is None else f"{value:.2f}"
