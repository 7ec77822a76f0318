"""The browser UI: chat with citations, a document viewer, and document management.

``create_app(qa)`` builds the Gradio Blocks around one :class:`rag.QA`; everything it shows is
built by :mod:`rag.present` (escaped HTML and Markdown) and every file it writes goes through
:mod:`rag.uploads`. ``python app.py`` reads :class:`rag.Settings` once and launches with the
safe defaults of :func:`launch_options` (loopback only unless a password is set).

No ``from __future__ import annotations`` here: ``gr.api`` reads the real type hints of the
API function to describe ``/ask`` to clients.
"""

import ipaddress
import logging
import os
import secrets
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Before gradio is imported: it reads these at import time.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import gradio as gr
from gradio.utils import get_upload_folder

from rag import QA, Answer, RagError, Settings
from rag.errors import QuestionError
from rag.history import ConversationNotFound, HistoryError, HistoryStore, SafeHistory
from rag.present import (
    DOCUMENT_COLUMNS,
    HISTORY_COLUMNS,
    Session,
    Turn,
    chat_messages,
    citation_payload,
    document_html,
    document_rows,
    escape,
    export_name,
    history_choices,
    history_rows,
    ingest_report,
    markdown_literal,
    restored_turns,
    sources_html,
)
from rag.qa import validate_question
from rag.uploads import UPLOAD_SUFFIXES, UploadError, add_uploads, remove_document

log = logging.getLogger("rag.app")

APP_DIR = Path(__file__).resolve().parent
EXAMPLES = [
    "When did the Taliban seize Kabul?",
    "Who was named defense minister by Ghani?",
    "Which three countries hold a trilateral dialogue?",
    "Who won the 2018 FIFA World Cup?",
]
#: Queue: two questions answered at once on a 2-core CPU; more wait (up to 32), then "busy".
QUEUE = {"default_concurrency_limit": 2, "max_size": 32, "api_open": False}
UNEXPECTED = "Something went wrong on the server; the details are in its log. Please try again."

# -- browser side: small scripts and styles for the two HTML panels -------------------------------
SOURCES_JS = """
const reveal = (id) => {
  const card = document.getElementById(id);
  if (!card || card.offsetParent === null) return false;
  card.scrollIntoView({block: 'nearest'});
  card.classList.add('rag-flash');
  setTimeout(() => card.classList.remove('rag-flash'), 1600);
  return true;
};
element.addEventListener('click', (event) => {
  const button = event.target.closest('button.rag-view');
  if (!button) return;
  trigger('click', {
    source: button.dataset.source,
    start: Number(button.dataset.start),
    end: Number(button.dataset.end),
  });
});
if (!window.ragCitationLinks) {
  window.ragCitationLinks = true;
  document.addEventListener('click', (event) => {
    const link = event.target.closest ? event.target.closest('a[href^="#src-"]') : null;
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const id = link.getAttribute('href').slice(1);
    window.ragPendingCard = id;
    if (reveal(id)) { window.ragPendingCard = null; } else { trigger('submit', {card: id}); }
  }, true);
}
const settle = () => setTimeout(() => {
  element.querySelectorAll('.rag-passage').forEach((passage) => {
    const hit = passage.querySelector('mark');
    if (hit) passage.scrollTop = Math.max(0, hit.offsetTop - 24);
  });
  const id = window.ragPendingCard;
  if (id && reveal(id)) window.ragPendingCard = null;
}, 50);
watch('value', settle);
settle();
"""

DOCUMENT_JS = """
const show = () => setTimeout(() => {
  const hit = element.querySelector('#rag-doc-hit');
  if (hit) hit.scrollIntoView({block: 'center'});
}, 80);
watch('value', show);
show();
"""

PANEL_CSS = """
.rag-card { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: 10px 12px; margin: 0 0 10px 0; background: var(--block-background-fill);
  transition: box-shadow 0.3s; }
.rag-card.rag-flash { box-shadow: 0 0 0 3px var(--color-accent); }
.rag-card header { font-weight: 600; }
.rag-n { color: var(--color-accent); margin-right: 4px; }
.rag-title { font-style: italic; }
.rag-meta, .rag-for, .rag-empty { color: var(--body-text-color-subdued); font-size: 0.9em; }
.rag-for { margin-bottom: 8px; }
.rag-passage { position: relative; margin: 8px 0; padding: 0 0 0 10px; border-left: 3px solid
  var(--border-color-primary); white-space: pre-wrap; max-height: 16em; overflow: auto; }
mark.rag-hit { background: #fde68a; color: #111; padding: 0 1px; border-radius: 2px; }
.rag-abstained { padding: 8px 10px; margin-bottom: 10px; border-radius: 8px;
  background: var(--background-fill-secondary); }
.rag-related { opacity: 0.9; border-style: dashed; }
.rag-view { cursor: pointer; border: 1px solid var(--border-color-primary); border-radius: 6px;
  padding: 2px 10px; background: var(--button-secondary-background-fill); }
.rag-doc-text { white-space: pre-wrap; max-height: 70vh; overflow: auto; line-height: 1.5;
  padding: 8px; border: 1px solid var(--border-color-primary); border-radius: 8px; }
"""


@dataclass
class ChatSession(Session):
    """A chat session and the documents its questions search (the "Search only in" picker).

    The picker's value is copied in by a step that runs just before each answer, rather than
    being one more input of the chat event: what is searched is what was picked when the
    question was sent, and the chat event keeps its two inputs.
    """

    sources: list[str] = field(default_factory=list)
    #: the saved conversation this chat adds to; None until its first answer
    conversation_id: str | None = None


def owner_of(request: Any) -> str:
    """Whose conversations these are: the signed-in user, or "" when there is no login."""
    return str(getattr(request, "username", None) or "")


class Handlers:
    """What the UI's events do, for one ``QA`` shared by every browser session.

    Each chat handler takes and returns the session's :class:`~rag.present.Session` (held in
    ``gr.State``); nothing here keeps per-user state. Expected failures (:class:`RagError`)
    become their message, escaped; anything else is logged and shown as a generic sentence.
    """

    def __init__(self, qa: QA, history: SafeHistory | None = None) -> None:
        self.qa = qa
        self.settings = qa.settings
        #: saved conversations, shared by every session and filtered by owner on each call
        self.history = history if history is not None else SafeHistory(None)

    # -- chat -----------------------------------------------------------------------------------
    @staticmethod
    def note_sources(picked: list[str] | None, state: Session) -> ChatSession:
        """Copy the "Search only in" picker into the session, for the answer that follows."""
        if not isinstance(state, ChatSession):
            state = ChatSession(**vars(state)) if isinstance(state, Session) else ChatSession()
        state.sources = [str(name) for name in picked or []]
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
        state = state if isinstance(state, Session) else ChatSession()
        sources = _chosen(getattr(state, "sources", None))
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
        panels = _show_sources()
        yield chat_messages(state), state, sources_html(state), "", *panels
        try:
            for piece in self.qa.stream(text, history, sources=sources):
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
            self._save(state, text, turn.answer, owner_of(request))
        yield chat_messages(state), state, sources_html(state), gr.skip(), *panels

    def _save(self, state: Session, question: str, answer: Answer, owner: str) -> None:
        """Add the turn to the session's conversation; saving never breaks answering."""
        try:
            cid = getattr(state, "conversation_id", None)
            if cid is not None:
                try:
                    self.history.add_turn(cid, owner, question, answer)
                    return
                except ConversationNotFound:  # deleted meanwhile (another tab): start anew
                    pass
            cid = self.history.create(owner, question).id
            if isinstance(state, ChatSession):
                state.conversation_id = cid
            self.history.add_turn(cid, owner, question, answer)
        except Exception:
            log.exception("saving the conversation failed")

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
        return state, sources_html(state), *_show_sources()

    @staticmethod
    def follow_link(state: Session, event: gr.EventData) -> tuple[Any, ...]:
        """A click on ``[n]`` of an earlier answer brings that answer's cards back."""
        card = str((getattr(event, "_data", None) or {}).get("card", ""))
        parts = card.split("-")
        if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(state.turns):
            state.selected = int(parts[1])
        return state, sources_html(state), *_show_sources()

    def view_document(self, event: gr.EventData) -> tuple[Any, ...]:
        """The whole cleaned document with the cited span marked (the browser scrolls to it)."""
        data = getattr(event, "_data", None) or {}
        source = str(data.get("source", ""))
        try:
            start, end = int(data.get("start", 0)), int(data.get("end", 0))
            known = {d.source: d for d in self.qa.documents()}
            if source not in known:  # the client names it: only indexed documents are shown
                raise UploadError(f"{source} is no longer in the index")
            text = self.qa.document_text(source)
        except (RagError, ValueError, TypeError) as exc:
            gr.Warning(escape(str(exc) if isinstance(exc, RagError) else "invalid position"))
            return gr.skip(), gr.skip(), gr.skip()
        html = document_html(source, text, start, end, title=known[source].title)
        return html, gr.Column(visible=False), gr.Column(visible=True)

    @staticmethod
    def back() -> tuple[Any, Any]:
        return _show_sources()

    @staticmethod
    def clear() -> tuple[Any, ...]:
        """A new chat: empty, and its first answer starts a new saved conversation."""
        fresh = ChatSession()
        return [], fresh, sources_html(fresh), *_show_sources()

    # -- conversation history -----------------------------------------------------------------
    def history_view(
        self,
        state: Session | None = None,
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> tuple[Any, ...]:
        """The user's conversations (table and picker, the chat's own one picked) and notice."""
        return self._history_outputs(owner_of(request), getattr(state, "conversation_id", None))

    def _history_outputs(self, owner: str, picked: str | None) -> tuple[Any, ...]:
        conversations = self.history.list(owner)
        choices = history_choices(conversations)
        ids = {cid for _, cid in choices}
        table = {"data": history_rows(conversations), "headers": HISTORY_COLUMNS}
        return (
            table,
            gr.Dropdown(choices=choices, value=picked if picked in ids else None),
            self.notice(),
        )

    def notice(self) -> Any:
        """The warning above the chat while conversations are not being saved."""
        text = self.history.notice
        return gr.Markdown(f"⚠️ {markdown_literal(text)}" if text else "", visible=bool(text))

    def pick_history(self, event: gr.SelectData, request: gr.Request) -> Any:
        """A click on a row of the history table picks that conversation."""
        index = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
        conversations = self.history.list(owner_of(request))
        if isinstance(index, int) and 0 <= index < len(conversations):
            return gr.update(value=conversations[index].id)  # the choices stay
        return gr.skip()

    def open_conversation(
        self,
        conversation_id: str | None,
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> tuple[Any, ...]:
        """Reload a saved conversation into the chat, source cards included.

        Returns the chat, the session, the sources panel, the two right-hand columns and the
        rename box (its title). Later questions continue the same conversation.
        """
        try:
            conversation = self.history.get(self._picked(conversation_id), owner_of(request))
        except HistoryError as exc:
            gr.Warning(escape(str(exc)))
            return (gr.skip(),) * 6
        state = ChatSession(turns=restored_turns(conversation.turns))
        state.conversation_id = conversation.id
        return (
            chat_messages(state),
            state,
            sources_html(state),
            *_show_sources(),
            conversation.title,
        )

    def rename_conversation(
        self,
        conversation_id: str | None,
        title: str | None,
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> tuple[Any, ...]:
        owner = owner_of(request)
        try:
            cid = self._picked(conversation_id)
            self.history.rename(cid, owner, str(title or "")[:200])
        except HistoryError as exc:
            gr.Warning(escape(str(exc)))
            return gr.skip(), gr.skip(), self.notice()
        return self._history_outputs(owner, cid)

    def delete_conversation(
        self,
        conversation_id: str | None,
        state: Session,
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> tuple[Any, ...]:
        """Delete a saved conversation; a chat showing it stays, but saves as a new one."""
        owner = owner_of(request)
        try:
            cid = self._picked(conversation_id)
            self.history.delete(cid, owner)
        except HistoryError as exc:
            gr.Warning(escape(str(exc)))
            return gr.skip(), gr.skip(), gr.skip(), self.notice()
        if getattr(state, "conversation_id", None) == cid and isinstance(state, ChatSession):
            state.conversation_id = None
        return state, *self._history_outputs(owner, None)

    def export_conversation(
        self,
        conversation_id: str | None,
        kind: str,
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> Any:
        """Write the conversation as Markdown (``kind="md"``) or JSON into a fresh file."""
        owner = owner_of(request)
        try:
            cid = self._picked(conversation_id)
            conversation = self.history.get(cid, owner)
            if kind == "json":
                text, suffix = self.history.export_json(cid, owner), ".json"
            else:
                text, suffix = self.history.export_markdown(cid, owner), ".md"
        except HistoryError as exc:
            gr.Warning(escape(str(exc)))
            return gr.skip()
        # Gradio's upload folder: the one place its file route always serves (and never
        # blocks), in a random folder of its own so two exports never collide.
        folder = Path(get_upload_folder()) / "rag-exports" / secrets.token_hex(16)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / export_name(conversation.title, suffix)
        path.write_text(text, encoding="utf-8")
        return gr.File(value=str(path), visible=True)

    def export_markdown(
        self,
        conversation_id: str | None,
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> Any:
        return self.export_conversation(conversation_id, "md", request)

    def export_json(
        self,
        conversation_id: str | None,
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> Any:
        return self.export_conversation(conversation_id, "json", request)

    @staticmethod
    def _picked(conversation_id: str | None) -> str:
        if not conversation_id or not isinstance(conversation_id, str):
            raise ConversationNotFound("choose a conversation from the list first")
        return conversation_id

    # -- documents ------------------------------------------------------------------------------
    def picker(self, current: list[str] | None) -> Any:
        """The "Search only in" choices after the documents changed; gone ones are unpicked.

        A chained step after each listing event rather than one more output of them, so the
        ``/add_documents`` API keeps its signature.
        """
        try:
            names = [d.source for d in self.qa.documents()]
        except RagError:
            return gr.skip()
        kept = [name for name in current or [] if name in names]
        return gr.Dropdown(choices=names, value=kept)

    def listing(self) -> tuple[Any, Any]:
        rows = document_rows(self.qa.documents())
        table = {"data": rows, "headers": DOCUMENT_COLUMNS}
        return table, gr.Dropdown(choices=[row[0] for row in rows], value=None)

    def refresh(self) -> tuple[Any, ...]:
        try:
            return *self.listing(), gr.skip()
        except RagError as exc:
            return gr.skip(), gr.skip(), markdown_literal(str(exc))

    def add_documents(
        self,
        files: list[str] | None,
        progress=gr.Progress(),  # noqa: B008 (gradio's way of asking for a progress bar)
    ) -> tuple[Any, ...]:
        """Add uploaded files to the corpus folder and index them.

        Each file that cannot be added (type, size) or read (a broken PDF) is reported with
        its reason, and the others are indexed. Returns the documents table, the document
        choices, a Markdown report and the cleared upload box.
        """
        if not files:
            gr.Warning("Choose one or more files first.")
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        s = self.settings
        result = add_uploads(files, s.corpus_dir, max_mb=s.max_upload_mb)
        try:
            message = self._ingest(progress, result.rejected, new=result.saved)
        except RagError as exc:
            message = markdown_literal(
                f"{exc} (the uploaded files are in the corpus folder; re-ingest to index them)"
            )
        return *self._listing_or_skip(), message, None

    def delete(self, source: str | None, progress=gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        try:
            known = [d.source for d in self.qa.documents()]
            if not source or source not in known:
                raise UploadError("choose a document from the list first")
            if len(known) == 1:
                raise UploadError("this is the only document: add another one before deleting it")
            remove_document(self.settings.corpus_dir, source)
            message = self._ingest(progress, [])
        except RagError as exc:
            message = markdown_literal(str(exc))
        return *self._listing_or_skip(), message

    def reingest(self, progress=gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        try:
            message = self._ingest(progress, [])
        except RagError as exc:
            message = markdown_literal(str(exc))
        return *self._listing_or_skip(), message

    def _ingest(
        self, progress: gr.Progress, rejected: list[tuple[str, str]], new: Sequence[str] = ()
    ) -> str:
        progress(0, desc="Starting")

        def report(stage: str, done: int, total: int) -> None:
            progress((done, max(total, 1)), desc=stage.capitalize())

        summary = self.qa.ingest(progress=report)
        for skipped in summary.skipped:  # a new upload that cannot be read is not kept
            if skipped.path in new:
                remove_document(self.settings.corpus_dir, skipped.path)
        return ingest_report(summary, rejected=rejected)

    def _listing_or_skip(self) -> tuple[Any, Any]:
        try:
            return self.listing()
        except RagError:
            return gr.skip(), gr.skip()

    def describe(self) -> str:
        return settings_markdown(self.qa)

    # -- the scripting API ----------------------------------------------------------------------
    def ask(
        self,
        question: str,
        history: list[list[str]] | None = None,
        sources: list[str] | None = None,
    ) -> tuple[str, dict]:
        """Answer a question from the indexed documents.

        Args:
            question: the question (at most RAG_MAX_QUESTION_CHARS characters).
            history: earlier turns as [question, answer] pairs, for follow-up questions.
            sources: search only these documents: paths relative to the corpus folder,
                folders or glob patterns like "*.pdf"; empty or null searches them all. A
                pattern that matches no document is an error that names it.

        Returns:
            The answer text with [n] markers, and a JSON payload with the citations
            (source, quote, start, end, passage, page, location, score) or, after an abstention,
            the related passages.
        """
        try:
            text = validate_question(question, self.settings.max_question_chars)
            pairs = [tuple(turn[:2]) for turn in history or [] if len(turn) >= 2]
            answer = self.qa.ask(text, pairs, sources=_chosen(sources))
        except RagError as exc:
            raise gr.Error(escape(str(exc)), print_exception=False) from None
        except Exception:
            log.exception("API question failed")
            raise gr.Error(UNEXPECTED, print_exception=False) from None
        return answer.text, citation_payload(answer)


def _show_sources() -> tuple[Any, Any]:
    return gr.Column(visible=True), gr.Column(visible=False)


def _chosen(sources: list[str] | str | None) -> list[str] | str | None:
    """A picker's or client's ``sources`` as ``QA.ask`` takes them: nothing picked is all.

    The library refuses an empty list (a filter that came out empty should not widen to
    everything), but here empty is what an untouched picker or a client's default sends.
    """
    return sources or None


def create_app(qa: QA) -> gr.Blocks:
    """The UI around one ``QA``: layout here, behaviour in :class:`Handlers`."""
    settings = qa.settings
    # One history for every session; each call names its owner (the signed-in user).
    on = Handlers(qa, SafeHistory(HistoryStore(settings.history_file)))
    private = {"api_visibility": "private"}  # UI events: not callable by API clients
    # Every way of asking shares one limit (queue's default_concurrency_limit, 2): a limit
    # applies per event unless events share a concurrency_id.
    answering = {"concurrency_id": "answer"}

    with gr.Blocks(title="Ask your documents", analytics_enabled=False) as demo:
        session = gr.State(ChatSession())
        gr.Markdown(
            "# Ask your documents\nAnswers quote your documents; every **[n]** links to the "
            "passage it comes from. When the documents do not say, the answer says so."
        )
        notice = gr.Markdown("", visible=False, elem_id="rag-history-notice")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(
                        label="Conversation",
                        elem_id="rag-chat",
                        height=520,
                        sanitize_html=True,  # and present.py escapes all text besides
                        render_markdown=True,  # for the [n] links only: text is escaped
                        allow_tags=False,
                        latex_delimiters=[],
                        feedback_options=None,
                        allow_file_downloads=False,
                        buttons=["copy"],  # no "share" (it posts to the Hugging Face hub)
                        placeholder="Ask a question about your documents, or try one of these:",
                        examples=[{"text": q} for q in EXAMPLES],
                    )
                    with gr.Row():
                        question = gr.Textbox(
                            show_label=False,
                            placeholder="Ask a question (follow-ups are understood)",
                            max_length=settings.max_question_chars,
                            elem_id="rag-question",
                            scale=5,
                            autofocus=True,
                        )
                        ask_button = gr.Button("Ask", variant="primary", scale=1)
                    with gr.Row():
                        picked = gr.Dropdown(
                            label="Search only in",
                            info="Leave empty to search every document.",
                            choices=[],
                            value=[],
                            multiselect=True,
                            elem_id="rag-search-only",
                            scale=5,
                        )
                        clear_button = gr.Button("New chat", size="sm", scale=1)
                    with gr.Accordion("History", open=False, elem_id="rag-history"):
                        history_table = gr.Dataframe(
                            headers=HISTORY_COLUMNS,
                            interactive=False,
                            wrap=True,
                            label="Your conversations, newest first",
                            elem_id="rag-history-list",
                        )
                        with gr.Row():
                            history_pick = gr.Dropdown(
                                label="Conversation",
                                choices=[],
                                value=None,
                                elem_id="rag-history-pick",
                                scale=4,
                            )
                            open_button = gr.Button("Open", variant="primary", scale=1)
                        with gr.Row():
                            new_title = gr.Textbox(
                                label="New title",
                                max_length=200,
                                elem_id="rag-history-title",
                                scale=4,
                            )
                            rename_button = gr.Button("Rename", scale=1)
                        with gr.Row():
                            export_md_button = gr.Button("Export Markdown", size="sm")
                            export_json_button = gr.Button("Export JSON", size="sm")
                            forget_button = gr.Button(
                                "Delete conversation", size="sm", variant="stop"
                            )
                        exported = gr.File(
                            label="Exported conversation",
                            interactive=False,
                            visible=False,
                            elem_id="rag-history-file",
                        )
                with gr.Column(scale=2):
                    with gr.Column(visible=True) as sources_column:
                        gr.Markdown("### Sources")
                        sources = gr.HTML(
                            sources_html(Session()),
                            elem_id="rag-sources",
                            js_on_load=SOURCES_JS,
                            css_template=PANEL_CSS,
                        )
                    with gr.Column(visible=False) as document_column:
                        with gr.Row():
                            gr.Markdown("### Document")
                            back_button = gr.Button("Back to sources", size="sm")
                        document = gr.HTML(
                            "",
                            elem_id="rag-document",
                            js_on_load=DOCUMENT_JS,
                            css_template=PANEL_CSS,
                        )
            with gr.Tab("Documents", id="documents"):
                documents = gr.Dataframe(
                    headers=DOCUMENT_COLUMNS,
                    interactive=False,
                    wrap=True,
                    label="Indexed documents",
                    elem_id="rag-documents",
                )
                with gr.Row():
                    uploads = gr.File(
                        label=(
                            f"Add documents ({', '.join(UPLOAD_SUFFIXES)}; "
                            f"up to {settings.max_upload_mb:g} MB each)"
                        ),
                        # No file_types: Gradio would refuse the whole batch for one wrong
                        # file, while add_uploads refuses that file alone and says why.
                        file_count="multiple",
                        elem_id="rag-upload",
                    )
                    with gr.Column():
                        add_button = gr.Button("Add to index", variant="primary")
                        chosen = gr.Dropdown(label="Document", choices=[], elem_id="rag-chosen")
                        delete_button = gr.Button("Delete document", variant="stop")
                        reingest_button = gr.Button("Re-ingest the corpus folder")
                status = gr.Markdown(elem_id="rag-status")
            with gr.Tab("Settings", id="settings"):
                settings_view = gr.Markdown(elem_id="rag-settings")

        # -- chat events ------------------------------------------------------------------------
        chat_outputs = [chatbot, session, sources, question, sources_column, document_column]
        chat_inputs = [question, session]
        noting = {"show_progress": "hidden", **private}
        history_outputs = [history_table, history_pick, notice]
        answered = [
            question.submit(on.note_sources, [picked, session], session, **noting).then(
                on.respond, chat_inputs, chat_outputs, **answering, **private
            ),
            ask_button.click(on.note_sources, [picked, session], session, **noting).then(
                on.respond, chat_inputs, chat_outputs, **answering, **private
            ),
            chatbot.example_select(
                on.use_example, None, question, show_progress="hidden", **private
            )
            .then(on.note_sources, [picked, session], session, **noting)
            .then(on.respond, chat_inputs, chat_outputs, **answering, **private),
        ]
        for event in answered:  # the history lists the conversation the answer was saved to
            event.then(on.history_view, session, history_outputs, **noting)
        panel_outputs = [session, sources, sources_column, document_column]
        chatbot.select(on.pick_message, session, panel_outputs, **private)
        sources.submit(on.follow_link, session, panel_outputs, **private)
        sources.click(
            on.view_document, None, [document, sources_column, document_column], **private
        )
        back_button.click(
            on.back, None, [sources_column, document_column], show_progress="hidden", **private
        )
        clear_outputs = [chatbot, session, sources, sources_column, document_column]
        clear_button.click(on.clear, None, clear_outputs, **private)
        chatbot.clear(on.clear, None, clear_outputs, **private)

        # -- history events -----------------------------------------------------------------------
        quiet = {"show_progress": "hidden", **private}
        demo.load(on.history_view, None, history_outputs, **quiet)
        history_table.select(on.pick_history, None, history_pick, **quiet)
        open_button.click(
            on.open_conversation, history_pick, [*clear_outputs, new_title], **private
        )
        rename_button.click(
            on.rename_conversation, [history_pick, new_title], history_outputs, **private
        )
        forget_button.click(
            on.delete_conversation, [history_pick, session], [session, *history_outputs], **private
        )
        export_md_button.click(
            on.export_markdown,
            history_pick,
            exported,
            **private,
        )
        export_json_button.click(
            on.export_json,
            history_pick,
            exported,
            **private,
        )

        # -- documents events: one ingest at a time ---------------------------------------------
        one_ingest = {"concurrency_limit": 1, "concurrency_id": "ingest"}
        listing_outputs = [documents, chosen, status]
        listed = [
            add_button.click(  # also the scripting API for uploads
                on.add_documents,
                uploads,
                [*listing_outputs, uploads],
                api_name="add_documents",
                **one_ingest,
            ),
            delete_button.click(on.delete, chosen, listing_outputs, **one_ingest, **private),
            reingest_button.click(on.reingest, None, listing_outputs, **one_ingest, **private),
            demo.load(on.refresh, None, listing_outputs, **private),
        ]
        for event in listed:  # the chat's document picker follows the documents list
            event.then(on.picker, picked, picked, show_progress="hidden", **private)
        demo.load(on.describe, None, settings_view, **private)

        gr.api(on.ask, api_name="ask", **answering)
    return demo


def settings_markdown(qa: QA) -> str:
    """The settings a user may want to know about, as a Markdown table."""
    s = qa.settings
    try:
        threshold = f"{qa.threshold:.3g}"
    except RagError:
        threshold = "default"
    rows = [
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


# -- launching -----------------------------------------------------------------------------------
class LaunchError(RagError):
    """The launch settings would expose the app unsafely."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host.lower() in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def parse_auth(settings: Settings) -> list[tuple[str, str]] | None:
    """``RAG_AUTH`` as a list of ``(user, password)``, or None when unset.

    ``RAG_AUTH`` is ``user:password``, several of them separated by commas, or a file of one
    ``user:password`` per line (blank lines and ``#`` comments skipped), named as
    ``@/path/to/file`` or as a plain path to an existing file. A password may contain ``:``
    (the first one separates); in the comma form it cannot contain ``,``: use a file.

    Raises:
        LaunchError: an entry is malformed (named by position, never by its text, which may
            be a password), a user appears twice, there is no entry, or the file is unreadable.
    """
    if settings.auth is None:
        return None
    value = settings.auth.get_secret_value().strip()
    file = value[1:].strip() if value.startswith("@") else None
    # A plain path counts only if the file exists: otherwise the value may be a mistyped
    # password, and the error below must not repeat it.
    if file is None and ":" not in value and value and Path(value).expanduser().is_file():
        file = value
    if file is not None:
        path = Path(file).expanduser()
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "unreadable"
            raise LaunchError(f"RAG_AUTH file {path} cannot be read: {reason}") from None
        entries = [
            (f"line {number} of {path}", line.strip())
            for number, line in enumerate(lines, 1)
            if line.strip() and not line.strip().startswith("#")
        ]
    else:
        entries = [(f"entry {n}", e.strip()) for n, e in enumerate(value.split(","), 1)]
    pairs: list[tuple[str, str]] = []
    for where, entry in entries:
        user, sep, password = entry.partition(":")
        user = user.strip()
        if not sep or not user or not password:
            hint = " (or @/path/to/file)" if len(entries) == 1 and file is None else ""
            raise LaunchError(f"RAG_AUTH {where} must be user:password, both non-empty{hint}")
        if any(user == known for known, _ in pairs):
            raise LaunchError(f"RAG_AUTH {where}: user {user!r} is listed twice")
        pairs.append((user, password))
    if not pairs:
        raise LaunchError("RAG_AUTH names no user:password entry")
    return pairs


def blocked_paths(settings: Settings) -> list[str]:
    """Folders the file route must never serve: the index, the corpus, the app, the home.

    Gradio already serves only its own upload cache and ``allowed_paths`` (empty here); this
    is the second lock. A folder that contains Gradio's upload cache is left out, since a block
    wins over everything and would break uploads.
    """
    cache = Path(get_upload_folder()).resolve()
    candidates = [
        settings.index_dir,
        settings.corpus_dir,
        settings.history_file,  # every user's conversations
        APP_DIR,
        Path.home(),
    ]
    blocked: list[str] = []
    for path in candidates:
        path = Path(path).resolve()
        if cache.is_relative_to(path):
            log.warning("not blocking %s: it holds Gradio's upload folder %s", path, cache)
            continue
        blocked.append(str(path))
    return blocked


def launch_options(settings: Settings, *, share: bool = False) -> dict[str, Any]:
    """Keyword arguments for ``Blocks.launch``: safe unless the user asks otherwise.

    Raises:
        LaunchError: the app would be reachable from other machines without a password.
    """
    auth = parse_auth(settings)
    if (share or not is_loopback(settings.host)) and auth is None:
        where = "a public share link" if share else f"{settings.host} (not loopback)"
        raise LaunchError(
            f"refusing to serve on {where} without a password: set RAG_AUTH=user:password "
            "or use RAG_HOST=127.0.0.1"
        )
    return {
        "server_name": settings.host,
        "server_port": settings.port,
        "share": share,
        "auth": auth,
        "show_error": False,
        "ssr_mode": False,
        "max_file_size": int(settings.max_upload_mb * 1024 * 1024),
        "allowed_paths": [],
        "blocked_paths": blocked_paths(settings),
        "enable_monitoring": False,
        "mcp_server": False,
        "pwa": False,
        "run_history": False,
        "footer_links": ["api", "settings"],
        "strict_cors": True,
        "theme": gr.themes.Soft(
            font=["ui-sans-serif", "system-ui", "sans-serif"],
            font_mono=["ui-monospace", "monospace"],
        ),
    }


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # gradio's own start-up probes
    try:
        settings = Settings()
        options = launch_options(settings, share=_env_flag("GRADIO_SHARE"))
    except (RagError, ValueError) as exc:
        sys.exit(f"error: {exc}")
    qa = QA(settings)
    try:  # load the model and open (or build) the index now, not on the first question
        qa.reader()
        qa.embedder.embed_query("warm-up")
    except RagError as exc:  # still start: documents can be added from the browser
        log.warning("%s", exc)
    demo = create_app(qa)
    demo.queue(**QUEUE).launch(**options)


if __name__ == "__main__":
    main()
