"""What every API does, once: ask, search, documents, ingest and history over a catalog.

The REST routes, the OpenAI-compatible endpoint and the MCP tools are thin translations of
these methods, so the three protocols cannot drift apart. The methods are blocking (the models
run on the CPU); the async routes call them through :meth:`Service.run`, which runs them on a
worker thread and lets at most ``concurrency`` answers run at once, as the web UI's queue does.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

from rag.api.errors import ApiError
from rag.catalog import Catalog
from rag.history import HistoryStore, SafeHistory
from rag.ingest.uploads import UploadError, add_uploads, remove_document, safe_filename, when_free
from rag.qa import QA
from rag.questions import validate_question
from rag.results import Answer, DocumentInfo, IngestSummary, Passage
from rag.retrieve.hybrid import to_passage
from rag.settings import Settings

T = TypeVar("T")

#: the longest span ``read_document`` returns at once, in characters
MAX_SPAN = 20_000


@dataclass(frozen=True)
class DocumentSpan:
    """A span of a document's cleaned text, the text citation offsets refer to."""

    source: str
    start: int
    end: int
    length: int
    text: str


@dataclass(frozen=True)
class UploadReport:
    """What an upload changed: files stored, refused (with the reason) and the ingest."""

    saved: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    rejected: list[dict[str, str]] = field(default_factory=list)
    ingest: IngestSummary | None = None


class Service:
    """The collections of one server, their histories and the limit on concurrent answers.

    Args:
        catalog: the collections served (a ``QA`` is wrapped in a catalog of its own).
        concurrency: answers computed at once; more requests wait their turn.
    """

    def __init__(self, catalog: Catalog | QA, *, concurrency: int = 2) -> None:
        self.catalog = catalog if isinstance(catalog, Catalog) else Catalog(catalog)
        self._answering = threading.BoundedSemaphore(concurrency)
        self._ingesting = threading.Lock()  # one ingest at a time, as in the UI
        self._histories: dict[str, SafeHistory] = {}
        self._lock = threading.Lock()

    @property
    def settings(self) -> Settings:
        return self.catalog.settings

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` on a worker thread, so the event loop keeps serving."""
        return await run_in_threadpool(fn, *args, **kwargs)

    # -- collections ----------------------------------------------------------------------------
    def qa(self, collection: str | None) -> QA:
        """The ``QA`` of a collection (None or "": the started one); ``CollectionError``."""
        return self.catalog.get(collection or None)

    def collections(self) -> list[str]:
        return self.catalog.names()

    # -- answering ------------------------------------------------------------------------------
    def ask(
        self,
        question: Any,
        history: Sequence[Any] = (),
        *,
        sources: Sequence[str] | None = None,
        collection: str | None = None,
    ) -> Answer:
        """Answer a question; ``history`` is pairs or ``{"role", "content"}`` messages."""
        qa = self.qa(collection)
        text = validate_question(question, self.settings.max_question_chars)
        with self._answering:
            return qa.ask(text, list(history), sources=sources or None)

    def search(
        self,
        query: Any,
        *,
        sources: Sequence[str] | None = None,
        collection: str | None = None,
        k: int | None = None,
    ) -> list[Passage]:
        """The passages an answer would read, best first, with their scores."""
        qa = self.qa(collection)
        text = validate_question(query, self.settings.max_question_chars)
        with self._answering:
            docs = qa.retrieve(text, sources=sources or None)
        passages = [to_passage(doc) for doc in docs]
        return passages[:k] if k else passages

    # -- documents ------------------------------------------------------------------------------
    def documents(self, collection: str | None = None) -> list[DocumentInfo]:
        return self.qa(collection).documents()

    def read_document(
        self, source: str, start: int = 0, length: int = 4000, collection: str | None = None
    ) -> DocumentSpan:
        """A span of an indexed document's cleaned text (never a file outside the index)."""
        qa = self.qa(collection)
        known = {d.source for d in qa.documents()}
        if source not in known:
            raise ApiError(
                404, "unknown_document", f"no indexed document {source[:200]!r} in this collection"
            )
        if start < 0 or length < 1:
            raise ApiError(400, "invalid_span", "start must be 0 or more and length 1 or more")
        text = qa.document_text(source)
        end = min(len(text), start + min(length, MAX_SPAN))
        start = min(start, end)
        return DocumentSpan(source, start, end, len(text), text[start:end])

    def add_documents(
        self, files: Sequence[tuple[str, bytes]], collection: str | None = None
    ) -> UploadReport:
        """Store uploads ``(client file name, content)`` in the corpus folder and ingest.

        The client's name only suggests the stored one (:func:`safe_filename`); a file that
        cannot be stored or read is refused on its own, the others are indexed.
        """
        qa = self.qa(collection)
        s = qa.settings
        rejected: list[dict[str, str]] = []
        with tempfile.TemporaryDirectory(prefix="rag-upload-") as tmp:
            paths: list[Path] = []
            for name, content in files:
                try:
                    safe = safe_filename(name)
                except UploadError as exc:
                    rejected.append({"name": name[:200], "reason": str(exc)})
                    continue
                path = Path(tmp) / safe
                if path in paths:
                    rejected.append({"name": name[:200], "reason": "the same name twice"})
                    continue
                path.write_bytes(content)
                paths.append(path)
            result = add_uploads(paths, s.corpus_dir, max_mb=s.max_upload_mb)
        rejected += [{"name": n, "reason": r} for n, r in result.rejected]
        summary = None
        if result.saved or result.replaced:
            summary = self.ingest(collection, new=result.saved)
        return UploadReport(result.saved, result.replaced, rejected, summary)

    def delete_document(self, source: str, collection: str | None = None) -> IngestSummary:
        """Remove a document from the corpus folder and the index."""
        qa = self.qa(collection)
        known = [d.source for d in qa.documents()]
        if source not in known:
            raise ApiError(
                404, "unknown_document", f"no indexed document {source[:200]!r} in this collection"
            )
        if len(known) == 1:
            raise UploadError("this is the only document: add another one before deleting it")
        remove_document(qa.settings.corpus_dir, source)
        return self.ingest(collection)

    def ingest(
        self, collection: str | None = None, *, rebuild: bool = False, new: Sequence[str] = ()
    ) -> IngestSummary:
        """Bring the index up to date with the corpus folder (one ingest at a time).

        A new upload the ingest could not read is removed again, as the web UI does.
        """
        qa = self.qa(collection)
        with self._ingesting:
            summary = when_free(lambda: qa.ingest(rebuild=rebuild))  # a running one ends first
        for skipped in summary.skipped:
            if skipped.path in new:
                remove_document(qa.settings.corpus_dir, skipped.path)
        return summary

    # -- history --------------------------------------------------------------------------------
    def history(self, collection: str | None = None) -> SafeHistory:
        """The saved conversations of a collection, opened on first use."""
        qa = self.qa(collection)
        name = qa.settings.collection
        with self._lock:
            if name not in self._histories:
                self._histories[name] = SafeHistory(HistoryStore(qa.settings.history_file))
            return self._histories[name]

    def earlier_turns(
        self, conversation_id: str, owner: str, collection: str | None = None
    ) -> list[tuple[str, str]]:
        saved = self.history(collection).get(conversation_id, owner)
        return [(t.question, t.answer.text) for t in saved.turns]

    def save_turn(
        self,
        conversation_id: str | None,
        owner: str,
        question: str,
        answer: Answer,
        collection: str | None = None,
    ) -> str:
        """Add a turn to ``owner``'s conversation (a new one when None); returns its id."""
        history = self.history(collection)
        if conversation_id is not None:  # ConversationNotFound for another owner's id
            history.add_turn(conversation_id, owner, question, answer)
            return conversation_id
        cid = history.create(owner, question).id
        history.add_turn(cid, owner, question, answer)
        return cid

    def close(self) -> None:
        with self._lock:
            for history in self._histories.values():
                history.close()
