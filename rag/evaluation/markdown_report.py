"""An :class:`~rag.evaluation.EvalReport` as Markdown (``report.md``): metrics, changes, questions.

Meant for a pull request or a notebook: plain tables a reviewer can read without tools.
"""

from __future__ import annotations

from rag.evaluation.compare import Comparison
from rag.evaluation.formatting import delta_text, flips_text, fmt, grouped, num_text, outcome_of
from rag.evaluation.reliability import markdown_section
from rag.evaluation.results import EvalReport


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(report: EvalReport, comparison: Comparison | None = None) -> str:
    """The whole report as one Markdown document (``comparison``: against a baseline)."""
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
    lines += markdown_section(report.questions)
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
