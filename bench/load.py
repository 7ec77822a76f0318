"""Load: simulated users drive the running web UI through ``gradio_client`` (loopback only).

``python -m bench.load [--users 20] [--seconds 60] [--burst 100]`` starts ``app.py`` on a free
loopback port over a private copy of ``corpus/`` (or uses ``--url``), then:

1. ``--users`` users ask questions back to back for ``--seconds``;
2. a burst of ``--burst`` simultaneous questions, more than the queue holds (32), so the
   extras must get Gradio's "queue is full" answer, not a crash;
3. the server idles and its memory is read again.

It reports answered requests, busy answers, errors, p50/p95 latency and the server's RSS
(before, peak, after), prints a table and writes ``bench/results/load.json``. Bounded in count
and time by its arguments; ``tests/test_load.py`` runs a short version.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tests.processes import ROOT, app_py

QUESTIONS = [
    "When did the Taliban seize Kabul?",
    "Who was named defense minister by Ghani?",
    "How many American troops were going to be withdrawn?",
    "What is the main issue of contention between Afghanistan and Pakistan?",
    "Who won the 2018 FIFA World Cup?",
    "Where is the Haqqani Taliban Network given a safe haven?",
]
BUSY = ("queue is full", "too many", "busy")


@dataclass
class LoadReport:
    users: int
    seconds: float
    answered: int = 0
    busy: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    burst: int = 0
    burst_answered: int = 0
    burst_busy: int = 0
    rss_before_mb: float = 0.0
    rss_peak_mb: float = 0.0
    rss_after_mb: float = 0.0
    alive_after: bool = False

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def summary(self) -> dict[str, object]:
        data = asdict(self)
        data.pop("latencies")
        data["p50_s"] = round(self.percentile(0.5), 3)
        data["p95_s"] = round(self.percentile(0.95), 3)
        return data


@contextmanager
def running_app(work: Path) -> Iterator[tuple[str, int]]:
    """``app.py`` in a subprocess over a private corpus and index; yields (url, pid)."""
    shutil.copytree(ROOT / "corpus", work / "corpus", dirs_exist_ok=True)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("RAG_")},
        "RAG_CORPUS_DIR": str(work / "corpus"),
        "RAG_INDEX_DIR": str(work / "index"),
        "HF_HUB_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    with app_py(work, env, startup_timeout=300) as (url, process):
        yield url, process.pid


def _ask(url: str, question: str, gate: threading.Barrier | None = None) -> tuple[str, float]:
    """One question from a fresh client: ("ok" | "busy" | error text, seconds).

    With ``gate``, the client connects first and asks when every other one is ready too.
    """
    from gradio_client import Client

    started = time.perf_counter()
    try:
        # A generous timeout: on a loaded 2-core machine a hundred clients fetching the app's
        # config at once wait for it; slow is measured here, not an error.
        client = Client(url, verbose=False, httpx_kwargs={"timeout": 120}, analytics_enabled=False)
        if gate is not None:
            gate.wait(timeout=120)
            started = time.perf_counter()
        text, _payload = client.predict(question, None, api_name="/ask")
        outcome = "ok" if text else "empty answer"
    except Exception as exc:
        message = str(exc).lower()
        outcome = (
            "busy" if any(word in message for word in BUSY) else f"{type(exc).__name__}: {exc}"
        )
    return outcome, time.perf_counter() - started


def drive(
    url: str, pid: int, *, users: int, seconds: float, burst: int, idle: float = 10.0
) -> LoadReport:
    """Run the three stages against a server whose process is ``pid``."""
    import psutil

    server = psutil.Process(pid)
    rss = lambda: server.memory_info().rss / 1e6  # noqa: E731
    report = LoadReport(users=users, seconds=seconds, burst=burst)
    _ask(url, QUESTIONS[0])  # warm: the model and index are loaded
    report.rss_before_mb = report.rss_peak_mb = rss()
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def user(n: int) -> None:
        i = n
        while time.monotonic() < stop:
            outcome, took = _ask(url, QUESTIONS[i % len(QUESTIONS)])
            i += 1
            with lock:
                if outcome == "ok":
                    report.answered += 1
                    report.latencies.append(took)
                elif outcome == "busy":
                    report.busy += 1
                else:
                    report.errors.append(outcome)

    gate = threading.Barrier(burst) if burst else None

    def burst_one(n: int) -> None:
        outcome, _ = _ask(url, QUESTIONS[n % len(QUESTIONS)], gate)
        with lock:
            if outcome == "ok":
                report.burst_answered += 1
            elif outcome == "busy":
                report.burst_busy += 1
            else:
                report.errors.append(outcome)

    for stage, count, target in (("users", users, user), ("burst", burst, burst_one)):
        threads = [threading.Thread(target=target, args=(n,), daemon=True) for n in range(count)]
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            report.rss_peak_mb = max(report.rss_peak_mb, rss())
            time.sleep(0.25)
        del stage
    time.sleep(idle)
    report.rss_after_mb = rss()
    report.alive_after = server.is_running() and _ask(url, QUESTIONS[0])[0] == "ok"
    return report


def main(argv: list[str] | None = None) -> LoadReport:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--burst", type=int, default=100, help="simultaneous questions (> 32)")
    parser.add_argument("--url", help="use a running app (with --pid) instead of starting one")
    parser.add_argument("--pid", type=int, help="process id of the app at --url")
    args = parser.parse_args(argv)
    if args.url:
        report = drive(args.url, args.pid, users=args.users, seconds=args.seconds, burst=args.burst)
    else:
        with (
            tempfile.TemporaryDirectory(prefix="rag-load-") as work,
            running_app(Path(work)) as (url, pid),
        ):
            report = drive(url, pid, users=args.users, seconds=args.seconds, burst=args.burst)
    from bench.common import table, write_json

    summary = report.summary()
    table(
        "Load on the web UI (gradio_client, loopback)",
        ["measure", "value"],
        [[k, v if not isinstance(v, list) else len(v)] for k, v in summary.items()],
    )
    write_json("load", summary | {"errors": report.errors[:20]})
    return report


if __name__ == "__main__":
    main()
