"""The Documents and Settings tabs' events, and the collection picker's choices.

Every event takes the collection picker's value and works on that collection's corpus folder
and index; ingests run one at a time (the layout gives them one concurrency slot).
"""

from collections.abc import Callable, Sequence
from typing import Any

import gradio as gr

from rag import QA, RagError
from rag.ingest.uploads import UploadError, add_uploads, remove_document
from ui.backend import Backend
from ui.present import DOCUMENT_COLUMNS, document_rows, escape, ingest_report, markdown_literal


class DocumentHandlers(Backend):
    """Uploads, deletions and re-ingests, per collection."""

    def collection_choices(self, current: str | None = None) -> Any:
        """The collection picker after a page load: collections made meanwhile appear."""
        names = self.catalog.names()
        value = current if current in names else self.settings.collection
        return gr.Dropdown(choices=names, value=value)

    def create_collection(self, name: str | None) -> tuple[Any, Any, str]:
        """Make an empty collection and switch the picker to it.

        Raises:
            gr.Error: the name is invalid or taken; the switch that follows on success
                (``.success``) does not run, so the chat stays as it was.
        """
        name = str(name or "").strip()
        try:
            self.catalog.create(name)
        except RagError as exc:
            raise gr.Error(escape(str(exc)), print_exception=False) from None
        choices = gr.Dropdown(choices=self.catalog.names(), value=name)
        message = f"Created the collection **{markdown_literal(name)}**: add documents to it."
        return choices, "", message

    def picker(self, current: list[str] | None, collection: str | None = None) -> Any:
        """The "Search only in" choices after the documents changed; gone ones are unpicked.

        A chained step after each listing event rather than one more output of them, so the
        ``/add_documents`` API keeps its outputs.
        """
        try:
            names = [d.source for d in self.qa_for(collection).documents()]
        except RagError:
            return gr.Dropdown(choices=[], value=[])
        kept = [name for name in current or [] if name in names]
        return gr.Dropdown(choices=names, value=kept)

    def listing(self, collection: str | None = None) -> tuple[Any, Any]:
        """The documents table and the "Document" choices of a collection."""
        return _table(self.qa_for(collection))

    def refresh(self, collection: str | None = None) -> tuple[Any, ...]:
        try:
            return *self.listing(collection), ""
        except RagError as exc:
            empty = {"data": [], "headers": DOCUMENT_COLUMNS}
            return empty, gr.Dropdown(choices=[], value=None), markdown_literal(str(exc))

    def add_documents(
        self,
        files: list[str] | None,
        collection: str | None = None,
        progress=gr.Progress(),  # noqa: B008 (gradio's way of asking for a progress bar)
    ) -> tuple[Any, ...]:
        """Add uploaded files to the collection's corpus folder and index them.

        Each file that cannot be added (type, size) or read (a broken PDF) is reported with
        its reason, and the others are indexed. Returns the documents table, the document
        choices, a Markdown report and the cleared upload box.
        """
        if not files:
            gr.Warning("Choose one or more files first.")
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        try:
            qa = self.qa_for(collection)
        except RagError as exc:
            return gr.skip(), gr.skip(), markdown_literal(str(exc)), gr.skip()
        s = qa.settings
        result = add_uploads(files, s.corpus_dir, max_mb=s.max_upload_mb)
        try:
            message = self._ingest(qa, progress, result.rejected, new=result.saved)
        except RagError as exc:
            message = markdown_literal(
                f"{exc} (the uploaded files are in the corpus folder; re-ingest to index them)"
            )
        return *self._listing_or_skip(qa), message, None

    def delete(
        self,
        source: str | None,
        collection: str | None = None,
        progress=gr.Progress(),  # noqa: B008
    ) -> tuple[Any, ...]:
        def remove(qa: QA) -> None:
            known = [d.source for d in qa.documents()]
            if not source or source not in known:
                raise UploadError("choose a document from the list first")
            if len(known) == 1:
                raise UploadError("this is the only document: add another one before deleting it")
            remove_document(qa.settings.corpus_dir, source)

        return self._reindex(collection, progress, remove)

    def reingest(
        self,
        collection: str | None = None,
        progress=gr.Progress(),  # noqa: B008
    ) -> tuple[Any, ...]:
        return self._reindex(collection, progress, lambda qa: None)

    def _reindex(
        self, collection: str | None, progress: gr.Progress, first: Callable[[QA], None]
    ) -> tuple[Any, ...]:
        """Change the corpus folder (``first``), ingest it; the listing and a report."""
        qa: QA | None = None
        try:
            qa = self.qa_for(collection)
            first(qa)
            message = self._ingest(qa, progress, [])
        except RagError as exc:
            message = markdown_literal(str(exc))
        return *self._listing_or_skip(qa), message

    @staticmethod
    def _ingest(
        qa: QA, progress: gr.Progress, rejected: list[tuple[str, str]], new: Sequence[str] = ()
    ) -> str:
        progress(0, desc="Starting")

        def report(stage: str, done: int, total: int) -> None:
            progress((done, max(total, 1)), desc=stage.capitalize())

        summary = qa.ingest(progress=report)
        for skipped in summary.skipped:  # a new upload that cannot be read is not kept
            if skipped.path in new:
                remove_document(qa.settings.corpus_dir, skipped.path)
        return ingest_report(summary, rejected=rejected)

    @staticmethod
    def _listing_or_skip(qa: QA | None) -> tuple[Any, Any]:
        if qa is None:
            return gr.skip(), gr.skip()
        try:
            return _table(qa)
        except RagError:
            return gr.skip(), gr.skip()

    def describe(self, collection: str | None = None) -> str:
        try:
            return settings_markdown(self.qa_for(collection))
        except RagError as exc:
            return markdown_literal(str(exc))


def _table(qa: QA) -> tuple[Any, Any]:
    rows = document_rows(qa.documents())
    table = {"data": rows, "headers": DOCUMENT_COLUMNS}
    return table, gr.Dropdown(choices=[row[0] for row in rows], value=None)


def settings_markdown(qa: QA) -> str:
    """The settings a user may want to know about, as a Markdown table."""
    s = qa.settings
    try:
        threshold = f"{qa.threshold:.3g}"
    except RagError:
        threshold = "default"
    rows = [
        ("Collection", s.collection),
        ("Answerer", s.llm),
        ("Reader", s.reader),
        ("Passages per answer (top-k)", s.top_k),
        ("Windows read per answer", s.reader_windows),
        ("Embedding model", s.embedding_model),
        ("Index location", s.index_dir.resolve()),
        ("Corpus folder", s.corpus_dir.resolve()),
        ("Conversation history", s.history_file.resolve()),
        ("Abstention threshold (reader margin)", threshold),
        ("Longest question", f"{s.max_question_chars:,} characters"),
        ("Largest upload", f"{s.max_upload_mb:g} MB"),
    ]
    table = "\n".join(f"| {name} | {markdown_literal(str(value))} |" for name, value in rows)
    return (
        "| setting | value |\n| --- | --- |\n"
        + table
        + "\n\nSet with `RAG_*` environment variables before starting (see the README)."
    )
