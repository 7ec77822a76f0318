"""The Settings tab: what the picked collection runs with, as a table.

Read-only: settings are ``RAG_*`` environment variables read when the server starts.
"""

import gradio as gr
from gradio.events import Dependency

from rag import QA, RagError
from ui.backend import Backend
from ui.events import QUIET, Updates
from ui.present import markdown_literal


class SettingsTab:
    """The settings a user may want to know about, for the picked collection.

    Args:
        backend: the server's collections.
        collection: the collection picker.
    """

    def __init__(self, backend: Backend, collection: gr.Dropdown) -> None:
        self.backend = backend
        self.collection = collection
        self.view = gr.Markdown(elem_id="rag-settings")

    def refresh_after(self, event: Dependency) -> Dependency:
        """After ``event`` (another collection): the table shows the picked collection's."""
        return event.then(self.describe, self.collection, self.view, **QUIET)

    def describe(self, collection: str | None = None) -> Updates:
        try:
            return {self.view: settings_markdown(self.backend.qa_for(collection))}
        except RagError as exc:
            return {self.view: markdown_literal(str(exc))}


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
