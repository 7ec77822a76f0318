"""Choose the margin at which the reader stops after its most promising window.

    python -m training.calibrate_stop rag/models/reader --write

The answerer ranks a question's windows by the question terms they hold and reads them best
first; with a ``stop_margin`` (:meth:`rag.read.model.ReaderModel.read`) it reads the first
window alone and, when that window's span clears the margin, answers without reading the
other five. Reading costs about a sixth, and the answer can change only where a later window
would have held a span with a still larger margin.

This measures how often that happens, on the training sources' dev splits asked as a user
asks them (each split a folder of documents, as ``bench.sources`` builds it, retrieved and
read through ``rag.QA``; never the 35 evaluation articles): every window of every question is
read, and for each candidate margin it counts the questions whose span would change, and
among those, how many of the stopped spans and of the full reading's spans hold the reference.
The stop margin is the lowest that changes at most ``--changed`` (2%) of the spans; it is
stored in ``reader.json`` (``stop_margin``, with the measurement under ``stop``); when no
margin of the grid is within the budget none is stored, and the reader reads every window.
The questions are read by ``ExtractiveAnswerer.find`` on the retrieved passages, the span
path of an answer without its table-row and named-document narrowing.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from bench.sources import sample, write_folder
from rag import QA, Settings
from rag.embed.embedder import Embedder
from rag.evaluation.metrics import containment
from rag.read.model import FIRST_WINDOWS
from training.qa_sources import SOURCES, load_source

#: Candidate margins, in the reader's margin units (its threshold is near 0, answers near 8).
GRID = [round(float(m), 2) for m in np.arange(0.0, 12.01, 0.25)]


def read_all(workdir: Path, per_source: int, seed: int, reader: str) -> list[dict[str, Any]]:
    """Every window's best span of each sampled dev question, in the answerer's reading order."""
    embedder = Embedder()
    rows = []
    for source in SOURCES:
        _, dev = load_source(source)
        work = workdir / source
        write_folder(source, dev, work / "corpus")
        settings = Settings(
            corpus_dir=work / "corpus",
            index_dir=work / "index",
            reader=reader,
            reader_stop_margin=float("inf"),  # read every window, to see what stopping skips
        )
        with QA(settings, embedder=embedder) as qa:
            qa.ingest()
            answerer = qa.answerer()
            for _, q in sample(dev, per_source, seed):
                passages = qa.retrieve(q["question"])
                found = answerer.find(q["question"], passages, spans_only=True)
                if found is None:
                    continue
                texts = [passages[s.passage].page_content[s.start : s.end] for s in found.spans]
                rows.append(
                    {
                        "source": source,
                        "margins": [s.margin for s in found.spans],
                        "texts": texts,
                        "references": [a["text"] for a in q["answers"]],
                    }
                )
    return rows


def effect(rows: list[dict[str, Any]], margin: float) -> dict[str, float]:
    """What stopping at ``margin`` does to the spans of ``rows``."""
    stopped = changed = better = worse = 0
    windows = 0
    for row in rows:
        margins, texts = row["margins"], row["texts"]
        best = int(np.argmax(margins))
        head = int(np.argmax(margins[:FIRST_WINDOWS]))
        if len(margins) > FIRST_WINDOWS and margins[head] >= margin:
            stopped += 1
            windows += FIRST_WINDOWS
            if best != head and texts[best] != texts[head]:
                changed += 1
                full = containment(texts[best], row["references"]) > 0
                early = containment(texts[head], row["references"]) > 0
                better += early and not full
                worse += full and not early
        else:
            windows += len(margins)
    n = len(rows) or 1
    return {
        "margin": margin,
        "stopped": round(stopped / n, 3),
        "changed": round(changed / n, 4),
        "changed_and_better": better,
        "changed_and_worse": worse,
        "windows_read": round(windows / n, 2),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("reader", type=Path)
    p.add_argument("--workdir", type=Path, default=Path("/tmp/sources"))
    p.add_argument("--per-source", type=int, default=60)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--changed", type=float, default=0.02, help="share of spans it may change")
    p.add_argument("--write", action="store_true", help="store the margin in reader.json")
    args = p.parse_args()
    rows = read_all(args.workdir, args.per_source, args.seed, str(args.reader))
    table = [effect(rows, m) for m in GRID]
    chosen = next((t for t in table if t["changed"] <= args.changed), None)
    out = {
        "questions": len(rows),
        "per_source": args.per_source,
        "seed": args.seed,
        "changed_budget": args.changed,
        "chosen": chosen,
        "full_reading_windows": round(sum(len(r["margins"]) for r in rows) / (len(rows) or 1), 2),
    }
    for t in table[::4]:
        print(json.dumps(t))
    print(json.dumps(out, indent=1))
    if args.write:
        path = args.reader / "reader.json"
        data = json.loads(path.read_text())
        data.update(stop=out)
        data.pop("stop_margin", None)  # no margin within the budget: the reader never stops
        if chosen is not None:
            data["stop_margin"] = chosen["margin"]
        path.write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    main()
