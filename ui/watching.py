"""The web UI's folder watcher (``RAG_WATCH=1``): started with the app, shown in Documents.

The watcher (:class:`rag.ingest.watch.Watcher`) runs in a thread the app owns: ``app.main``
starts it before serving and stops it when the server stops. The Documents tab shows its
last ingest (what changed, what was skipped and why) in a line a timer refreshes, so a user
who drops a file into the corpus folder sees it taken in without pressing anything.
"""

from __future__ import annotations

import gradio as gr

from rag.ingest.watch import Watcher
from rag.qa import QA
from ui.present import markdown_literal

#: Seconds between refreshes of the status line.
REFRESH_S = 2.0


def start_watcher(qa: QA) -> Watcher:
    """Watch the corpus folder of ``qa``'s collection; ingests go through ``qa.ingest``.

    Returns at once: the first (catch-up) ingest runs in the watcher's thread, and a
    question asked meanwhile is answered from the index as it is.
    """
    s = qa.settings
    s.corpus_dir.mkdir(parents=True, exist_ok=True)
    watcher = Watcher(s.corpus_dir, qa.ingest, quiet=s.watch_quiet, ignore=[s.index_dir])
    return watcher.start(timeout=0)


def watch_status(watcher: Watcher) -> str:
    """The status line: the folder watched, and the last ingest's outcome."""
    report = watcher.last
    folder = markdown_literal(str(watcher.corpus))
    if watcher.stopping:
        return f"Stopped watching {folder}."
    head = f"Watching {folder}: new, changed and deleted files are indexed"
    if report is None:
        return f"{head}. Checking the folder…"
    return f"{head}. Last: {markdown_literal(report.describe())}"


def watch_status_line(watcher: Watcher | None) -> None:
    """Add the refreshed status line to the page being laid out (nothing when not watching)."""
    if watcher is None:
        return
    line = gr.Markdown(watch_status(watcher), elem_id="rag-watch-status")
    gr.Timer(REFRESH_S).tick(
        lambda: watch_status(watcher),
        None,
        line,
        show_progress="hidden",
        api_visibility="private",
    )
