"""The chat: the conversation, the question box, "Search only in" and "New chat".

Asking (Enter, "Ask" or an example) first copies the pickers into the session, then streams
the answer into the conversation and its cards into the :class:`~ui.sources.Sources` panel;
an answered turn is saved to the signed-in user's conversation. A click on a message shows
that exchange's cards. :attr:`Chat.answered` are the answering events, for the areas that
follow them (the History list).
"""

import logging
from collections.abc import Callable, Iterator

import gradio as gr
from gradio.events import Dependency

from rag import Answer, RagError
from rag.errors import QuestionError
from rag.questions import validate_question
from ui.backend import UNEXPECTED, Backend, ChatSession, chat_session, chosen, owner_of
from ui.events import ANSWERING, PRIVATE, QUIET, Updates
from ui.present import Session, Turn, chat_messages, escape
from ui.sources import Sources

log = logging.getLogger("rag.app")

EXAMPLES = [
    "When did the Taliban seize Kabul?",
    "Who was named defense minister by Ghani?",
    "Which three countries hold a trilateral dialogue?",
    "Who won the 2018 FIFA World Cup?",
]


class Chat:
    """The conversation with the documents of the picked collection.

    Args:
        backend: the server's collections and histories.
        session: the browser's chat session.
        collection: the collection picker (what the chat asks).
        sources: the panel that shows each answer's cards.
    """

    def __init__(
        self, backend: Backend, session: gr.State, collection: gr.Dropdown, sources: Sources
    ) -> None:
        self.backend = backend
        self.session = session
        self.collection = collection
        self.sources = sources
        settings = backend.settings
        self.chatbot = gr.Chatbot(
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
            self.question = gr.Textbox(
                show_label=False,
                placeholder="Ask a question (follow-ups are understood)",
                max_length=settings.max_question_chars,
                elem_id="rag-question",
                scale=5,
                autofocus=True,
            )
            self.ask_button = gr.Button("Ask", variant="primary", scale=1)
        with gr.Row():
            self.search_only = gr.Dropdown(
                label="Search only in",
                info="Leave empty to search every document.",
                choices=[],
                value=[],
                multiselect=True,
                elem_id="rag-search-only",
                scale=5,
            )
            self.new_chat_button = gr.Button("New chat", size="sm", scale=1)

        #: what a new chat (or a reopened one) changes: the conversation and the cards
        self.outputs = [self.chatbot, session, *sources.outputs]
        example = self.chatbot.example_select(self.use_example, None, self.question, **QUIET)
        #: the events that answer a question (Enter, "Ask", an example)
        self.answered: tuple[Dependency, ...] = tuple(
            self._answer_on(trigger)
            for trigger in (self.question.submit, self.ask_button.click, example.then)
        )
        self.chatbot.select(self.pick_message, session, [session, *sources.outputs], **PRIVATE)
        self.new_chat_button.click(self.clear, session, self.outputs, **PRIVATE)
        self.chatbot.clear(self.clear, session, self.outputs, **PRIVATE)

    def _answer_on(self, trigger: Callable[..., Dependency]) -> Dependency:
        """On ``trigger``: copy the pickers into the session, then answer (two inputs only)."""
        pickers = [self.search_only, self.collection, self.session]
        noted = trigger(self.note_sources, pickers, self.session, **QUIET)
        return noted.then(
            self.respond,
            [self.question, self.session],
            [*self.outputs, self.question],
            **ANSWERING,
            **PRIVATE,
        )

    def switch_collection_on(self, trigger: Callable[..., Dependency]) -> Dependency:
        """On ``trigger`` (the picker's input, a new collection): a new chat in the picked one."""
        return trigger(
            self.switch_collection,
            [self.collection, self.session],
            [*self.outputs, self.collection],
            **PRIVATE,
        )

    def refresh_search_only_after(self, event: Dependency) -> Dependency:
        """After ``event`` (the documents changed): "Search only in" offers the documents."""
        return event.then(
            self.search_only_choices, [self.search_only, self.collection], self.search_only, **QUIET
        )

    # -- what the events do ---------------------------------------------------------------------
    def showing(self, state: Session) -> Updates:
        """The chat showing ``state``: its messages and its selected answer's cards."""
        return {self.chatbot: chat_messages(state), self.session: state, **self.sources.show(state)}

    def note_sources(
        self, picked: list[str] | None, collection: str | None, state: Session
    ) -> Updates:
        """Copy the pickers (collection, "Search only in") into the session, for the answer.

        A step of its own just before each answer rather than more inputs of the chat event:
        what is searched is what was picked when the question was sent.
        """
        state = chat_session(state)
        state.sources = [str(name) for name in picked or []]
        state.collection = str(collection or "")
        return {self.session: state}

    def respond(
        self,
        message: str | None,
        state: Session,
        request: gr.Request = None,  # type: ignore[assignment]  (gradio fills it in)
    ) -> Iterator[Updates]:
        """Stream an answer into the chat, searching the documents the session has picked.

        The question box empties when the question is accepted; the cards show when the
        answer starts and again when it is done. An answered turn is saved to the signed-in
        user's conversation (created with the first answer).
        """
        state = chat_session(state)
        sources = chosen(state.sources)
        try:  # checked here, on the server: the textbox's max_length binds only browsers
            text = validate_question(message, self.backend.settings.max_question_chars)
        except QuestionError as exc:
            gr.Warning(escape(str(exc)))  # the question stays in the box to be fixed
            yield {self.session: state}
            return
        turn = Turn(question=text)
        history = state.history()
        state.turns.append(turn)
        state.selected = None
        yield {**self.showing(state), self.question: ""}
        try:
            qa = self.backend.qa_for(state.collection)
            for piece in qa.stream(text, history, sources=sources):
                if isinstance(piece, Answer):
                    turn.answer = piece
                else:
                    turn.partial += piece
                    streaming = {self.chatbot: chat_messages(state), self.session: state}
                    yield {**streaming, **self.sources.cards_shown()}
        except RagError as exc:
            turn.error = str(exc)
        except Exception:
            log.exception("answering %r failed", text)
            turn.error = UNEXPECTED
        if turn.answer is None and turn.error is None:
            turn.error = UNEXPECTED
        if turn.answer is not None:
            state.conversation_id = self.backend.save_turn(
                state.collection, state.conversation_id, owner_of(request), text, turn.answer
            )
        yield self.showing(state)

    def use_example(self, event: gr.SelectData) -> Updates:
        value = event.value
        return {
            self.question: value.get("text", "") if isinstance(value, dict) else str(value or "")
        }

    def pick_message(self, state: Session, event: gr.SelectData) -> Updates:
        """A click on a message shows the sources of that exchange."""
        index = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
        if isinstance(index, int) and 0 <= index // 2 < len(state.turns):
            state.selected = index // 2
        return {self.session: state, **self.sources.show(state)}

    def clear(self, state: Session | None = None) -> Updates:
        """A new chat in the same collection: its first answer starts a new conversation."""
        return self.showing(ChatSession(collection=chat_session(state).collection))

    def switch_collection(self, collection: str | None, state: Session) -> Updates:
        """Another collection: a new chat there (the other areas follow in chained steps).

        A name that is no collection (typed into the picker) puts the picker back.
        """
        try:
            self.backend.qa_for(collection)
        except RagError as exc:
            gr.Warning(escape(str(exc)))
            current = chat_session(state).collection or self.backend.settings.collection
            return {self.collection: gr.update(value=current)}
        return self.showing(
            ChatSession(collection=str(collection or ""))
        )  # the old one stays saved

    def search_only_choices(self, current: list[str] | None, collection: str | None) -> Updates:
        """The "Search only in" choices after the documents changed; gone ones are unpicked.

        A chained step after each listing event rather than one more output of them, so the
        ``/add_documents`` API keeps its outputs.
        """
        try:
            names = [d.source for d in self.backend.qa_for(collection).documents()]
        except RagError:
            return {self.search_only: gr.Dropdown(choices=[], value=[])}
        kept = [name for name in current or [] if name in names]
        return {self.search_only: gr.Dropdown(choices=names, value=kept)}
