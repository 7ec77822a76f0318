"""What every area of the page shares: the collections, their histories, the chat session.

Each area (chat, sources, history, documents, settings, collections) and the scripting API
holds the one :class:`Backend` of the server: process-wide state, safe to share between
browsers. Per-browser state lives in the :class:`ChatSession` Gradio keeps in ``gr.State``.
"""

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from rag import QA, Answer
from rag.catalog import Catalog
from rag.history import ConversationNotFound, HistoryStore, SafeHistory
from ui.present import Session

log = logging.getLogger("rag.app")

UNEXPECTED = "Something went wrong on the server; the details are in its log. Please try again."


@dataclass
class ChatSession(Session):
    """A chat session: its collection and the documents its questions search.

    The pickers' values are copied in by a step that runs just before each answer, rather
    than being more inputs of the chat event: what is searched is what was picked when the
    question was sent, and the chat event keeps its two inputs.
    """

    sources: list[str] = field(default_factory=list)
    #: the saved conversation this chat adds to; None until its first answer
    conversation_id: str | None = None
    #: the collection this chat asks ("" is the one the server started with)
    collection: str = ""


def owner_of(request: Any) -> str:
    """Whose conversations these are: the signed-in user, or "" when there is no login."""
    return str(getattr(request, "username", None) or "")


def chat_session(state: Any) -> ChatSession:
    """The session as a :class:`ChatSession` (Gradio may hand back a plain ``Session``)."""
    if isinstance(state, ChatSession):
        return state
    return ChatSession(**vars(state)) if isinstance(state, Session) else ChatSession()


def chosen(sources: list[str] | str | None) -> list[str] | str | None:
    """A picker's or client's ``sources`` as ``QA.ask`` takes them: nothing picked is all.

    The library refuses an empty list (a filter that came out empty should not widen to
    everything), but here empty is what an untouched picker or a client's default sends.
    """
    return sources or None


class Backend:
    """The collections a server offers and one saved-conversation history per collection.

    Each collection keeps its conversations in its own file (beside its index), so switching
    collection in the UI switches the History list too: a chat about HR policies never shows
    among the product manuals'.

    Args:
        qa: the started collection, or a :class:`~rag.catalog.Catalog` around it.
        history: the started collection's history (default: its ``settings.history_file``).
    """

    def __init__(self, qa: QA | Catalog, history: SafeHistory | None = None) -> None:
        self.catalog = qa if isinstance(qa, Catalog) else Catalog(qa)
        self.settings = self.catalog.settings
        self._histories: dict[str, SafeHistory] = {}
        if history is not None:
            self._histories[self.settings.collection] = history
        self._lock = threading.Lock()

    def qa_for(self, collection: str | None) -> QA:
        """The ``QA`` of a collection (raises ``CollectionError`` for an unknown one)."""
        return self.catalog.get(collection)

    def history_for(self, collection: str | None) -> SafeHistory:
        """The saved conversations of a collection, opened on first use."""
        name = collection or self.settings.collection
        with self._lock:
            if name not in self._histories:
                settings = self.qa_for(name).settings
                self._histories[name] = SafeHistory(HistoryStore(settings.history_file))
            return self._histories[name]

    def save_turn(
        self,
        collection: str | None,
        conversation_id: str | None,
        owner: str,
        question: str,
        answer: Answer,
    ) -> str | None:
        """Add a turn to a conversation (a new one if it is None or gone); returns its id.

        Saving never breaks answering: a failure is logged and the id stays as it was.
        """
        history = self.history_for(collection)
        try:
            if conversation_id is not None:
                try:
                    history.add_turn(conversation_id, owner, question, answer)
                    return conversation_id
                except ConversationNotFound:  # deleted meanwhile (another tab): start anew
                    pass
            cid = history.create(owner, question).id
            history.add_turn(cid, owner, question, answer)
            return cid
        except Exception:
            log.exception("saving the conversation failed")
            return conversation_id
