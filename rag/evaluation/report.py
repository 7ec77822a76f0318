"""Write an :class:`~rag.evaluation.EvalReport` to files: ``report.json``, ``.md`` and ``.html``.

The formats are their own modules (:mod:`rag.evaluation.markdown_report`,
:mod:`rag.evaluation.html_report`; the terminal's tables are :mod:`rag.evaluation.console`),
and share how numbers read through :mod:`rag.evaluation.formatting`.
"""

from __future__ import annotations

import json
from pathlib import Path

from rag.evaluation.compare import Comparison
from rag.evaluation.html_report import to_html
from rag.evaluation.markdown_report import to_markdown
from rag.evaluation.reliability import report_reliability
from rag.evaluation.results import EvalReport


def write_reports(
    report: EvalReport, out: Path, comparison: Comparison | None = None
) -> dict[str, Path]:
    """Write ``report.json``, ``report.md`` and ``report.html`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    data = report.to_dict()
    if comparison is not None:
        data["comparison"] = comparison.to_dict()
    data["reliability"] = report_reliability(report.questions).to_dict()
    paths = {
        "json": out / "report.json",
        "md": out / "report.md",
        "html": out / "report.html",
    }
    paths["json"].write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    paths["md"].write_text(to_markdown(report, comparison), encoding="utf-8")
    paths["html"].write_text(to_html(report, comparison), encoding="utf-8")
    return paths
