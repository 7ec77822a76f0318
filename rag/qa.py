"""The question-answering pipeline: ``QA`` owns the models and the index, ``ask`` is one-shot.

The pipeline is a LangChain LCEL chain::

    prepare (validate, rewrite follow-ups) -> retrieve (HybridRetriever) -> answer

so it composes with the rest of LangChain (callbacks, tracing, batching), while the answerer
behind the last step is chosen by configuration: ``RAG_LLM=extractive`` (the default) quotes
evidence, anything else names a chat model (:mod:`rag.generate.backends`) that writes an answer
which is then checked against the passages (:mod:`rag.generate.answerer`). With a chat model,
follow-ups are also rewritten by the model.

``sources`` narrows a question to chosen documents (paths or glob patterns relative to the
corpus folder, see :func:`rag.retrieve.source_filter.resolve_sources`): both retrievers search
only their chunks, and an abstention then says that only those documents were searched.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable, RunnableLambda

from rag.cite.markers import sanitize
from rag.cite.page_image import DEFAULT_WIDTH, render_marked_page
from rag.cite.page_marks import with_marks
from rag.embed.embedder import Embedder
from rag.errors import IndexMissingError
from rag.generate.answerer import GenerativeAnswerer
from rag.generate.backends import BackendSpec, backend_errors, make_chat_model, parse_backend
from rag.ingest.pipeline import ingest
from rag.protocols import Answerer, Progress
from rag.questions import abstain_text, validate_question
from rag.read.answerer import ExtractiveAnswerer
from rag.read.model import ReaderModel
from rag.read.shape import ShapeModel
from rag.results import ABSTAIN_TEXT, Answer, DocumentInfo, IngestSummary, Passage
from rag.retrieve.followup import rewrite_with_llm
from rag.retrieve.hybrid import HybridRetriever, to_passage
from rag.retrieve.resolve import standalone_query
from rag.retrieve.source_filter import resolve_sources
from rag.settings import DEFAULT_EMBEDDING_MODEL, Settings
from rag.store.generations import IndexDir, IndexSnapshot

log = logging.getLogger(__name__)


class QA:
    """A reusable question-answering session over one corpus and index.

    Models are loaded once, on first use; the index is opened on the first question (and
    built then if it is missing and ``settings.auto_ingest`` is on). A newer index published
    by an ingest, from this or another process, is picked up before the next question.
    Thread-safe: the web UI answers several sessions at once with one ``QA``.

    ``chat_model`` overrides ``settings.llm`` with a ready LangChain chat model (a model
    shared between sessions, or a fake one in tests); ``embedder`` and ``reader_model`` share
    loaded models between sessions (one server's collections, tests).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        chat_model: BaseChatModel | None = None,
        reader_model: ReaderModel | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self._snapshot: IndexSnapshot | None = None
        self._lock = threading.RLock()
        self._chat_model = chat_model
        if embedder is not None:  # share one loaded model between sessions (tests, workers)
            self.embedder = embedder
        if reader_model is not None:  # and the reader, between collections of one server
            self.reader_model = reader_model

    # -- resources ------------------------------------------------------------------------------
    @cached_property
    def embedder(self) -> Embedder:
        s = self.settings
        return Embedder(
            s.embedding_model, dtype=s.embedding_dtype, batch_size=s.embedding_batch_size
        )

    def snapshot(self) -> IndexSnapshot:
        """The open index, reopened when an ingest has published a newer one.

        Not to be confused with :attr:`reader_model`, the span model that reads passages.
        """
        with self._lock:
            if self._snapshot is not None and self._snapshot.is_stale():
                self._snapshot.close()
                self._snapshot = None
            if self._snapshot is None:
                self._snapshot = self._open()
            return self._snapshot

    def _open(self) -> IndexSnapshot:
        s = self.settings
        where = {"chroma_url": s.chroma_url, "chroma_token": s.chroma_secret}
        try:
            return IndexSnapshot.open(s.index_dir, model_id=self.embedder.model_id, **where)
        except IndexMissingError:
            if not s.auto_ingest or not s.corpus_dir.is_dir():
                raise
            log.info("no index yet: building it from %s", s.corpus_dir)
            self.ingest()
            return IndexSnapshot.open(s.index_dir, model_id=self.embedder.model_id, **where)

    @property
    def backend(self) -> BackendSpec:
        """The answerer ``settings.llm`` selects (raises ``BackendError`` when malformed)."""
        return parse_backend(self.settings.llm)

    @property
    def generative(self) -> bool:
        """Whether a chat model writes the answers."""
        return self._chat_model is not None or not self.backend.extractive

    def chat_model(self) -> BaseChatModel:
        """The chat model, created and checked on first use (``BackendError`` if unusable)."""
        with self._lock:
            if self._chat_model is None:
                self._chat_model = make_chat_model(self.settings)
            return self._chat_model

    @cached_property
    def reader_model(self) -> ReaderModel:
        """The span reader (``settings.reader``), loaded once."""
        return ReaderModel(self.settings.reader)

    @property
    def threshold(self) -> float:
        """Abstention threshold: explicit setting, else calibrated with the index.

        A threshold stored with the index counts only for the reader it was calibrated with;
        otherwise the one calibrated with the reader on its dev split applies.
        """
        if self.settings.abstain_threshold is not None:
            return self.settings.abstain_threshold
        return self.reader_model.threshold_for(IndexDir(self.settings.index_dir).stored_settings())

    def answerer(self) -> ExtractiveAnswerer:
        """The extractive answerer over the open index (also the generative path's gate)."""
        return ExtractiveAnswerer(
            self.reader_model,
            self.snapshot().doc_text,
            self.threshold,
            idf=self.snapshot().keyword.idf,
            windows=self.settings.reader_windows,
            shape=self.shape_model,
            embed=self.embedder.encode,
            stop_margin=self.reader_model.stop_margin_given(self.settings.reader_stop_margin),
            document=self.retriever.document,
        )

    @cached_property
    def shape_model(self) -> ShapeModel | None:
        """The answer-shape classifier: a span or evidence sentences (rag.read.shape).

        It reads the packaged all-MiniLM-L6-v2's question vectors; with another embedding
        model (``RAG_EMBEDDING_MODEL``) there is none, and the answerer falls back to its rule
        (sentences for why/how/explain/describe questions).
        """
        if self.settings.embedding_model != DEFAULT_EMBEDDING_MODEL:
            return None
        return ShapeModel.load()

    @cached_property
    def retriever(self) -> HybridRetriever:
        return HybridRetriever(
            snapshot=self.snapshot,
            embedder=self.embedder,
            k=self.settings.top_k,
            candidate_k=self.settings.candidate_k,
        )

    @cached_property
    def chain(self) -> Runnable[dict[str, Any], Answer]:
        """``{"question": str, "history": [...], "sources": [...] | None}`` -> :class:`Answer`.

        An LCEL chain; ``sources`` is optional (absent or None: every document).
        """
        prepare = RunnableLambda(self._prepare, name="prepare")
        retrieve = RunnableLambda(
            lambda state: {
                **state,
                "passages": self.retriever.invoke(state["query"], sources=state["sources"]),
            },
            name="retrieve",
        )
        answer = RunnableLambda(self._answer, name="answer")
        return prepare | retrieve | answer

    # -- operations -----------------------------------------------------------------------------
    def ingest(self, *, rebuild: bool = False, progress: Progress | None = None) -> IngestSummary:
        """Index ``settings.corpus_dir`` (incrementally unless ``rebuild``)."""
        return ingest(self.settings, self.embedder, rebuild=rebuild, progress=progress)

    def ask(
        self,
        question: str,
        history: Sequence[Any] | None = None,
        *,
        sources: str | Sequence[str] | None = None,
    ) -> Answer:
        """Answer ``question`` from the corpus, with verified citations or an abstention.

        ``history`` holds the earlier turns (``(question, answer)`` pairs or
        ``{"role", "content"}`` messages); a follow-up question is rewritten into a standalone
        query before retrieval, and ``Answer.query`` says what was searched for.

        ``sources`` limits the search to some documents: paths relative to the corpus
        folder, folders, or glob patterns (``"*.pdf"``, ``"policies/*"``); see
        :meth:`resolve_sources`. None (the default) searches every document. When the chosen
        documents do not hold the answer, the abstention says that only they were searched
        (:func:`rag.questions.abstain_text`), since the rest of the corpus might.

        Raises:
            QuestionError: the question is unusable.
            SourceError: ``sources`` is empty or a pattern names no indexed document.
        """
        return self.chain.invoke(
            {"question": question, "history": list(history or []), "sources": sources}
        )

    def stream(
        self,
        question: str,
        history: Sequence[Any] | None = None,
        *,
        sources: str | Sequence[str] | None = None,
    ) -> Iterator[str | Answer]:
        """Yield the answer text in pieces as it is produced, then the final :class:`Answer`.

        The extractive answerer has its text all at once, so it yields it once. A chat model's
        text comes as cleaned deltas while it writes; the final answer's text is the checked
        one (it may add citations, or be an abstention) and is what to keep. ``sources`` is
        as for :meth:`ask`.
        """
        if not self.generative:
            answer = self.ask(question, history, sources=sources)
            yield answer.text
            yield answer
            return
        state = self._prepare(
            {"question": question, "history": list(history or []), "sources": sources}
        )
        chosen = state["sources"]
        docs = self.retriever.invoke(state["query"], sources=chosen)
        for item in self._generative_answerer().stream(
            state["question"], docs, query=state["query"]
        ):
            if isinstance(item, Answer):
                yield self._finish(item, docs, state["started"], chosen)
            elif chosen is not None and item == ABSTAIN_TEXT:  # the gate refused at once
                yield abstain_text(chosen)
            else:
                yield item

    def resolve_sources(self, sources: str | Sequence[str]) -> tuple[str, ...]:
        """The indexed documents ``sources`` names (paths, folders or globs), sorted.

        Raises:
            SourceError: ``sources`` is empty, or one of its patterns matches no indexed
                document (the message names the pattern).
        """
        files = self.snapshot().manifest.files
        return resolve_sources(files, sources, corpus_dir=self.settings.corpus_dir)

    def documents(self) -> list[DocumentInfo]:
        """What the live index holds, one entry per document."""
        return self.snapshot().documents()

    def document_text(self, source: str) -> str:
        """The cleaned text of an indexed document, which citation offsets refer to."""
        return self.snapshot().doc_text(source)

    def page_image(
        self,
        source: str,
        page: int,
        boxes: Sequence[tuple[float, float, float, float]] = (),
        *,
        width: int = DEFAULT_WIDTH,
        band: bool = False,
    ) -> Path:
        """A PNG of ``page`` of the indexed PDF ``source`` with ``boxes`` marked.

        Pass a citation's ``source``, ``box_page`` and ``boxes``; ``band`` keeps only the
        part of the page around the mark. The image is cached in the index folder; only
        documents of the live index, inside the corpus, are rendered.

        Raises:
            SourceError: not an indexed PDF, outside the corpus, changed since it was
                indexed, or no such page.
        """
        return render_marked_page(
            self.snapshot(), self.settings.corpus_dir, source, page, boxes, width=width, band=band
        )

    def retrieve(self, question: str, *, sources: str | Sequence[str] | None = None) -> list[Any]:
        """The passages the answerer would see, as LangChain Documents."""
        state = self._prepare({"question": question, "history": [], "sources": sources})
        return self.retriever.invoke(state["query"], sources=state["sources"])

    def close(self) -> None:
        """Release the open index snapshot (files, locks); a later call opens a fresh one."""
        with self._lock:
            if self._snapshot is not None:
                self._snapshot.close()
                self._snapshot = None

    def __enter__(self) -> QA:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- chain steps ----------------------------------------------------------------------------
    def _prepare(self, state: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        question = validate_question(state.get("question"), self.settings.max_question_chars)
        history = state.get("history") or []
        if self.generative:
            model = self.chat_model()  # a misconfigured backend fails here, before any work
            query = rewrite_with_llm(model, question, history, guard=self._guard)
        else:
            query = standalone_query(question, history)
        # Markup is not part of a question (a pasted image or a tag): search and read without it
        query = sanitize(query) or query
        # Resolved once, here, so retrieval and the abstention's wording agree on the set
        wanted = state.get("sources")
        chosen = None if wanted is None else self.resolve_sources(wanted)
        return {
            **state,
            "question": question,
            "query": query,
            "sources": chosen,
            "started": started,
        }

    def _answer(self, state: dict[str, Any]) -> Answer:
        answerer: Answerer = self._generative_answerer() if self.generative else self.answerer()
        answer = answerer(state["question"], state["passages"], query=state["query"])
        return self._finish(answer, state["passages"], state["started"], state["sources"])

    def _generative_answerer(self) -> GenerativeAnswerer:
        model, snapshot, spec = self.chat_model(), self.snapshot(), self.backend
        name = str(spec) if not spec.extractive else f"chat:{model._llm_type}"
        return GenerativeAnswerer(
            model,
            self.answerer(),
            self.embedder,
            snapshot.keyword.idf,
            snapshot.doc_text,
            name=name,
            guard=self._guard,
        )

    def _guard(self) -> Any:
        return backend_errors(self.settings)

    def _finish(
        self,
        answer: Answer,
        docs: Sequence[Any],
        started: float,
        sources: Sequence[str] | None = None,
    ) -> Answer:
        passages: list[Passage] = [to_passage(doc) for doc in docs]
        elapsed = time.perf_counter() - started
        timings = {**answer.timings, "total": round(elapsed, 4)}
        changes: dict[str, Any] = {"passages": passages, "timings": timings}
        if answer.citations:  # PDF quotes: where to mark them on the page
            changes["citations"] = with_marks(answer.citations, self.snapshot().doc_boxes)
        if answer.abstained and sources is not None:
            changes["text"] = abstain_text(sources)
        return replace(answer, **changes)


def ask(question: str, *, sources: str | Sequence[str] | None = None, **settings: Any) -> Answer:
    """Answer one question with default settings (``RAG_*`` environment variables apply).

    One-shot, like ``httpx.get``: it loads the model and opens the index for this call only.
    Use :class:`QA` to ask several questions. ``sources`` is as for :meth:`QA.ask`.
    """
    with QA(Settings(**settings)) as qa:
        return qa.ask(question, sources=sources)
