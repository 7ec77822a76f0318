"""The evaluation harness behind ``rag eval``: score the system on test questions.

    >>> from rag import evaluate
    >>> report = evaluate("tests/data/questions.jsonl")
    >>> report.metrics["containment"], report.metrics["abstention_rate"]

:func:`evaluate` asks every question through :class:`rag.QA` and returns an
:class:`EvalReport`; :mod:`rag.evaluation.report` writes it as JSON, Markdown and HTML.
The answer metrics (:func:`exact_match`, :func:`token_f1`, :func:`containment`) are shared with
the benchmarks and reader training; the reliability table is
``rag.evaluation.reliability.reliability`` (its module has the same name).
"""

from rag.evaluation.calibration import Calibration, CalibrationError, calibrate
from rag.evaluation.compare import (
    Comparison,
    GateError,
    ReportFileError,
    check_gates,
    compare,
    load_report,
    parse_gates,
)
from rag.evaluation.grid import GridError, GridResult, parse_grid, run_grid, split_arguments
from rag.evaluation.metrics import containment, exact_match, mean, strip_citations, token_f1
from rag.evaluation.questions import Question, QuestionFileError, load_questions
from rag.evaluation.results import METRICS, EvalReport, QuestionResult, metric_info
from rag.evaluation.runner import default_questions_file, evaluate

__all__ = [
    "METRICS",
    "Calibration",
    "CalibrationError",
    "Comparison",
    "EvalReport",
    "GateError",
    "GridError",
    "GridResult",
    "Question",
    "QuestionFileError",
    "QuestionResult",
    "ReportFileError",
    "calibrate",
    "check_gates",
    "compare",
    "containment",
    "default_questions_file",
    "evaluate",
    "exact_match",
    "load_questions",
    "load_report",
    "mean",
    "metric_info",
    "parse_gates",
    "parse_grid",
    "run_grid",
    "split_arguments",
    "strip_citations",
    "token_f1",
]
