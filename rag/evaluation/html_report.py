"""The evaluation report as one self-contained HTML page.

Inline CSS, plots as inline SVG images, no script: the page can be attached to a CI run or
mailed and still open anywhere, offline.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from typing import Any

from rag.evaluation.compare import Comparison
from rag.evaluation.formatting import (
    delta_text,
    flips_text,
    fmt,
    grouped,
    num_text,
    outcome_of,
)
from rag.evaluation.reliability import html_section
from rag.evaluation.results import EvalReport, QuestionResult

# -- HTML ----------------------------------------------------------------------------------------
_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1d232a}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}
th,td{border:1px solid #d5dbe1;padding:.3rem .5rem;vertical-align:top;text-align:left}
th{background:#f2f4f7}td.n{text-align:right;font-variant-numeric:tabular-nums}
.meta{color:#57606a}.plots{display:flex;flex-wrap:wrap;gap:1rem}
.plots img{max-width:100%;border:1px solid #eee}
tr.correct td:first-child,tr.abstained-right td:first-child{border-left:4px solid #2da44e}
tr.wrong td:first-child,tr.answered-should-abstain td:first-child{border-left:4px solid #cf222e}
tr.refused-should-answer td:first-child,tr.error td:first-child{border-left:4px solid #bf8700}
.ok{color:#1a7f37}.bad{color:#cf222e}.quote{color:#57606a;font-style:italic;font-size:.9em}
.better{color:#1a7f37}.worse{color:#cf222e}
"""


def to_html(report: EvalReport, comparison: Comparison | None = None) -> str:
    e = html.escape
    c = report.counts
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>rag eval: {c['questions']} questions</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Evaluation report</h1>",
        f'<p class="meta">{c["questions"]} questions ({c["answerable"]} answerable, '
        f"{c['unanswerable']} unanswerable) from <code>{e(report.questions_file or '-')}</code>"
        f"; created {e(report.created)}; abstention threshold {report.threshold:.4f}<br>"
        + e(", ".join(f"{k}={v}" for k, v in report.settings.items()))
        + "</p>",
        "<h2>Metrics</h2><table><tr><th>group</th><th>metric</th><th>value</th>"
        + ("<th>vs baseline</th>" if comparison else "")
        + "<th>meaning</th></tr>",
    ]
    for group, name, value, description in grouped(report):
        delta = ""
        if comparison is not None:
            better = next((d.better for d in comparison.deltas if d.name == name), None)
            css = "better" if better else "worse" if better is False else ""
            delta = f'<td class="n {css}">{e(delta_text(name, comparison))}</td>'
        parts.append(
            f'<tr><td>{group}</td><td>{e(name)}</td><td class="n">{fmt(name, value)}</td>'
            f"{delta}<td>{e(description)}</td></tr>"
        )
    parts.append("</table>")
    if report.calibration is not None:
        cal = report.calibration
        parts.append(
            f"<h2>Calibration</h2><p>Threshold <b>{cal.threshold:.4f}</b> (was "
            f"{cal.previous:.4f}): answered correctly {cal.answered_correctly:.3f} of "
            f"{cal.answerable} answerable + abstained {cal.abstained:.3f} of "
            f"{cal.unanswerable} unanswerable = {cal.objective:.3f}.</p>"
        )
    parts.append(html_section(report.questions))
    parts.append('<h2>Plots</h2><div class="plots">')
    for title, svg in _plots(report):
        data = base64.b64encode(svg.encode()).decode()
        parts.append(f'<img alt="{e(title)}" src="data:image/svg+xml;base64,{data}">')
    parts.append("</div>")
    if comparison is not None:
        parts.append(f"<h2>Changed questions ({len(comparison.changed)})</h2>")
        if comparison.changed:
            parts.append(
                "<table><tr><th>id</th><th>question</th><th>flips</th>"
                "<th>answer before</th><th>answer now</th></tr>"
            )
            for ch in comparison.changed:
                flips = flips_text(ch)
                parts.append(
                    f"<tr><td>{e(ch.id)}</td><td>{e(ch.question)}</td><td>{e(flips)}</td>"
                    f"<td>{e(ch.answer_before)}</td><td>{e(ch.answer_after)}</td></tr>"
                )
            parts.append("</table>")
    parts.append(_question_table(report))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _question_table(report: EvalReport) -> str:
    e = html.escape
    k = report.settings["top_k"]
    head = (
        "<h2>Questions</h2><table><tr><th>id</th><th>question</th><th>expected</th>"
        "<th>answer and citations</th><th>outcome</th><th>score</th><th>EM</th><th>F1</th>"
        "<th>sim</th><th>recall</th>"
        f"<th>contained</th><th>hit@{k}</th><th>support cited</th><th>verified</th>"
        "<th>latency</th></tr>"
    )
    rows = [head]
    for q in report.questions:
        outcome = outcome_of(q)
        css = outcome.replace("(", "").replace(")", "").replace(" ", "-")
        quotes = "".join(
            f'<div class="quote">[{c["n"]}] {e(c["source"])} [{c["start"]}:{c["end"]}]: '
            f"\u201c{e(c['quote'])}\u201d</div>"
            for c in q.citations
        )
        expected = e(q.expected) if q.expected else "<i>(unanswerable)</i>"
        if q.aliases:
            expected += f'<div class="quote">also: {e("; ".join(q.aliases))}</div>'
        cells = [
            e(q.id),
            e(q.question),
            expected,
            e(q.answer) + quotes + (f'<div class="bad">{e(q.error)}</div>' if q.error else ""),
            e(outcome),
        ]
        numbers = [
            f"{q.score:.3f}",
            num_text(q.metrics.get("exact_match")),
            num_text(q.metrics.get("f1")),
            num_text(q.metrics.get("semantic_similarity")),
            num_text(q.metrics.get("token_recall")),
            _mark(q.passed.get("containment")),
            _mark(q.passed.get(f"hit@{k}")),
            _mark(q.passed.get("support_in_citations")),
            _mark(q.passed.get("citations_verified") if q.citations else None),
            f"{q.latency * 1000:.0f} ms",
        ]
        rows.append(
            f'<tr class="{css}">'
            + "".join(f"<td>{cell}</td>" for cell in cells)
            + "".join(f'<td class="n">{cell}</td>' for cell in numbers)
            + "</tr>"
        )
    rows.append("</table>")
    return "\n".join(rows)


def _mark(value: bool | None) -> str:
    if value is None:
        return ""
    return '<span class="ok">\u2713</span>' if value else '<span class="bad">\u2717</span>'


def _plots(report: EvalReport) -> list[tuple[str, str]]:
    """(title, SVG text) of each plot; none when there is nothing to draw."""
    questions = report.questions
    if not any(q.latency for q in questions):  # retrieval-only run: no answers, no latency
        return []
    return [
        ("Answer confidence: answerable vs unanswerable", _score_plot(report)),
        ("Latency per question", _latency_plot(report.questions)),
    ]


def _svg(fig: Any) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buffer.getvalue()


def _bins(values: Sequence[float], n: int = 20) -> Any:
    import numpy as np

    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if high <= low:
        low, high = low - 0.5, high + 0.5
    return np.linspace(low, high, n + 1)


def _score_plot(report: EvalReport) -> str:
    from matplotlib.figure import Figure

    answerable = [q.score for q in report.questions if q.answerable]
    unanswerable = [q.score for q in report.questions if not q.answerable]
    bins = _bins([*answerable, *unanswerable, report.threshold])
    fig = Figure(figsize=(6.4, 3.6))
    ax = fig.add_subplot()
    if answerable:
        ax.hist(answerable, bins=bins, alpha=0.6, label=f"answerable ({len(answerable)})")
    if unanswerable:
        ax.hist(unanswerable, bins=bins, alpha=0.6, label=f"unanswerable ({len(unanswerable)})")
    ax.axvline(report.threshold, color="black", linestyle="--", label="abstention threshold")
    ax.set_xlabel("answer confidence (answers at or above the threshold)")
    ax.set_ylabel("questions")
    ax.set_title("Answer confidence: answerable vs unanswerable")
    ax.legend(fontsize="small")
    return _svg(fig)


def _latency_plot(questions: Sequence[QuestionResult]) -> str:
    from matplotlib.figure import Figure

    ms = [q.latency * 1000 for q in questions]
    fig = Figure(figsize=(6.4, 3.6))
    ax = fig.add_subplot()
    ax.hist(ms, bins=_bins(ms), color="#6f42c1", alpha=0.8)
    import numpy as np

    for q, style in ((50, "--"), (95, ":")):
        value = float(np.percentile(ms, q))
        ax.axvline(value, color="black", linestyle=style, label=f"p{q} {value:.0f} ms")
    ax.set_xlabel("milliseconds per question")
    ax.set_ylabel("questions")
    ax.set_title("Latency per question")
    ax.legend(fontsize="small")
    return _svg(fig)
