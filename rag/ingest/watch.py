"""Keep an index in line with its corpus folder: re-ingest a few seconds after files stop changing.

A :class:`Watcher` follows the folder with ``watchfiles`` (the operating system's change
notifications, not a polling loop of ours) and runs the ordinary incremental ingest
(:func:`rag.ingest.pipeline.ingest`, through the callable it is given) once the folder has
been quiet for ``quiet`` seconds: no change notification *and* the same size and mtime of
every file as when the last notification came. So a burst of files (a copy of 200) is one
ingest, and a file still being written (its size or mtime still moving) is never read half:
it is read once its writer has stopped for the whole quiet period.

What the ingest already guarantees carries over: answers keep coming from the previous
generation until the new one is published, a malformed file is skipped with its reason
(:attr:`IngestSummary.skipped`), and a second ingest (an upload in the web UI, ``rag
ingest``) is refused while one runs, in which case the watcher tries again a quiet period
later. No error of one ingest stops the watcher: it is reported (:attr:`WatchReport.error`)
and the next change is ingested as usual.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from watchfiles import Change, DefaultFilter, watch

from rag.errors import CorpusError, IndexBusyError, RagError
from rag.results import IngestSummary

log = logging.getLogger(__name__)

#: Seconds the folder must stay still before it is ingested (``RAG_WATCH_QUIET``'s default).
DEFAULT_QUIET = 2.0
#: How often (ms) the notification wait wakes to check the quiet period and the stop flag.
_TICK_MS = 200

Snapshot = dict[str, tuple[int, int]]


@dataclass(frozen=True)
class WatchReport:
    """One ingest the watcher ran: what it changed, or why it failed."""

    finished: float  # time.time() when it ended
    summary: IngestSummary | None = None
    error: str = ""
    #: the ingest run when watching began (catching up with changes made while not watching)
    initial: bool = False

    @property
    def changed(self) -> bool:
        return self.summary is not None and self.summary.changed

    def describe(self) -> str:
        """One line for a person: what changed and what was skipped, with the reasons."""
        when = time.strftime("%H:%M:%S", time.localtime(self.finished))
        if self.summary is None:
            return f"{when}: the index was not updated: {self.error}"
        s = self.summary
        parts = [
            f"{len(items)} {label}"
            for items, label in ((s.added, "added"), (s.updated, "updated"), (s.removed, "removed"))
            if items
        ]
        head = f"{when}: index updated ({', '.join(parts)})" if parts else f"{when}: up to date"
        if s.skipped:
            reasons = "; ".join(f"{f.path}: {f.reason}" for f in s.skipped[:5])
            more = f" and {len(s.skipped) - 5} more" if len(s.skipped) > 5 else ""
            head += f"; skipped {len(s.skipped)}: {reasons}{more}"
        return head


class Watcher:
    """Re-ingests ``corpus`` whenever it has changed and then been quiet for ``quiet`` seconds.

    Args:
        corpus: the folder to follow (it must exist).
        ingest: runs one incremental ingest (``QA.ingest``); the watcher calls it from its
            own thread, one at a time.
        quiet: seconds without change (notifications, sizes, mtimes) before an ingest.
        on_report: called after every ingest with its :class:`WatchReport` (the web UI's
            status line, the CLI's output, a test's count of ingests).
        ignore: folders whose changes do not count: the index, should it lie inside the
            corpus (its own writes would otherwise start the next ingest, for ever).

    Hidden files and folders (a leading dot) are ignored, as the ingest ignores them: an
    editor's swap file or a sync tool's journal neither starts an ingest nor delays one.
    """

    def __init__(
        self,
        corpus: Path,
        ingest: Callable[[], IngestSummary],
        *,
        quiet: float = DEFAULT_QUIET,
        on_report: Callable[[WatchReport], None] | None = None,
        ignore: Sequence[Path] = (),
    ) -> None:
        self.corpus = corpus
        self._filter = _CorpusFilter(corpus, ignore)
        self.quiet = quiet
        self._ingest = ingest
        self._on_report = on_report
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._reports: list[WatchReport] = []

    # -- what happened -------------------------------------------------------------------------
    @property
    def reports(self) -> list[WatchReport]:
        """Every ingest so far, oldest first (a copy)."""
        with self._lock:
            return list(self._reports)

    @property
    def last(self) -> WatchReport | None:
        with self._lock:
            return self._reports[-1] if self._reports else None

    # -- running -------------------------------------------------------------------------------
    def start(self, *, timeout: float | None = None) -> Watcher:
        """Run in a daemon thread; return once watching has begun and the catch-up ingest ran.

        ``timeout`` bounds the wait for that (None: no bound); the thread goes on regardless.
        """
        if self._thread is not None:
            raise RuntimeError("the watcher is already running")
        if not self.corpus.is_dir():
            raise CorpusError(f"corpus folder {self.corpus} does not exist: create it first")
        self._thread = threading.Thread(target=self.run, name="rag-watch", daemon=True)
        self._thread.start()
        self._ready.wait(timeout)
        return self

    def stop(self, timeout: float | None = 30.0) -> None:
        """Stop watching; wait up to ``timeout`` s for an ingest under way to finish."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:
        """Watch until :meth:`stop` (blocks; :meth:`start` runs it in a thread)."""
        if not self.corpus.is_dir():
            self._ready.set()
            raise CorpusError(f"corpus folder {self.corpus} does not exist: create it first")
        changes = watch(
            self.corpus,
            watch_filter=self._filter,
            debounce=_TICK_MS,
            step=50,
            rust_timeout=_TICK_MS,
            yield_on_timeout=True,
            stop_event=self._stop,
            recursive=True,
        )
        try:
            next(changes, None)  # the notification watch is set up: nothing can be missed now
            log.info("watching %s (quiet period %g s)", self.corpus, self.quiet)
            pending, last_change, seen = self._run_ingest(initial=True)
            self._ready.set()
            for batch in changes:
                now = time.monotonic()
                if batch:
                    log.debug("changes in %s: %d", self.corpus, len(batch))
                    pending, last_change, seen = True, now, snapshot(self.corpus, self._filter)
                    continue
                if not pending or now - last_change < self.quiet:
                    continue
                still = snapshot(self.corpus, self._filter)
                if still != seen:  # changed without a notification (a slow network folder)
                    last_change, seen = now, still
                    continue
                pending, last_change, seen = self._run_ingest()
        finally:
            self._ready.set()
            changes.close()
            log.info("stopped watching %s", self.corpus)

    def _run_ingest(self, *, initial: bool = False) -> tuple[bool, float, Snapshot]:
        """One ingest; returns (still pending, last change time, snapshot) to go on from.

        Files that change while it runs are compared with the snapshot taken before it, so
        they are ingested next even if their notifications were folded into this round.
        """
        before = snapshot(self.corpus, self._filter)
        try:
            summary = self._ingest()
            report = WatchReport(time.time(), summary=summary, initial=initial)
        except IndexBusyError as exc:  # an upload or `rag ingest` holds the index: later
            log.info("%s; trying again in %g s", exc, self.quiet)
            return True, time.monotonic(), before
        except RagError as exc:
            report = WatchReport(time.time(), error=str(exc), initial=initial)
        except Exception as exc:  # the watcher outlives any one ingest
            log.exception("the ingest of %s failed", self.corpus)
            report = WatchReport(time.time(), error=f"{type(exc).__name__}: {exc}", initial=initial)
        log.info("%s", report.describe())
        with self._lock:
            self._reports.append(report)
        if self._on_report is not None:
            try:
                self._on_report(report)
            except Exception:  # a listener's bug must not stop the watching
                log.exception("a watch listener failed")
        after = snapshot(self.corpus, self._filter)
        return after != before, time.monotonic(), after


class _CorpusFilter(DefaultFilter):
    """Which changes count: watchfiles' default filter, less hidden and ignored paths.

    The default filter already leaves out caches, VCS folders and editor temp files.
    """

    def __init__(self, corpus: Path, ignore: Sequence[Path]) -> None:
        super().__init__()
        self._root = os.path.realpath(corpus)
        self._ignore = tuple(os.path.realpath(p) for p in ignore)

    def __call__(self, change: Change, path: str) -> bool:
        return super().__call__(change, path) and self.counts(path)

    def counts(self, path: str) -> bool:
        """Whether a change of ``path`` is a change of the corpus."""
        real = os.path.realpath(path)
        if any(real == p or real.startswith(p + os.sep) for p in self._ignore):
            return False
        rel = os.path.relpath(real, self._root)
        return not any(
            part.startswith(".") and part not in (".", "..") for part in rel.split(os.sep)
        )


def snapshot(folder: Path, keep: _CorpusFilter | None = None) -> Snapshot:
    """Size and mtime of every file under ``folder`` that ``keep`` counts (``stat`` only)."""
    found: Snapshot = {}
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            path = os.path.join(dirpath, name)
            if keep is not None and not keep.counts(path):
                continue
            try:
                st = os.stat(path)
            except OSError:  # removed between the listing and the stat: a change seen later
                continue
            found[path] = (st.st_size, st.st_mtime_ns)
    return found
