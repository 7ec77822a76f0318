"""The browser UI: chat with citations, a document viewer, collections and history.

``create_app(qa)`` assembles the page from its areas, one module each in ``ui/`` (the chat,
its sources panel, history, documents, settings, the collection picker, the scripting API):
each area lays out its components and wires its own events; the events that cross areas are
wired here, in :func:`build_page`, where the areas meet. ``python app.py`` reads
:class:`rag.Settings` once and launches with the safe defaults of :func:`launch_options`
(loopback only unless a password is set).
"""

import logging
import os
import sys
from dataclasses import dataclass

# Before gradio is imported: it reads these at import time.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import gradio as gr
from gradio.events import Dependency

from rag import QA, RagError, Settings
from rag.api import create_api
from rag.catalog import Catalog
from rag.ingest.watch import Watcher
from ui.api import ScriptingApi
from ui.backend import Backend, ChatSession
from ui.chat import Chat
from ui.collections import CollectionPicker, NewCollection
from ui.documents import Documents
from ui.history import History, notice_banner
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
from ui.settings import SettingsTab, settings_markdown
from ui.sources import Sources
from ui.watching import start_watcher, watch_status_line

__all__ = [
    "APP_DIR",
    "Backend",
    "ChatSession",
    "LaunchError",
    "Page",
    "blocked_paths",
    "build_page",
    "create_app",
    "is_loopback",
    "launch_options",
    "parse_auth",
    "settings_markdown",
]

log = logging.getLogger("rag.app")

HEADING = (
    "# Ask your documents\nAnswers quote your documents; every **[n]** links to "
    "the passage it comes from. When the documents do not say, the answer says so."
)
#: Queue: two questions answered at once on a 2-core CPU; more wait (up to 32), then "busy".
QUEUE = {"default_concurrency_limit": 2, "max_size": 32, "api_open": False}


@dataclass(frozen=True)
class Page:
    """The areas of the page, each holding its components and handlers."""

    collections: CollectionPicker
    chat: Chat
    sources: Sources
    history: History
    documents: Documents
    new_collection: NewCollection
    settings: SettingsTab
    api: ScriptingApi


def create_app(qa: QA | Catalog, watcher: Watcher | None = None) -> gr.Blocks:
    """The UI around one collection and those beside it.

    ``watcher`` (``RAG_WATCH=1``) keeps the collection's index current; the Documents tab
    then shows its last ingest.
    """
    with gr.Blocks(title="Ask your documents", analytics_enabled=False) as demo:
        build_page(demo, Backend(qa), watcher)
    return demo


def build_page(demo: gr.Blocks, backend: Backend, watcher: Watcher | None = None) -> Page:
    """Lay out every area inside ``demo`` (being built) and wire what crosses areas."""
    session = gr.State(ChatSession())  # the browser's chat: shared by chat, sources, history
    with gr.Row(equal_height=True):
        gr.Markdown(HEADING)
        collections = CollectionPicker(backend)
    notice = notice_banner()  # history's warning, above the tabs
    with gr.Tabs():
        with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False):
            # made first (unrendered) so the chat can show its answers' cards in it
            sources = Sources(backend, session, render=False)
            with gr.Column(scale=3):
                chat = Chat(backend, session, collections.dropdown, sources)
                history = History(backend, chat, notice)
            sources.render()  # right of the chat
        with gr.Tab("Documents", id="documents"):
            documents = Documents(backend, collections.dropdown)
            watch_status_line(watcher)
            new_collection = NewCollection(backend, collections, documents.status)
        with gr.Tab("Settings", id="settings"):
            settings = SettingsTab(backend, collections.dropdown)

    # -- where the areas meet ---------------------------------------------------------------
    for answered in chat.answered:  # the History list shows the conversation it went to
        history.refresh_after(answered)
    for changed in documents.changed:  # "Search only in" offers the documents there are
        chat.refresh_search_only_after(changed)

    def follow_collection(event: Dependency) -> Dependency:
        """After ``event``, each area shows the picked collection's (in turn, as listed)."""
        event = documents.refresh_after(event)
        event = chat.refresh_search_only_after(event)
        event = history.refresh_after(event)
        return settings.refresh_after(event)

    # a page load, another collection picked, a new one made: a new chat there, then the rest
    follow_collection(collections.on_page_load(demo))
    follow_collection(chat.switch_collection_on(collections.dropdown.input))
    new_collection.confirm_after(
        follow_collection(chat.switch_collection_on(new_collection.created.success))
    )

    api = ScriptingApi(backend)
    return Page(collections, chat, sources, history, documents, new_collection, settings, api)


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
        qa.snapshot()
        qa.embedder.embed_query("warm-up")
    except RagError as exc:  # still start: documents can be added from the browser
        log.warning("%s", exc)
    catalog = Catalog(qa)  # one set of collections and models for the UI and every API
    watcher = start_watcher(qa) if settings.watch else None  # owned by the app: stopped below
    try:
        demo = create_app(catalog, watcher).queue(**QUEUE)
        if share:  # a share link tunnels Gradio's own server: the UI only
            log.warning("GRADIO_SHARE: the share link serves the web UI, not the APIs")
            demo.launch(**options)
        else:  # the UI mounted in the API app: REST, OpenAI and MCP beside the page
            serve(mount(create_api(catalog, settings), demo, options), settings)
    finally:
        if watcher is not None:
            watcher.stop()


if __name__ == "__main__":
    main()
