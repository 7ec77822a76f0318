"""The generative answerer: a chat model writes the answer, the checker decides what it is worth.

Three guards stand around the model:

- **before**: the reader's no-answer margin for the best span of the retrieved passages; below
  the calibrated threshold the model is not called and the answer is an abstention, exactly as
  in extractive mode (so switching answerers does not change *when* the system answers), and
  so is a question about a year or a name no passage mentions (:func:`rag.read.mentioned`),
  the model shown only the passages that do mention them;
  a question comparing a table's rows ("which rider has the most points?") is answered with
  the cell the whole table gives (:meth:`ExtractiveAnswerer.table_answer`), which a model
  shown a few rows cannot compute;
- **in the prompt**: passages travel as numbered, delimited data (:mod:`rag.generate.prompts`);
- **after**: :class:`~rag.cite.checker.CitationChecker` strips unsafe markup, drops invalid
  markers, finds the supporting sentence for each citation and flags unsupported answers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext

from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel

from rag.cite.checker import MIN_SUPPORT, CitationChecker
from rag.cite.markers import StreamCleaner, iter_text, urls_in
from rag.embed.embedder import Embedder
from rag.generate.prompts import answer_messages
from rag.protocols import Answerer
from rag.read import mentioned
from rag.read.answerer import ExtractiveAnswerer
from rag.results import ABSTAIN_TEXT, Answer

log = logging.getLogger(__name__)

Guard = Callable[[], AbstractContextManager[object]]


class GenerativeAnswerer(Answerer):
    """Answer with a chat model, from the retrieved passages only, with checked citations.

    Args:
        model: any LangChain chat model (see :func:`rag.generate.backends.make_chat_model`).
        gate: the extractive answerer, whose reader score gates the call (same threshold).
        embedder, idf, doc_text: for the citation checker.
        name: reported as ``Answer.answerer`` (the ``RAG_LLM`` value).
        guard: wraps each model call, turning provider errors into ``BackendError``.
        min_support: see :class:`~rag.cite.checker.CitationChecker`.
    """

    def __init__(
        self,
        model: BaseChatModel,
        gate: ExtractiveAnswerer,
        embedder: Embedder,
        idf: Callable[[str], float],
        doc_text: Callable[[str], str],
        *,
        name: str = "generative",
        guard: Guard = nullcontext,
        min_support: float = MIN_SUPPORT,
    ) -> None:
        self.model = model
        self.name = name
        self.guard = guard
        self.gate = gate
        self.checker = CitationChecker(embedder, idf, doc_text, min_support)

    def __call__(self, question: str, passages: Sequence[Document], *, query: str = "") -> Answer:
        answer: Answer | None = None
        for item in self.stream(question, passages, query=query):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None
        return answer

    def stream(
        self, question: str, passages: Sequence[Document], *, query: str = ""
    ) -> Iterator[str | Answer]:
        """Yield cleaned text deltas as the model writes, then the checked :class:`Answer`.

        The final answer's text is authoritative: it may add citations the model left out,
        or be an abstention when the model refused.
        """
        query = query or question
        table = self.gate.table_answer(question, query, passages)
        if table is not None:  # a question comparing a table's rows: read, not written
            yield table.text
            yield table
            return
        passages, refused = mentioned(query, passages)
        if refused:  # "... in 1998?", "... Obama?" and no passage mentions them: nothing read
            yield ABSTAIN_TEXT
            yield self._abstain(question, query, 0.0, reason=refused, answerer=refused)
            return
        found = self.gate.find(query, passages)
        score = found.score if found else 0.0
        if found is None or score < self.gate.threshold:
            yield ABSTAIN_TEXT
            yield self._abstain(question, query, score, reason="below threshold")
            return
        started = time.perf_counter()
        cleaner = StreamCleaner(len(passages), urls_in(passages))
        with self.guard():
            for delta in iter_text(self.model.stream(answer_messages(query, passages))):
                released = cleaner.feed(delta)
                if released:
                    yield released
        rest = cleaner.finish()
        if rest:
            yield rest
        generated = time.perf_counter() - started
        checked = self.checker.check(cleaner.raw, passages)
        log.debug(
            "generated %r -> %r (dropped %d markers, attached=%s, support=%s)",
            cleaner.raw,
            checked.text,
            checked.dropped,
            checked.attached,
            checked.support,
        )
        if checked.abstained:
            yield self._abstain(
                question, query, score, reason="model refused", raw=cleaner.raw, seconds=generated
            )
            return
        yield Answer(
            text=checked.text,
            abstained=False,
            citations=checked.citations,
            question=question,
            query=query,
            score=round(score, 4),
            supported=checked.supported,
            unsupported=checked.unsupported,
            answerer=self.name,
            timings={"generate": round(generated, 4)},
        )

    def _abstain(
        self,
        question: str,
        query: str,
        score: float,
        *,
        reason: str,
        raw: str = "",
        seconds: float | None = None,
        answerer: str = "",
    ) -> Answer:
        log.info("abstaining (%s): %r", reason, raw[:200] if raw else question)
        return Answer(
            text=ABSTAIN_TEXT,
            abstained=True,
            question=question,
            query=query,
            score=round(score, 4),
            answerer=answerer or self.name,
            timings={} if seconds is None else {"generate": round(seconds, 4)},
        )
