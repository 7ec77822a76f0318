"""A report and a grid as rich tables for the terminal (``rag eval``, ``rag eval --grid``)."""

from __future__ import annotations

from typing import Any

from rag.evaluation.compare import Comparison
from rag.evaluation.formatting import delta_text, flips_text, fmt, grouped
from rag.evaluation.grid import GridResult
from rag.evaluation.results import EvalReport


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
