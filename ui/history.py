"""The History panel's events: list, open, rename, delete and export saved conversations.

Each takes the collection picker's value: conversations are kept per collection, and the
signed-in user (``gr.Request.username``) owns them; another user's id reads as not found.
"""

import secrets
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.utils import get_upload_folder

from rag.history import ConversationNotFound, HistoryError
from ui.backend import Backend, ChatSession, owner_of, show_sources
from ui.present import (
    HISTORY_COLUMNS,
    Session,
    chat_messages,
    escape,
    export_name,
    history_choices,
    history_rows,
    markdown_literal,
    restored_turns,
    sources_html,
)


class HistoryHandlers(Backend):
    """Saved conversations in the browser."""

    def history_view(
        self,
        state: Session | None = None,
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> tuple[Any, ...]:
        """The user's conversations (table and picker, the chat's own one picked) and notice."""
        collection = getattr(state, "collection", "")
        picked = getattr(state, "conversation_id", None)
        return self._history_outputs(collection, owner_of(request), picked)

    def _history_outputs(self, collection: str, owner: str, picked: str | None) -> tuple[Any, ...]:
        conversations = self.history_for(collection).list(owner)
        choices = history_choices(conversations)
        ids = {cid for _, cid in choices}
        table = {"data": history_rows(conversations), "headers": HISTORY_COLUMNS}
        return (
            table,
            gr.Dropdown(choices=choices, value=picked if picked in ids else None),
            self.notice(collection),
        )

    def notice(self, collection: str | None = None) -> Any:
        """The warning above the chat while conversations are not being saved."""
        text = self.history_for(collection).notice
        return gr.Markdown(f"⚠️ {markdown_literal(text)}" if text else "", visible=bool(text))

    def pick_history(
        self, collection: str | None, event: gr.SelectData, request: gr.Request
    ) -> Any:
        """A click on a row of the history table picks that conversation."""
        index = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
        conversations = self.history_for(collection).list(owner_of(request))
        if isinstance(index, int) and 0 <= index < len(conversations):
            return gr.update(value=conversations[index].id)  # the choices stay
        return gr.skip()

    def open_conversation(
        self,
        conversation_id: str | None,
        collection: str | None = None,
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> tuple[Any, ...]:
        """Reload a saved conversation into the chat, source cards included.

        Returns the chat, the session, the sources panel, the two right-hand columns and the
        rename box (its title). Later questions continue the same conversation.
        """
        history = self.history_for(collection)
        try:
            conversation = history.get(self._picked(conversation_id), owner_of(request))
        except HistoryError as exc:
            gr.Warning(escape(str(exc)))
            return (gr.skip(),) * 6
        state = ChatSession(turns=restored_turns(conversation.turns))
        state.conversation_id = conversation.id
        state.collection = str(collection or "")
        return (
            chat_messages(state),
            state,
            sources_html(state),
            *show_sources(),
            conversation.title,
        )

    def rename_conversation(
        self,
        conversation_id: str | None,
        title: str | None,
        collection: str | None = None,
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> tuple[Any, ...]:
        owner, collection = owner_of(request), str(collection or "")
        try:
            cid = self._picked(conversation_id)
            self.history_for(collection).rename(cid, owner, str(title or "")[:200])
        except HistoryError as exc:
            gr.Warning(escape(str(exc)))
            return gr.skip(), gr.skip(), self.notice(collection)
        return self._history_outputs(collection, owner, cid)

    def delete_conversation(
        self,
        conversation_id: str | None,
        state: Session,
        collection: str | None = None,
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> tuple[Any, ...]:
        """Delete a saved conversation; a chat showing it stays, but saves as a new one."""
        owner, collection = owner_of(request), str(collection or "")
        try:
            cid = self._picked(conversation_id)
            self.history_for(collection).delete(cid, owner)
        except HistoryError as exc:
            gr.Warning(escape(str(exc)))
            return gr.skip(), gr.skip(), gr.skip(), self.notice(collection)
        if getattr(state, "conversation_id", None) == cid and isinstance(state, ChatSession):
            state.conversation_id = None
        return state, *self._history_outputs(collection, owner, None)

    def export_conversation(
        self,
        conversation_id: str | None,
        kind: str,
        collection: str | None = None,
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> tuple[Any, Any]:
        """Write the conversation as Markdown (``kind="md"``) or JSON into a fresh file.

        Returns the download and a preview of the Markdown export (the JSON is for programs).
        """
        owner, history = owner_of(request), self.history_for(collection)
        try:
            cid = self._picked(conversation_id)
            conversation = history.get(cid, owner)
            markdown = history.export_markdown(cid, owner)
            if kind == "json":
                text, suffix = history.export_json(cid, owner), ".json"
            else:
                text, suffix = markdown, ".md"
        except HistoryError as exc:
            gr.Warning(escape(str(exc)))
            return gr.skip(), gr.skip()
        # Gradio's upload folder: the one place its file route always serves (and never
        # blocks), in a random folder of its own so two exports never collide.
        folder = Path(get_upload_folder()) / "rag-exports" / secrets.token_hex(16)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / export_name(conversation.title, suffix)
        path.write_text(text, encoding="utf-8")
        return gr.File(value=str(path), visible=True), gr.Markdown(markdown, visible=True)

    @staticmethod
    def _picked(conversation_id: str | None) -> str:
        if not conversation_id or not isinstance(conversation_id, str):
            raise ConversationNotFound("choose a conversation from the list first")
        return conversation_id
