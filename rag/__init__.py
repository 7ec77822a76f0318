"""Offline, citation-first question answering over a folder of documents.

    >>> from rag import ask
    >>> answer = ask("When did the Taliban seize Kabul?")
    >>> answer.text, answer.citations[0].quote

``ask`` is one-shot; :class:`QA` keeps the model and index open for many questions.
"""

import sys

from rag import results
from rag.errors import (
    BackendError,
    CorpusError,
    IndexBusyError,
    IndexDamagedError,
    IndexMismatchError,
    IndexMissingError,
    QuestionError,
    RagError,
    SourceError,
)
from rag.evaluation import EvalReport, evaluate
from rag.qa import QA, ask
from rag.results import Answer, Citation, DocumentInfo, IngestSummary, Passage, SkippedFile
from rag.settings import Settings

# ``rag.types`` was the results' module before it was renamed (it shadowed the standard
# library's ``types``); programs that import ``from rag.types import Answer`` keep working.
sys.modules.setdefault("rag.types", results)

__all__ = [
    "QA",
    "Answer",
    "BackendError",
    "Citation",
    "CorpusError",
    "DocumentInfo",
    "EvalReport",
    "IndexBusyError",
    "IndexDamagedError",
    "IndexMismatchError",
    "IndexMissingError",
    "IngestSummary",
    "Passage",
    "QuestionError",
    "RagError",
    "Settings",
    "SkippedFile",
    "SourceError",
    "ask",
    "evaluate",
]
