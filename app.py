"""The browser UI: chat with citations, a document viewer, collections and history.

``create_app(qa)`` lays out the Gradio page around the collection ``qa`` serves (and the
others beside it) and wires each event to :class:`ui.Handlers`; ``python app.py`` reads
:class:`rag.Settings` once and launches with the safe defaults of :func:`launch_options`
(loopback only unless a password is set).
"""

import logging
import os
import sys
from typing import Any

# Before gradio is imported: it reads these at import time.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import gradio as gr

from rag import QA, RagError, Settings
from rag.api import create_api
from rag.catalog import Catalog
from rag.ingest.uploads import UPLOAD_SUFFIXES
from ui import ChatSession, Handlers, settings_markdown
from ui.assets import DOCUMENT_JS, PANEL_CSS, SOURCES_JS
from ui.launch import (
    APP_DIR,
    LaunchError,
    blocked_paths,
    is_loopback,
    launch_options,
    mount,
    parse_auth,
    serve,
)
from ui.present import DOCUMENT_COLUMNS, HISTORY_COLUMNS, Session, sources_html

__all__ = [
    "APP_DIR",
    "ChatSession",
    "Handlers",
    "LaunchError",
    "blocked_paths",
    "create_app",
    "is_loopback",
    "launch_options",
    "parse_auth",
    "settings_markdown",
]

log = logging.getLogger("rag.app")

EXAMPLES = [
    "When did the Taliban seize Kabul?",
    "Who was named defense minister by Ghani?",
    "Which three countries hold a trilateral dialogue?",
    "Who won the 2018 FIFA World Cup?",
]
#: Queue: two questions answered at once on a 2-core CPU; more wait (up to 32), then "busy".
QUEUE = {"default_concurrency_limit": 2, "max_size": 32, "api_open": False}


def create_app(qa: QA | Catalog) -> gr.Blocks:
    """The UI around one collection and those beside it: layout here, behaviour in Handlers."""
    on = Handlers(qa)
    settings = on.settings
    private = {"api_visibility": "private"}  # UI events: not callable by API clients
    # Every way of asking shares one limit (queue's default_concurrency_limit, 2): a limit
    # applies per event unless events share a concurrency_id.
    answering = {"concurrency_id": "answer"}
    quiet = {"show_progress": "hidden", **private}

    with gr.Blocks(title="Ask your documents", analytics_enabled=False) as demo:
        session = gr.State(ChatSession())
        with gr.Row(equal_height=True):
            gr.Markdown(
                "# Ask your documents\nAnswers quote your documents; every **[n]** links to "
                "the passage it comes from. When the documents do not say, the answer says so."
            )
            collection = gr.Dropdown(
                label="Collection",
                info="Chat, documents and history of one document set.",
                choices=on.catalog.names(),
                value=settings.collection,
                # validated by the catalog; the choices Gradio checks against are the ones of
                # page load, so an API client could not name a collection made since
                allow_custom_value=True,
                elem_id="rag-collection",
                scale=0,
                min_width=240,
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
                        preview = gr.Markdown(
                            visible=False, elem_id="rag-history-preview", container=True
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
                    label="Indexed documents of this collection",
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
                with gr.Row():
                    new_collection = gr.Textbox(
                        label="New collection",
                        placeholder="1-24 letters, digits, - or _",
                        max_length=24,
                        elem_id="rag-new-collection",
                        scale=4,
                    )
                    create_button = gr.Button("Create collection", scale=1)
            with gr.Tab("Settings", id="settings"):
                settings_view = gr.Markdown(elem_id="rag-settings")

        # -- chat events ------------------------------------------------------------------------
        chat_outputs = [chatbot, session, sources, question, sources_column, document_column]
        chat_inputs = [question, session]
        noting = [[picked, collection, session], session]
        history_outputs = [history_table, history_pick, notice]
        answered = [
            question.submit(on.note_sources, *noting, **quiet).then(
                on.respond, chat_inputs, chat_outputs, **answering, **private
            ),
            ask_button.click(on.note_sources, *noting, **quiet).then(
                on.respond, chat_inputs, chat_outputs, **answering, **private
            ),
            chatbot.example_select(on.use_example, None, question, **quiet)
            .then(on.note_sources, *noting, **quiet)
            .then(on.respond, chat_inputs, chat_outputs, **answering, **private),
        ]
        for event in answered:  # the history lists the conversation the answer was saved to
            event.then(on.history_view, session, history_outputs, **quiet)
        panel_outputs = [session, sources, sources_column, document_column]
        chatbot.select(on.pick_message, session, panel_outputs, **private)
        sources.submit(on.follow_link, session, panel_outputs, **private)
        sources.click(
            on.view_document, session, [document, sources_column, document_column], **private
        )
        back_button.click(on.back, None, [sources_column, document_column], **quiet)
        clear_outputs = [chatbot, session, sources, sources_column, document_column]
        clear_button.click(on.clear, session, clear_outputs, **private)
        chatbot.clear(on.clear, session, clear_outputs, **private)

        # -- history events -----------------------------------------------------------------------
        history_table.select(on.pick_history, collection, history_pick, **quiet)
        open_button.click(
            on.open_conversation, [history_pick, collection], [*clear_outputs, new_title], **private
        )
        rename_button.click(
            on.rename_conversation,
            [history_pick, new_title, collection],
            history_outputs,
            **private,
        )
        forget_button.click(
            on.delete_conversation,
            [history_pick, session, collection],
            [session, *history_outputs],
            **private,
        )
        for button, kind in ((export_md_button, "md"), (export_json_button, "json")):
            button.click(
                on.export_conversation,
                [history_pick, gr.State(kind), collection],
                [exported, preview],
                **private,
            )

        # -- documents events: one ingest at a time ---------------------------------------------
        one_ingest = {"concurrency_limit": 1, "concurrency_id": "ingest"}
        listing_outputs = [documents, chosen, status]
        listed = [
            add_button.click(  # also the scripting API for uploads
                on.add_documents,
                [uploads, collection],
                [*listing_outputs, uploads],
                api_name="add_documents",
                **one_ingest,
            ),
            delete_button.click(
                on.delete, [chosen, collection], listing_outputs, **one_ingest, **private
            ),
            reingest_button.click(
                on.reingest, collection, listing_outputs, **one_ingest, **private
            ),
        ]
        for event in listed:  # the chat's document picker follows the documents list
            event.then(on.picker, [picked, collection], picked, **quiet)

        # -- collections: a page load or a switch refreshes everything that depends on one ------
        def follow(event: Any) -> None:
            event.then(on.refresh, collection, listing_outputs, **private).then(
                on.picker, [picked, collection], picked, **quiet
            ).then(on.history_view, session, history_outputs, **quiet).then(
                on.describe, collection, settings_view, **quiet
            )

        follow(demo.load(on.collection_choices, collection, collection, **quiet))
        switched = [*clear_outputs, collection]
        follow(collection.input(on.switch_collection, [collection, session], switched, **private))
        created = create_button.click(  # a value set by a handler fires no .input: chained
            on.create_collection, new_collection, [collection, new_collection, status], **private
        )
        follow(created.success(on.switch_collection, [collection, session], switched, **private))

        gr.api(on.ask, api_name="ask", **answering)
        gr.api(on.chat, api_name="chat", **answering)
        gr.api(on.conversations, api_name="history")
        gr.api(on.conversation, api_name="conversation")
    return demo


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # gradio's own start-up probes
    share = _env_flag("GRADIO_SHARE")
    try:
        settings = Settings()
        options = launch_options(settings, share=share)
    except (RagError, ValueError) as exc:
        sys.exit(f"error: {exc}")
    qa = QA(settings)
    try:  # load the model and open (or build) the index now, not on the first question
        qa.reader()
        qa.embedder.embed_query("warm-up")
    except RagError as exc:  # still start: documents can be added from the browser
        log.warning("%s", exc)
    catalog = Catalog(qa)  # one set of collections and models for the UI and every API
    demo = create_app(catalog).queue(**QUEUE)
    if share:  # a share link tunnels Gradio's own server: the UI only
        log.warning("GRADIO_SHARE: the share link serves the web UI, not the APIs")
        demo.launch(**options)
    else:  # the UI mounted in the API app: REST, OpenAI and MCP beside the page
        serve(mount(create_api(catalog, settings), demo, options), settings)


if __name__ == "__main__":
    main()
