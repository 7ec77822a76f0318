"""The Documents tab: the collection's documents, adding uploads, deleting one, re-ingesting.

Every event takes the collection picker's value and works on that collection's corpus folder
and index; ingests run one at a time. "Add to index" is also the ``/add_documents`` scripting
API. :attr:`Documents.changed` are the events that change the list, for the areas that follow
it (the chat's "Search only in").
"""

from collections.abc import Callable, Sequence
from typing import Any

import gradio as gr
from gradio.events import Dependency

from rag import QA, RagError
from rag.ingest.uploads import (
    UPLOAD_SUFFIXES,
    UploadError,
    add_uploads,
    remove_document,
    when_free,
)
from ui.backend import Backend
from ui.events import ONE_INGEST, PRIVATE, Updates, unchanged
from ui.listings import DOCUMENT_COLUMNS, document_rows, ingest_report, table
from ui.present import markdown_literal


class Documents:
    """The documents of the picked collection, and the ways to change them.

    Args:
        backend: the server's collections.
        collection: the collection picker.
    """

    def __init__(self, backend: Backend, collection: gr.Dropdown) -> None:
        self.backend = backend
        self.collection = collection
        self.table = table(
            DOCUMENT_COLUMNS, "Indexed documents of this collection", "rag-documents"
        )
        with gr.Row():
            self.uploads = gr.File(
                label=(
                    f"Add documents ({', '.join(UPLOAD_SUFFIXES)}; "
                    f"up to {backend.settings.max_upload_mb:g} MB each)"
                ),
                # No file_types: Gradio would refuse the whole batch for one wrong file,
                # while add_uploads refuses that file alone and says why.
                file_count="multiple",
                elem_id="rag-upload",
            )
            with gr.Column():
                self.add_button = gr.Button("Add to index", variant="primary")
                self.chosen = gr.Dropdown(label="Document", choices=[], elem_id="rag-chosen")
                self.delete_button = gr.Button("Delete document", variant="stop")
                self.reingest_button = gr.Button("Re-ingest the corpus folder")
        self.status = gr.Markdown(elem_id="rag-status")

        #: what a listing changes: the table, the "Document" choices and the report
        self.outputs = [self.table, self.chosen, self.status]
        #: the events that change the documents
        self.changed: tuple[Dependency, ...] = (
            self.add_button.click(  # also the scripting API for uploads: keep its outputs
                self.add_documents,
                [self.uploads, collection],
                [*self.outputs, self.uploads],
                api_name="add_documents",
                **ONE_INGEST,
            ),
            self.delete_button.click(
                self.delete, [self.chosen, collection], self.outputs, **ONE_INGEST, **PRIVATE
            ),
            self.reingest_button.click(
                self.reingest, collection, self.outputs, **ONE_INGEST, **PRIVATE
            ),
        )

    def refresh_after(self, event: Dependency) -> Dependency:
        """After ``event`` (another collection): the list shows the picked collection's."""
        return event.then(self.refresh, self.collection, self.outputs, **PRIVATE)

    # -- what the events do ---------------------------------------------------------------------
    def refresh(self, collection: str | None = None) -> Updates:
        try:
            return {**self._listing(self.backend.qa_for(collection)), self.status: ""}
        except RagError as exc:
            return {
                self.table: {"data": [], "headers": DOCUMENT_COLUMNS},
                self.chosen: gr.Dropdown(choices=[], value=None),
                self.status: markdown_literal(str(exc)),
            }

    def add_documents(
        self,
        files: list[str] | None,
        collection: str | None = None,
        progress=gr.Progress(),  # noqa: B008 (gradio's way of asking for a progress bar)
    ) -> Updates:
        """Add uploaded files to the collection's corpus folder and index them.

        Each file that cannot be added (type, size) or read (a broken PDF) is reported with
        its reason, and the others are indexed; the upload box empties.
        """
        if not files:
            gr.Warning("Choose one or more files first.")
            return unchanged()
        try:
            qa = self.backend.qa_for(collection)
        except RagError as exc:
            return {self.status: markdown_literal(str(exc))}
        s = qa.settings
        result = add_uploads(files, s.corpus_dir, max_mb=s.max_upload_mb)
        try:
            message = _ingest(qa, progress, result.rejected, new=result.saved)
        except RagError as exc:
            message = markdown_literal(
                f"{exc} (the uploaded files are in the corpus folder; re-ingest to index them)"
            )
        return {**self._listing_if_readable(qa), self.status: message, self.uploads: None}

    def delete(
        self,
        source: str | None,
        collection: str | None = None,
        progress=gr.Progress(),  # noqa: B008
    ) -> Updates:
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
    ) -> Updates:
        return self._reindex(collection, progress, lambda qa: None)

    def _reindex(
        self, collection: str | None, progress: gr.Progress, first: Callable[[QA], None]
    ) -> Updates:
        """Change the corpus folder (``first``), ingest it; the listing and a report."""
        qa: QA | None = None
        try:
            qa = self.backend.qa_for(collection)
            first(qa)
            message = _ingest(qa, progress, [])
        except RagError as exc:
            message = markdown_literal(str(exc))
        return {**self._listing_if_readable(qa), self.status: message}

    def _listing(self, qa: QA) -> Updates:
        """The documents table and the "Document" choices of a collection."""
        rows = document_rows(qa.documents())
        return {
            self.table: {"data": rows, "headers": DOCUMENT_COLUMNS},
            self.chosen: gr.Dropdown(choices=[row[0] for row in rows], value=None),
        }

    def _listing_if_readable(self, qa: QA | None) -> Updates:
        if qa is None:
            return {}
        try:
            return self._listing(qa)
        except RagError:
            return {}


def _ingest(qa: QA, progress: Any, rejected: list[tuple[str, str]], new: Sequence[str] = ()) -> str:
    """Ingest the corpus folder with a progress bar; a Markdown report of what happened."""
    progress(0, desc="Starting")

    def report(stage: str, done: int, total: int) -> None:
        progress((done, max(total, 1)), desc=stage.capitalize())

    summary = when_free(lambda: qa.ingest(progress=report))  # a running ingest ends first
    for skipped in summary.skipped:  # a new upload that cannot be read is not kept
        if skipped.path in new:
            remove_document(qa.settings.corpus_dir, skipped.path)
    return ingest_report(summary, rejected=rejected)
