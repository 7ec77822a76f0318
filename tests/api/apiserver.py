"""The whole server (the UI mounted in the API app) as app.py serves it, on a loopback port."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from rag import QA, Settings
from rag.api import create_api
from rag.catalog import Catalog
from rag.embed.embedder import Embedder
from tests.uiserver import ROOT, app, free_port


@dataclass(frozen=True)
class Running:
    url: str
    settings: Settings
    qa: QA


def shipped_copy(root: Path) -> Path:
    """A private copy of the shipped corpus/ under ``root`` (kept if already there)."""
    corpus = root / "corpus"
    if not corpus.exists():
        shutil.copytree(ROOT / "corpus", corpus)
    return corpus


@contextmanager
def serve_app(settings: Settings, qa: QA, *, ui: bool = True) -> Iterator[Running]:
    """Serve ``qa``'s catalog as ``app.main`` does (UI mounted in the API app) in a thread.

    ``settings`` give the access rules (``host`` is where the rules think it listens; the
    socket itself is always loopback, so a test can play "off loopback" safely).
    """
    catalog = Catalog(qa)
    api = create_api(catalog, settings)
    if ui:
        demo = app.create_app(catalog).queue(**app.QUEUE)
        api = app.mount(api, demo, app.launch_options(settings))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        assert thread.is_alive(), "the server did not start"
        assert time.monotonic() < deadline, "the server did not start within 120 s"
        time.sleep(0.05)
    try:
        yield Running(f"http://127.0.0.1:{port}", settings, qa)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def indexed(root: Path, embedder: Embedder, **overrides: object) -> tuple[Settings, QA]:
    """Settings and an indexed ``QA`` over a copy of the shipped corpus under ``root``."""
    corpus = shipped_copy(root)
    settings = Settings(corpus_dir=corpus, index_dir=root / "index", **overrides)
    qa = QA(settings, embedder=embedder)
    qa.ingest()
    return settings, qa
