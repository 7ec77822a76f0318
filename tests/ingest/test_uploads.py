"""A user's ingest after an upload waits for one already running instead of failing busy."""

from __future__ import annotations

import threading
import time

import pytest

from rag import QA
from rag.errors import IndexBusyError
from rag.ingest.uploads import when_free
from rag.store.generations import IndexDir


def test_an_upload_ingest_waits_for_a_running_one_then_runs(make_corpus, embedder):
    settings = make_corpus({"leave.txt": "Staff at Nordlys get 27 days of paid leave a year."})
    qa = QA(settings, embedder=embedder)
    attempts: list[float] = []
    held, release = threading.Event(), threading.Event()

    def hold() -> None:  # another ingest, as a new collection's catch-up ingest would be
        with IndexDir(settings.index_dir).writing():
            held.set()
            release.wait(120)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(60)
    with pytest.raises(IndexBusyError, match="busy"):  # without waiting: busy, as before
        when_free(qa.ingest, wait=0)

    def ingest():
        attempts.append(time.monotonic())
        return qa.ingest()

    result: list = []
    waiter = threading.Thread(target=lambda: result.append(when_free(ingest, wait=300)))
    waiter.start()
    for _ in range(600):  # until it has been turned away at least twice (a hang bound only)
        if len(attempts) >= 2:
            break
        time.sleep(0.1)
    assert len(attempts) >= 2 and not result  # still waiting while the index is held
    release.set()
    holder.join(60)
    waiter.join(120)
    assert result and result[0].added == ["leave.txt"]
    assert qa.ask("How many days of paid leave do staff get?").citations[0].source == "leave.txt"
    qa.close()
