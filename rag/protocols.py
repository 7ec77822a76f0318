"""The call shapes the pipeline's parts agree on, declared once: answerers and progress reports.

**Answerer**: what every answerer promises :class:`~rag.QA`, the last step of the pipeline.

Two answerers exist, the extractive one that quotes a span the reader found
(:class:`rag.read.answerer.ExtractiveAnswerer`) and the generative one that has a chat model
write and then checks its citations (:class:`rag.generate.answerer.GenerativeAnswerer`).
``QA`` picks one per question from ``RAG_LLM`` and calls it the same way, so the shared call is
a :class:`typing.Protocol` here rather than a convention two modules happen to follow.

**Progress**: how long work (ingest, embedding, evaluation) reports how far it is, to a
terminal's progress bars or the web UI's, always as ``progress(stage, done, total)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from langchain_core.documents import Document

from rag.results import Answer

#: ``progress(stage, done, total)``: ``done`` of ``total`` units of ``stage`` ("reading",
#: "embedding", "writing", "evaluating", ...) are finished.
Progress = Callable[[str, int, int], None]


@runtime_checkable
class Answerer(Protocol):
    """Turns a question and its retrieved passages into an :class:`~rag.Answer`.

    ``query`` is the standalone search query a follow-up was rewritten into (empty: the
    question itself). The answer cites only ``passages``, abstains (``Answer.abstained``) when
    they do not hold an answer, and names its answerer in ``Answer.answerer``. Only the call is
    part of the protocol, so ``issubclass`` and ``isinstance`` checks work on it.
    """

    def __call__(self, question: str, passages: Sequence[Document], *, query: str = "") -> Answer:
        """Answer ``question`` from ``passages`` only."""
        ...
