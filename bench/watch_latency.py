"""How long after a file is copied into a watched corpus it can be answered (issue 23: 10 s).

A benchmark, not a test: the watcher's tests check that a copied file becomes answerable at
all (with a hang check); how soon depends on the machine, so it is measured here. Each round
copies a new one-paragraph document into a corpus that ``rag.ingest.watch.Watcher`` follows
(the quiet period ``RAG_WATCH_QUIET``, default 2 s) and times copy -> ingest published ->
the question answered from it.

    .venv/bin/python -m bench.watch_latency [--rounds 5]

Prints each round and the median; writes bench/results/watch_latency.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path

from rag.ingest.watch import Watcher, WatchReport
from rag.qa import QA
from rag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
TEXT = (
    "The {name} lighthouse was designed by the engineer Margaret {name}son. It was first lit "
    "in 1887 and stands on the northern cliff of the island of Brenn.\n"
)
NAMES = ("Varne", "Tolla", "Skerd", "Mirran", "Ostle", "Hallow", "Brisk", "Quenby")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="watch-latency-"))
    corpus = work / "corpus"
    corpus.mkdir()
    (corpus / "start.txt").write_text("The bakery opens at six in the morning.\n")
    qa = QA(Settings(corpus_dir=corpus, index_dir=work / "index"))
    published = threading.Event()

    def on_report(report: WatchReport) -> None:
        if report.summary is not None and report.summary.added:
            published.set()

    watcher = Watcher(corpus, qa.ingest, quiet=qa.settings.watch_quiet, on_report=on_report)
    watcher.start(timeout=600)
    published.wait(600)
    qa.ask("When does the bakery open?")  # models loaded: each round times the watching only
    times = []
    for name in NAMES[: args.rounds]:
        published.clear()
        staged = work / f"{name}.txt"
        staged.write_text(TEXT.format(name=name), encoding="utf-8")
        copied = time.monotonic()
        staged.replace(corpus / staged.name)
        published.wait(600)
        answer = qa.ask(f"Who designed the {name} lighthouse?")
        took = time.monotonic() - copied
        ok = f"{name}son" in answer.text
        times.append(took)
        print(f"{name}: answerable {took:.1f} s after the copy ({'right' if ok else 'WRONG'})")
    watcher.stop()
    qa.close()
    median = statistics.median(times)
    print(f"median {median:.1f} s over {len(times)} copies (issue 23's bound: 10 s)")
    out = ROOT / "bench" / "results" / "watch_latency.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"seconds": times, "median": median, "quiet": qa.settings.watch_quiet})
    )


if __name__ == "__main__":
    main()
