"""The folder watcher: real files, real notifications, real ingests and the real models.

Waits are on conditions (an ingest report naming the file); the wall-clock bounds are hang
checks only. How soon a copied file is answerable (the issue's 10 s) depends on the machine,
so ``python -m bench.watch_latency`` measures it.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rag.ingest.watch import Watcher, WatchReport
from rag.qa import QA
from rag.settings import Settings

pytestmark = pytest.mark.slow

HANG = 180.0  # seconds: an ingest that has not come by then is a hang, not a slow machine
REPO = Path(__file__).resolve().parents[2]

BASE = (
    "The Orchard Street bakery opens at six in the morning. It is known for its rye bread, "
    "which is baked in a wood-fired oven that the owner's grandfather built in 1952.\n"
)
LIGHTHOUSE = (
    "The Varne lighthouse was designed by the engineer Margaret Holloway. It was first lit in "
    "1887 and stands on the northern cliff of the island of Brenn.\n"
)
FERRY = (
    "The ferry to the island of Brenn leaves the harbour of Dunmere twice a day. The crossing "
    "takes forty minutes in calm weather.\n"
)


class Recorder:
    """Collects the watcher's reports and lets a test wait for one that matches."""

    def __init__(self) -> None:
        self.reports: list[WatchReport] = []
        self._changed = threading.Condition()

    def __call__(self, report: WatchReport) -> None:
        with self._changed:
            self.reports.append(report)
            self._changed.notify_all()

    def wait(self, what: Callable[[WatchReport], bool], timeout: float = HANG) -> WatchReport:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for report in self.reports:
                    if what(report):
                        return report
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching ingest within {timeout} s: {self.reports}")
                self._changed.wait(left)


def added(name: str) -> Callable[[WatchReport], bool]:
    return lambda r: r.summary is not None and name in r.summary.added


def removed(name: str) -> Callable[[WatchReport], bool]:
    return lambda r: r.summary is not None and name in r.summary.removed


@pytest.fixture
def watched(tmp_path: Path, embedder) -> Iterator[tuple[QA, Watcher, Recorder, Path]]:
    """A corpus with one document, its QA, and a running watcher (catch-up ingest done)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "bakery.txt").write_text(BASE, encoding="utf-8")
    qa = QA(Settings(corpus_dir=corpus, index_dir=tmp_path / "index"), embedder=embedder)
    recorder = Recorder()
    watcher = Watcher(corpus, qa.ingest, quiet=qa.settings.watch_quiet, on_report=recorder)
    watcher.start(timeout=HANG)
    first = recorder.wait(lambda r: r.initial)
    assert first.summary is not None and first.summary.added == ["bakery.txt"]
    yield qa, watcher, recorder, tmp_path
    watcher.stop(timeout=HANG)
    qa.close()


def cited(answer) -> set[str]:
    return {c.source for c in answer.citations}


def test_a_file_copied_in_is_answerable(watched):
    qa, _watcher, recorder, tmp_path = watched
    staged = tmp_path / "lighthouse.txt"
    staged.write_text(LIGHTHOUSE, encoding="utf-8")
    shutil.copy(staged, qa.settings.corpus_dir / "lighthouse.txt")
    recorder.wait(added("lighthouse.txt"))
    answer = qa.ask("Who designed the Varne lighthouse?")
    assert "Holloway" in answer.text and cited(answer) == {"lighthouse.txt"}


def test_deleted_and_renamed_files(watched):
    qa, _watcher, recorder, _ = watched
    corpus = qa.settings.corpus_dir
    (corpus / "lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")
    recorder.wait(added("lighthouse.txt"))
    assert cited(qa.ask("Who designed the Varne lighthouse?")) == {"lighthouse.txt"}

    (corpus / "lighthouse.txt").rename(corpus / "varne.txt")  # a rename: one ingest, both sides
    report = recorder.wait(added("varne.txt"))
    assert report.summary.removed == ["lighthouse.txt"]
    assert cited(qa.ask("Who designed the Varne lighthouse?")) == {"varne.txt"}

    (corpus / "varne.txt").unlink()
    recorder.wait(removed("varne.txt"))
    answer = qa.ask("Who designed the Varne lighthouse?")
    assert "varne.txt" not in cited(answer) and "Holloway" not in answer.text
    assert [d.source for d in qa.documents()] == ["bakery.txt"]


def test_200_files_copied_at_once_are_one_ingest(watched):
    qa, watcher, recorder, tmp_path = watched
    staged = tmp_path / "batch"
    staged.mkdir()
    for i in range(200):
        (staged / f"note-{i:03d}.txt").write_text(
            f"Note {i}: the storeroom key number {i} hangs on hook {i + 7}.\n", encoding="utf-8"
        )
    before = len(recorder.reports)
    shutil.copytree(staged, qa.settings.corpus_dir / "batch")
    report = recorder.wait(lambda r: r.summary is not None and len(r.summary.added) == 200)
    # Let a second ingest happen if one were coming: two more quiet periods, then count
    time.sleep(2 * watcher.quiet + 1)
    ingests = recorder.reports[before:]
    assert ingests == [report], [r.describe() for r in ingests]
    assert len(qa.documents()) == 201


def test_a_file_still_being_written_is_not_indexed_half(watched):
    qa, watcher, recorder, _ = watched
    path = qa.settings.corpus_dir / "log.txt"
    lines = [
        f"Entry {i}: the tide gauge at Dunmere read {100 + i} centimetres.\n" for i in range(12)
    ]
    lines.append("Final entry: the harbour master of Dunmere is Tomas Reyes.\n")
    step = watcher.quiet / 4  # the writer pauses, but never for a whole quiet period
    with open(path, "w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(line)
            handle.flush()
            time.sleep(step)
    report = recorder.wait(added("log.txt"))
    touched = [
        r
        for r in recorder.reports
        if r.summary and "log.txt" in r.summary.added + r.summary.updated
    ]
    assert touched == [report], "the file was indexed before its writer finished"
    assert qa.document_text("log.txt").rstrip().endswith("Tomas Reyes.")


def test_the_watcher_survives_a_malformed_file(watched):
    qa, watcher, recorder, _ = watched
    corpus = qa.settings.corpus_dir
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog" + bytes(range(256)))
    (corpus / "empty.docx").write_bytes(b"PK\x03\x04 not really a zip")
    report = recorder.wait(
        lambda r: r.summary is not None and {s.path for s in r.summary.skipped} >= {"broken.pdf"}
    )
    reasons = {s.path: s.reason for s in report.summary.skipped}
    assert reasons["broken.pdf"] and reasons["empty.docx"]
    assert "broken.pdf" in report.describe()
    (corpus / "ferry.txt").write_text(FERRY, encoding="utf-8")
    recorder.wait(added("ferry.txt"))
    assert watcher._thread is not None and watcher._thread.is_alive()
    answer = qa.ask("How long does the ferry crossing to Brenn take?")
    assert cited(answer) == {"ferry.txt"}


def test_web_ui_status_line(watched):
    """What the Documents tab shows: the folder and the last ingest, with skips and reasons."""
    from ui.watching import watch_status

    qa, watcher, recorder, _ = watched
    (qa.settings.corpus_dir / "broken.pdf").write_bytes(b"%PDF-1.4 truncated")
    recorder.wait(lambda r: r.summary is not None and r.summary.skipped)
    text = watch_status(watcher)
    assert "Watching" in text and "broken" in text and "skipped 1" in text
    watcher.stop(timeout=HANG)
    assert watch_status(watcher).startswith("Stopped watching")


def test_hidden_files_neither_start_nor_delay_an_ingest(watched):
    """An editor's swap file, written on and on, is not the corpus (the ingest skips it too)."""
    qa, watcher, recorder, _ = watched
    corpus = qa.settings.corpus_dir
    before = len(recorder.reports)
    hidden = corpus / ".lighthouse.txt.swp"
    (corpus / "lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")
    deadline = time.monotonic() + HANG  # the swap file changes until the ingest comes
    while len(recorder.reports) == before:
        assert time.monotonic() < deadline, "the changing hidden file held the ingest back"
        hidden.write_text(f"{time.monotonic()}\n", encoding="utf-8")
        time.sleep(watcher.quiet / 5)
    report = recorder.wait(added("lighthouse.txt"))
    assert recorder.reports[before:] == [report]
    assert ".lighthouse.txt.swp" not in {s.path for s in report.summary.skipped}
