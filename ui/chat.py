"""The chat tab's events: answering (streamed), the source cards and the document viewer."""

import logging
from collections.abc import Iterator
from typing import Any

import gradio as gr

from rag import Answer, RagError
from rag.errors import QuestionError
from rag.ingest.uploads import UploadError
from rag.qa import validate_question
from ui.backend import (
    UNEXPECTED,
    Backend,
    ChatSession,
    chat_session,
    chosen,
    owner_of,
    show_sources,
)
from ui.present import Session, Turn, chat_messages, document_html, escape, sources_html

log = logging.getLogger("rag.app")


class ChatHandlers(Backend):
    """Answering and showing sources; expected failures (:class:`RagError`) show their message."""

    @staticmethod
    def note_sources(picked: list[str] | None, collection: str | None, state: Session) -> Session:
        """Copy the pickers (collection, "Search only in") into the session, for the answer."""
        state = chat_session(state)
        state.sources = [str(name) for name in picked or []]
        state.collection = str(collection or "")
        return state

    def respond(
        self,
        message: str | None,
        state: Session,
        request: gr.Request = None,  # type: ignore[assignment]  (gradio fills it in)
    ) -> Iterator[tuple[Any, ...]]:
        """Stream an answer into the chat, searching the documents the session has picked.

        Yields updates for: the chat, the session, the sources panel, the question box and
        the two right-hand columns (sources shown, document hidden). An answered turn is
        saved to the signed-in user's conversation (created with the first answer).
        """
        state = chat_session(state)
        sources = chosen(state.sources)
        try:  # checked here, on the server: the textbox's max_length binds only browsers
            text = validate_question(message, self.settings.max_question_chars)
        except QuestionError as exc:
            gr.Warning(escape(str(exc)))  # the question stays in the box to be fixed
            yield gr.skip(), state, gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        turn = Turn(question=text)
        history = state.history()
        state.turns.append(turn)
        state.selected = None
        panels = show_sources()
        yield chat_messages(state), state, sources_html(state), "", *panels
        try:
            qa = self.qa_for(state.collection)
            for piece in qa.stream(text, history, sources=sources):
                if isinstance(piece, Answer):
                    turn.answer = piece
                else:
                    turn.partial += piece
                    yield chat_messages(state), state, gr.skip(), gr.skip(), *panels
        except RagError as exc:
            turn.error = str(exc)
        except Exception:
            log.exception("answering %r failed", text)
            turn.error = UNEXPECTED
        if turn.answer is None and turn.error is None:
            turn.error = UNEXPECTED
        if turn.answer is not None:
            state.conversation_id = self.save_turn(
                state.collection, state.conversation_id, owner_of(request), text, turn.answer
            )
        yield chat_messages(state), state, sources_html(state), gr.skip(), *panels

    @staticmethod
    def use_example(event: gr.SelectData) -> str:
        value = event.value
        return value.get("text", "") if isinstance(value, dict) else str(value or "")

    @staticmethod
    def pick_message(state: Session, event: gr.SelectData) -> tuple[Any, ...]:
        """A click on a message shows the sources of that exchange."""
        index = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
        if isinstance(index, int) and 0 <= index // 2 < len(state.turns):
            state.selected = index // 2
        return state, sources_html(state), *show_sources()

    @staticmethod
    def follow_link(state: Session, event: gr.EventData) -> tuple[Any, ...]:
        """A click on ``[n]`` of an earlier answer brings that answer's cards back."""
        card = str((getattr(event, "_data", None) or {}).get("card", ""))
        parts = card.split("-")
        if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(state.turns):
            state.selected = int(parts[1])
        return state, sources_html(state), *show_sources()

    def view_document(self, state: Session, event: gr.EventData) -> tuple[Any, ...]:
        """The whole cleaned document with the cited span marked (the browser scrolls to it)."""
        data = getattr(event, "_data", None) or {}
        source = str(data.get("source", ""))
        try:
            start, end = int(data.get("start", 0)), int(data.get("end", 0))
            qa = self.qa_for(chat_session(state).collection)
            known = {d.source: d for d in qa.documents()}
            if source not in known:  # the client names it: only indexed documents are shown
                raise UploadError(f"{source} is no longer in the index")
            text = qa.document_text(source)
        except (RagError, ValueError, TypeError) as exc:
            gr.Warning(escape(str(exc) if isinstance(exc, RagError) else "invalid position"))
            return gr.skip(), gr.skip(), gr.skip()
        html = document_html(source, text, start, end, title=known[source].title)
        return html, gr.Column(visible=False), gr.Column(visible=True)

    @staticmethod
    def back() -> tuple[Any, Any]:
        return show_sources()

    @staticmethod
    def clear(state: Session | None = None) -> tuple[Any, ...]:
        """A new chat in the same collection: its first answer starts a new conversation."""
        fresh = ChatSession(collection=chat_session(state).collection)
        return [], fresh, sources_html(fresh), *show_sources()

    def switch_collection(self, collection: str | None, state: Session) -> tuple[Any, ...]:
        """Another collection: a new chat there (the lists follow in chained steps).

        Returns the chat, the session, the sources panel, the two right-hand columns and the
        picker: a name that is no collection (typed into the picker) puts it back.
        """
        try:
            self.qa_for(collection)
        except RagError as exc:
            gr.Warning(escape(str(exc)))
            current = chat_session(state).collection or self.settings.collection
            return (*(gr.skip(),) * 5, gr.update(value=current))
        fresh = ChatSession(collection=str(collection or ""))  # the old chat stays saved
        return [], fresh, sources_html(fresh), *show_sources(), gr.skip()
