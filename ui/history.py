"""The History panel under the chat: list, open, rename, delete and export saved conversations.

Conversations are kept per collection, and the signed-in user (``gr.Request.username``) owns
them; another user's id reads as not found. Above the tabs, a notice says when conversations
are not being saved (a damaged history file). Opening a conversation shows it in the
:class:`~ui.chat.Chat`; later questions continue it.
"""

import secrets
from collections.abc import Callable
from pathlib import Path

import gradio as gr
from gradio.events import Dependency
from gradio.utils import get_upload_folder

from rag.history import ConversationNotFound, HistoryError, SafeHistory
from ui.backend import Backend, ChatSession, owner_of
from ui.chat import Chat
from ui.events import PRIVATE, QUIET, Updates, unchanged
from ui.listings import (
    HISTORY_COLUMNS,
    export_name,
    history_choices,
    history_rows,
    restored_turns,
    table,
)
from ui.present import Session, escape, markdown_literal


def notice_banner() -> gr.Markdown:
    """The warning above the tabs while conversations are not being saved (hidden until then)."""
    return gr.Markdown("", visible=False, elem_id="rag-history-notice")


class History:
    """The user's saved conversations in the picked collection.

    Args:
        backend: the server's collections and histories.
        chat: the chat a conversation opens into (its session and collection picker too).
        notice: the banner from :func:`notice_banner`.
    """

    def __init__(self, backend: Backend, chat: Chat, notice: gr.Markdown) -> None:
        self.backend = backend
        self.chat = chat
        self.notice = notice
        session, collection = chat.session, chat.collection
        with gr.Accordion("History", open=False, elem_id="rag-history"):
            self.table = table(
                HISTORY_COLUMNS, "Your conversations, newest first", "rag-history-list"
            )
            with gr.Row():
                self.pick = gr.Dropdown(
                    label="Conversation",
                    choices=[],
                    value=None,
                    elem_id="rag-history-pick",
                    scale=4,
                )
                self.open_button = gr.Button("Open", variant="primary", scale=1)
            with gr.Row():
                self.title = gr.Textbox(
                    label="New title", max_length=200, elem_id="rag-history-title", scale=4
                )
                self.rename_button = gr.Button("Rename", scale=1)
            with gr.Row():
                self.export_md_button = gr.Button("Export Markdown", size="sm")
                self.export_json_button = gr.Button("Export JSON", size="sm")
                self.delete_button = gr.Button("Delete conversation", size="sm", variant="stop")
            self.exported = gr.File(
                label="Exported conversation",
                interactive=False,
                visible=False,
                elem_id="rag-history-file",
            )
            self.preview = gr.Markdown(visible=False, elem_id="rag-history-preview", container=True)

        #: what a refresh of the list changes
        self.outputs = [self.table, self.pick, notice]
        self.table.select(self.pick_history, collection, self.pick, **QUIET)
        self.open_button.click(
            self.open_conversation, [self.pick, collection], [*chat.outputs, self.title], **PRIVATE
        )
        self.rename_button.click(
            self.rename_conversation, [self.pick, self.title, collection], self.outputs, **PRIVATE
        )
        self.delete_button.click(
            self.delete_conversation,
            [self.pick, session, collection],
            [session, *self.outputs],
            **PRIVATE,
        )
        for button, kind in ((self.export_md_button, "md"), (self.export_json_button, "json")):
            button.click(
                self.export_conversation,
                [self.pick, gr.State(kind), collection],
                [self.exported, self.preview],
                **PRIVATE,
            )

    def refresh_after(self, event: Dependency) -> Dependency:
        """After ``event``: the list shows the session's collection, its conversation picked."""
        return event.then(self.history_view, self.chat.session, self.outputs, **QUIET)

    # -- what the events do ---------------------------------------------------------------------
    def history_view(
        self,
        state: Session | None = None,
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> Updates:
        """The user's conversations (table and picker, the chat's own one picked) and notice."""
        collection = getattr(state, "collection", "")
        picked = getattr(state, "conversation_id", None)
        return self._listing(collection, owner_of(request), picked)

    def _listing(self, collection: str, owner: str, picked: str | None) -> Updates:
        conversations = self.backend.history_for(collection).list(owner)
        choices = history_choices(conversations)
        ids = {cid for _, cid in choices}
        return {
            self.table: {"data": history_rows(conversations), "headers": HISTORY_COLUMNS},
            self.pick: gr.Dropdown(choices=choices, value=picked if picked in ids else None),
            **self._notice(collection),
        }

    def _notice(self, collection: str | None) -> Updates:
        text = self.backend.history_for(collection).notice
        shown = gr.Markdown(f"⚠️ {markdown_literal(text)}" if text else "", visible=bool(text))
        return {self.notice: shown}

    def pick_history(
        self, collection: str | None, event: gr.SelectData, request: gr.Request
    ) -> Updates:
        """A click on a row of the table picks that conversation."""
        index = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
        conversations = self.backend.history_for(collection).list(owner_of(request))
        if isinstance(index, int) and 0 <= index < len(conversations):
            return {self.pick: gr.update(value=conversations[index].id)}  # the choices stay
        return unchanged()

    def open_conversation(
        self,
        conversation_id: str | None,
        collection: str | None = None,
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> Updates:
        """Reload a saved conversation into the chat, source cards included; its title below."""
        history = self.backend.history_for(collection)
        try:
            conversation = history.get(_picked(conversation_id), owner_of(request))
        except HistoryError as exc:
            gr.Warning(escape(str(exc)))
            return unchanged()
        state = ChatSession(turns=restored_turns(conversation.turns))
        state.conversation_id = conversation.id
        state.collection = str(collection or "")
        return {**self.chat.showing(state), self.title: conversation.title}

    def rename_conversation(
        self,
        conversation_id: str | None,
        title: str | None,
        collection: str | None = None,
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> Updates:
        def rename(history: SafeHistory, cid: str, owner: str) -> None:
            history.rename(cid, owner, str(title or "")[:200])

        _cid, updates = self._change(conversation_id, collection, request, rename, keep_pick=True)
        return updates

    def delete_conversation(
        self,
        conversation_id: str | None,
        state: Session,
        collection: str | None = None,
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> Updates:
        """Delete a saved conversation; a chat showing it stays, but saves as a new one."""
        cid, updates = self._change(
            conversation_id, collection, request, SafeHistory.delete, keep_pick=False
        )
        if cid is None:
            return updates
        if getattr(state, "conversation_id", None) == cid and isinstance(state, ChatSession):
            state.conversation_id = None
        return {self.chat.session: state, **updates}

    def _change(
        self,
        conversation_id: str | None,
        collection: str | None,
        request: gr.Request,
        change: Callable[[SafeHistory, str, str], object],
        *,
        keep_pick: bool,
    ) -> tuple[str | None, Updates]:
        """``change(history, id, owner)`` on the picked conversation, then the list again.

        Returns the id and the updates; on a refusal (none picked, not the user's) a warning
        and only the notice, with no id.
        """
        owner, collection = owner_of(request), str(collection or "")
        try:
            cid = _picked(conversation_id)
            change(self.backend.history_for(collection), cid, owner)
        except HistoryError as exc:
            gr.Warning(escape(str(exc)))
            return None, self._notice(collection)
        return cid, self._listing(collection, owner, cid if keep_pick else None)

    def export_conversation(
        self,
        conversation_id: str | None,
        kind: str,
        collection: str | None = None,
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> Updates:
        """Write the conversation as Markdown (``kind="md"``) or JSON into a fresh file.

        Offers the download and shows the Markdown export (the JSON is for programs).
        """
        owner, history = owner_of(request), self.backend.history_for(collection)
        try:
            cid = _picked(conversation_id)
            conversation = history.get(cid, owner)
            markdown = history.export_markdown(cid, owner)
            if kind == "json":
                text, suffix = history.export_json(cid, owner), ".json"
            else:
                text, suffix = markdown, ".md"
        except HistoryError as exc:
            gr.Warning(escape(str(exc)))
            return unchanged()
        # Gradio's upload folder: the one place its file route always serves (and never
        # blocks), in a random folder of its own so two exports never collide.
        folder = Path(get_upload_folder()) / "rag-exports" / secrets.token_hex(16)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / export_name(conversation.title, suffix)
        path.write_text(text, encoding="utf-8")
        return {
            self.exported: gr.File(value=str(path), visible=True),
            self.preview: gr.Markdown(markdown, visible=True),
        }


def _picked(conversation_id: str | None) -> str:
    if not conversation_id or not isinstance(conversation_id, str):
        raise ConversationNotFound("choose a conversation from the list first")
    return conversation_id
