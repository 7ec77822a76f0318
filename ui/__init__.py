"""The web UI's behaviour, one module per area, combined into :class:`Handlers`.

``app.py`` lays out the Gradio page and wires events to these methods; everything shown is
built by :mod:`ui.present` and every file written goes through :mod:`rag.ingest.uploads`. Nothing
in :mod:`rag` imports this package (the library does not depend on Gradio).
"""

from ui.api import ApiHandlers
from ui.backend import ChatSession, owner_of
from ui.chat import ChatHandlers
from ui.documents import DocumentHandlers, settings_markdown
from ui.history import HistoryHandlers


class Handlers(ChatHandlers, HistoryHandlers, DocumentHandlers, ApiHandlers):
    """What the UI's events do, for the collections one server offers.

    Handlers take and return the browser session's :class:`ChatSession` (held in
    ``gr.State``) or the collection picker's value; nothing here keeps per-user state.
    Expected failures (:class:`rag.RagError`) become their message, escaped; anything else is
    logged and shown as a generic sentence.
    """


__all__ = ["ChatSession", "Handlers", "owner_of", "settings_markdown"]
