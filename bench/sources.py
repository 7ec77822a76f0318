"""Each training source's dev split as a user's folder, asked through ``rag.QA`` (issue 19).

    python -m bench.sources --workdir /tmp/sources --per-source 60
    python -m bench.sources --baseline-reader /tmp/reader-v2       # and another reader, same run
    python -m bench.sources --only wtq --baseline-no-whole-tables   # table questions, with and
                                                                   # without reading tables whole

The reader's own dev metrics (``training.calibrate_reader``) read the gold passage. Here each
source's dev articles (never trained on: :func:`training.qa_sources.load_source`) become a
folder of documents, one per article, indexed by ``rag`` as it indexes anything: Wikipedia
articles, review sets and reports as ``.txt`` (title, then paragraphs), WikiTableQuestions'
tables as the ``.csv`` files they came from, so a cell question is asked of a folder of CSVs.
A seeded sample of up to ``--per-source`` answerable questions a source is then asked over
its own folder, as a user would, and reported:

- EM / F1 of the reader's span (:class:`bench.reader.SpanAnswerer`) against the references;
- the answer as shipped (its answer shape): contains the reference (for a table, the answer
  holds the cell), the right document cited, and refusals (every question is answerable, so
  every refusal is a false one);
- pooled over the sources, the threshold at which the answers *as asked* would meet the 10%
  refusal budget, and what it would cost (:func:`open_threshold`). The shipped threshold is
  calibrated per passage on the dev splits (``training.calibrate_reader``); over a folder the
  answerer keeps the best of several passages' spans, so an answer's margin there runs higher
  and the same budget allows a higher bar.

Prints one table and writes ``--out`` (JSON). Indexing the seven folders takes a few minutes
on two cores, once; the questions about as long again per reader.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import table  # noqa: E402
from bench.reader import pred, span_answerer, with_baseline  # noqa: E402
from rag import QA, Answer, Settings  # noqa: E402
from rag.evaluation.metrics import containment, exact_match, token_f1  # noqa: E402
from rag.read import (  # noqa: E402
    NAME_ABSTAINER,
    RELATION_ABSTAINER,
    YEAR_ABSTAINER,
    ExtractiveAnswerer,
)
from training.qa_sources import SOURCES, load_source, wtq_tables  # noqa: E402


def file_name(index: int, title: str, suffix: str) -> str:
    """A safe, unique file name for article ``index`` titled ``title``."""
    stem = re.sub(r"[^A-Za-z0-9]+", "_", title).strip("_")[:60] or "doc"
    return f"{index:04d}_{stem}{suffix}"


def write_folder(source: str, articles: list[dict], corpus: Path) -> dict[str, str]:
    """One document per article; returns each article title's file name."""
    corpus.mkdir(parents=True, exist_ok=True)
    tables = wtq_tables() if source == "wtq" else {}
    names: dict[str, str] = {}
    for i, article in enumerate(articles):
        title = article["title"]
        if source == "wtq":
            name, text = file_name(i, title, ".csv"), tables[title]
        else:
            paragraphs = [p["context"] for p in article["paragraphs"]]
            name, text = file_name(i, title, ".txt"), "\n\n".join([title, *paragraphs])
        path = corpus / name
        if not path.exists():
            path.write_text(text, encoding="utf-8")
        names[title] = name
    return names


def sample(articles: list[dict], n: int, seed: int) -> list[tuple[str, dict]]:
    """Up to ``n`` (article title, question) pairs, seeded."""
    pool = [(a["title"], q) for a in articles for p in a["paragraphs"] for q in p["qas"]]
    return random.Random(seed).sample(pool, min(n, len(pool)))


def margin(answer: Answer) -> float:
    """What a threshold compares: -inf refused by a check, +inf a whole-table cell (none)."""
    if answer.answerer in (YEAR_ABSTAINER, NAME_ABSTAINER, RELATION_ABSTAINER):
        return -math.inf
    return answer.score if answer.answerer == ExtractiveAnswerer.name else math.inf


def open_threshold(margins: list[tuple[float, bool]], budget: float = 0.1) -> dict[str, Any]:
    """The threshold refusing ``budget`` of these (margin, right) answers, and what it costs."""
    if not margins:
        return {}
    ordered = sorted(m for m, _ in margins)
    t = ordered[min(int(budget * len(ordered)), len(ordered) - 1)]
    return {
        "answers": len(margins),
        "threshold": round(t, 4),
        "refused": sum(m < t for m, _ in margins),
        "right_refused": sum(m < t and ok for m, ok in margins),
        "wrong_refused": sum(m < t and not ok for m, ok in margins),
    }


def ask_all(qa: QA, questions: list[tuple[str, dict]], names: dict[str, str]) -> dict[str, Any]:
    spans = span_answerer(qa.answerer())
    em = f1 = holds = right = refused = unread = 0.0
    margins: list[tuple[float, bool]] = []
    for title, q in questions:
        refs = [a["text"] for a in q["answers"]]
        answer = qa.ask(q["question"])
        span = spans(q["question"], qa.retrieve(q["question"]))
        em += exact_match(pred(span), refs)
        f1 += token_f1(pred(span), refs)
        holds_ref = bool(containment(pred(answer), refs))
        holds += holds_ref
        margins.append((margin(answer), holds_ref))
        right += any(c.source == names[title] for c in answer.citations)
        refused += answer.abstained
        unread += answer.answerer in (YEAR_ABSTAINER, NAME_ABSTAINER)
    n = len(questions) or 1
    return {
        "questions": len(questions),
        "em": round(100 * em / n, 1),
        "f1": round(100 * f1 / n, 1),
        "contains": round(holds / n, 3),
        "right_document_cited": round(right / n, 3),
        "false_refusals": round(refused / n, 3),
        # of those, refused unread: a year or a name no passage mentions (rag.read.years, .names)
        "refused_unread": int(unread),
        "margins": margins,
    }


class NoWholeTables(QA):
    """``QA`` whose answerer never reads a table whole (rag.read.table_ops): the baseline."""

    def answerer(self) -> Any:
        answerer = super().answerer()
        answerer.document = None
        return answerer


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workdir", type=Path, default=Path("/tmp/sources"))
    p.add_argument("--per-source", type=int, default=60)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--baseline-reader", help="another reader folder, compared in the same run")
    p.add_argument(
        "--baseline-no-whole-tables",
        action="store_true",
        help="compare with the same reader never reading a table whole, in the same run",
    )
    p.add_argument("--only", nargs="*", choices=SOURCES, help="these sources only")
    p.add_argument("--out", type=Path, default=Path("/tmp/sources/sources.json"))
    args = p.parse_args()
    from rag.embed.embedder import Embedder

    embedder = Embedder()
    results: dict[str, Any] = {}
    rows = []
    pooled: dict[str, list[tuple[float, bool]]] = {}
    for source in args.only or SOURCES:
        _, dev = load_source(source)
        work = args.workdir / source
        names = write_folder(source, dev, work / "corpus")
        settings = Settings(corpus_dir=work / "corpus", index_dir=work / "index")
        questions = sample(dev, args.per_source, args.seed)
        with QA(settings, embedder=embedder) as qa:
            qa.ingest()
            docs = len(qa.documents())
            readers = {"shipped": qa}
            baseline = with_baseline(qa, args.baseline_reader)
            if baseline is not None:
                readers["baseline"] = baseline
            if args.baseline_no_whole_tables:
                readers["rows only"] = NoWholeTables(settings, embedder=embedder)
            for label, session in readers.items():
                scores = {"documents": docs, **ask_all(session, questions, names)}
                pooled.setdefault(label, []).extend(scores.pop("margins"))
                results.setdefault(source, {})[label] = scores
                rows.append([source, label, *(str(v) for v in scores.values())])
            if baseline is not None:
                baseline.close()
            if "rows only" in readers:
                readers["rows only"].close()
    heads = ["source", "reader", "documents", "questions", "EM", "F1", "contains"]
    table("Dev splits as folders, through rag.QA", [*heads, "right doc", "refused", "unread"], rows)
    results["open_threshold"] = {label: open_threshold(m) for label, m in pooled.items()}
    print("threshold at 10% refusals over the folders:", json.dumps(results["open_threshold"]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
