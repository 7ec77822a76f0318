"""The collection picker (top right) and "Create collection" (foot of the Documents tab).

Everything on the page belongs to the picked collection: its chat, documents, history and
settings. This module keeps the picker's choices current and makes new collections; what a
switch does to each area is wired in ``app.py``, where the areas meet.
"""

import gradio as gr
from gradio.events import Dependency

from rag import RagError
from ui.backend import Backend
from ui.events import PRIVATE, QUIET, Updates
from ui.present import escape, markdown_literal


class CollectionPicker:
    """The dropdown that picks the collection the whole page shows.

    Args:
        backend: the server's collections.
    """

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.dropdown = gr.Dropdown(
            label="Collection",
            info="Chat, documents and history of one document set.",
            choices=backend.catalog.names(),
            value=backend.settings.collection,
            # validated by the catalog; the choices Gradio checks against are the ones of
            # page load, so an API client could not name a collection made since
            allow_custom_value=True,
            elem_id="rag-collection",
            scale=0,
            min_width=240,
        )

    def on_page_load(self, demo: gr.Blocks) -> Dependency:
        """Each page load offers the collections made since the server started."""
        return demo.load(self.collection_choices, self.dropdown, self.dropdown, **QUIET)

    def collection_choices(self, current: str | None = None) -> Updates:
        names = self.backend.catalog.names()
        value = current if current in names else self.backend.settings.collection
        return {self.dropdown: gr.Dropdown(choices=names, value=value)}


class NewCollection:
    """A name box and "Create collection": an empty collection, then picked.

    Args:
        backend: the server's collections.
        picker: the picker the new collection is added to (and picked in).
        status: where the confirmation shows (the Documents tab's report), once the page
            has switched to the new collection (:meth:`confirm_after`).
    """

    def __init__(self, backend: Backend, picker: CollectionPicker, status: gr.Markdown) -> None:
        self.backend = backend
        self.picker = picker
        self.status = status
        with gr.Row():
            self.name = gr.Textbox(
                label="New collection",
                placeholder="1-24 letters, digits, - or _",
                max_length=24,
                elem_id="rag-new-collection",
                scale=4,
            )
            self.create_button = gr.Button("Create collection", scale=1)
        #: the creation; ``.success`` of it is a switch to the new collection (a value set by
        #: a handler fires no ``.input`` of the picker)
        self.created: Dependency = self.create_button.click(
            self.create_collection, self.name, [picker.dropdown, self.name], **PRIVATE
        )

    def confirm_after(self, event: Dependency) -> Dependency:
        """After ``event`` (the switch to the new collection is done): say it was made.

        Not an output of the creation itself: the switch that follows it empties the Documents
        tab's report as it shows the new collection, which wiped the message at once.
        """
        return event.then(
            self.confirmation, [self.picker.dropdown, self.status], self.status, **QUIET
        )

    def confirmation(self, name: str | None, report: str | None = None) -> str:
        """The message, above whatever the switch reported (a collection that cannot be read)."""
        said = (
            f"Created the collection **{markdown_literal(str(name or ''))}**: add documents to it."
        )
        return f"{said}\n\n{report}" if report else said

    def create_collection(self, name: str | None) -> Updates:
        """Make an empty collection and pick it.

        Raises:
            gr.Error: the name is invalid or taken; the switch that follows on success
                (``.success``) does not run, so the chat stays as it was.
        """
        name = str(name or "").strip()
        try:
            self.backend.catalog.create(name)
        except RagError as exc:
            raise gr.Error(escape(str(exc)), print_exception=False) from None
        return {
            self.picker.dropdown: gr.Dropdown(choices=self.backend.catalog.names(), value=name),
            self.name: "",
        }
