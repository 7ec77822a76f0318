"""What asking within chosen documents costs: ``QA.ask`` with and without ``sources=``.

    python -m bench.source_filter --workdir /tmp/sf      # ~10 minutes on 2 cores, first run

The index is the one ``bench.reader`` uses for its 20k-chunk latency: the 2,067 SQuAD dev
paragraphs, one document each, copied ten times into ``copy0/`` .. ``copy9/`` (the copies'
vectors come from the 2k index's cache, so only the 2k corpus is embedded). Both indexes are
reused when the work folder already holds them. Each question is asked warm in three ways:

* ``all``: no filter (today's path);
* ``one``: ``sources=["copy0/<its paragraph>"]``, the one document that answers it;
* ``glob``: ``sources=["copy0/*"]``, 10% of the documents (2,067 of 20,670), still holding
  the answer.

The modes take turns per question (rotating which goes first) so that background load on a
shared machine falls on all three alike, and the embedder's recent-texts cache is cleared
before every call so no mode reuses another's vectors. Reported: p50 / p95 of the whole
answer and of retrieval alone, the ratios to ``all``, how often each mode answers, and the
cost of resolving the glob against 20k names. Numbers only, no asserts.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bench.common import fmt, load_average, percentile, table
from bench.squad import write_corpus
from rag import QA, Settings
from rag.ingest.pipeline import ingest
from training.squad_data import load_articles, split

log = logging.getLogger("bench.source_filter")

COPIES = 10
MODES = ("all", "one", "glob")


def build(work: Path, embedder: Any) -> Settings:
    """The 20k-chunk index (SQuAD paragraphs x 10), built once per work folder."""
    articles = load_articles()
    small = Settings(corpus_dir=work / "squad", index_dir=work / "squad-index")
    write_corpus(articles, small.corpus_dir)
    with QA(small, embedder=embedder) as qa:  # embeds the 2k paragraphs (cached after)
        qa.ingest()
    big = work / "squad20k"
    for copy in range(COPIES):
        target = big / f"copy{copy}"
        if not target.exists():
            shutil.copytree(small.corpus_dir, target)
    s20 = Settings(corpus_dir=big, index_dir=work / "squad20k-index")
    ingest(s20, embedder, cache_dir=small.index_dir / "cache")  # no-op when up to date
    return s20


def questions(n: int, seed: int) -> list[tuple[str, str]]:
    """``n`` evaluation-article questions with the file of the paragraph that answers each."""
    articles = load_articles()
    _, _, evaluation = split(articles)
    titles = {a["title"] for a in evaluation}
    pairs = [
        (qa_["question"], f"{i:02d}-{j:03d}.txt")
        for i, article in enumerate(articles)
        if article["title"] in titles
        for j, paragraph in enumerate(article["paragraphs"])
        for qa_ in paragraph["qas"]
    ]
    return random.Random(seed).sample(pairs, n)


def sources_for(mode: str, file: str) -> list[str] | None:
    if mode == "one":
        return [f"copy0/{file}"]
    if mode == "glob":
        return ["copy0/*"]
    return None


def summary(times: list[float]) -> dict[str, float]:
    return {"p50_ms": percentile(times, 0.5), "p95_ms": percentile(times, 0.95)}


def measure(qa: QA, asked: list[tuple[str, str]], warmup: int) -> dict[str, Any]:
    embedder = qa.embedder
    for question, file in asked[:warmup]:
        for mode in MODES:
            qa.ask(question, sources=sources_for(mode, file))
    answer_ms: dict[str, list[float]] = {m: [] for m in MODES}
    retrieve_ms: dict[str, list[float]] = {m: [] for m in MODES}
    answered = dict.fromkeys(MODES, 0)
    same_as_all = dict.fromkeys(MODES, 0)
    for i, (question, file) in enumerate(asked):
        order = MODES[i % 3 :] + MODES[: i % 3]
        texts: dict[str, str] = {}
        for mode in order:
            chosen = sources_for(mode, file)
            embedder.clear_recent()
            started = time.perf_counter()
            answer = qa.ask(question, sources=chosen)
            answer_ms[mode].append(1000 * (time.perf_counter() - started))
            embedder.clear_recent()
            started = time.perf_counter()
            qa.retrieve(question, sources=chosen)
            retrieve_ms[mode].append(1000 * (time.perf_counter() - started))
            answered[mode] += not answer.abstained
            texts[mode] = answer.text
        for mode in MODES:
            same_as_all[mode] += texts[mode] == texts["all"]
    return {
        "answer": {m: summary(answer_ms[m]) for m in MODES},
        "retrieval": {m: summary(retrieve_ms[m]) for m in MODES},
        "answered": {m: answered[m] / len(asked) for m in MODES},
        "same_text_as_all": {m: same_as_all[m] / len(asked) for m in MODES},
    }


def timed_ms(fn: Callable[[], Any], repeat: int = 20) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - started))
    return percentile(times, 0.5)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--workdir", type=Path, default=Path("/tmp/sf"))
    p.add_argument("--questions", type=int, default=50)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--out", type=Path, help="JSON results [default: WORKDIR/source_filter.json]")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from rag.embed.embedder import Embedder

    embedder = Embedder()
    args.workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    settings = build(args.workdir, embedder)
    log.info("index ready in %.0f s", time.perf_counter() - started)
    asked = questions(args.questions, args.seed)
    with QA(settings, embedder=embedder) as qa:
        reader = qa.snapshot()
        result: dict[str, Any] = {
            "chunks": len(reader.chunks),
            "documents": len(reader.manifest.files),
            "glob_documents": len(qa.resolve_sources(["copy0/*"])),
            "questions": len(asked),
            "load_before": load_average(),
        }
        result["resolve_ms"] = {
            "one": timed_ms(lambda: qa.resolve_sources([f"copy0/{asked[0][1]}"])),
            "glob": timed_ms(lambda: qa.resolve_sources(["copy0/*"])),
        }
        result.update(measure(qa, asked, args.warmup))
        result["load_after"] = load_average()
    out = args.out or args.workdir / "source_filter.json"
    out.write_text(json.dumps(result, indent=1))

    base_answer = result["answer"]["all"]["p50_ms"]
    base_retrieval = result["retrieval"]["all"]["p50_ms"]
    table(
        f"Answer latency with and without a source filter ({result['chunks']:,} chunks, "
        f"{result['documents']:,} documents, {len(asked)} questions, warm; load "
        f"{result['load_before']} -> {result['load_after']})",
        [
            "filter",
            "answer p50 ms",
            "answer p95 ms",
            "x all (p50)",
            "retrieval p50 ms",
            "retrieval p95 ms",
            "x all (p50)",
            "answered",
            "same text as all",
        ],
        [
            [
                {
                    "all": "none",
                    "one": "one document",
                    "glob": f"copy0/* ({result['glob_documents']:,} docs)",
                }[m],
                result["answer"][m]["p50_ms"],
                result["answer"][m]["p95_ms"],
                result["answer"][m]["p50_ms"] / base_answer,
                result["retrieval"][m]["p50_ms"],
                result["retrieval"][m]["p95_ms"],
                result["retrieval"][m]["p50_ms"] / base_retrieval,
                result["answered"][m],
                result["same_text_as_all"][m],
            ]
            for m in MODES
        ],
    )
    print(
        "resolving the patterns (p50 ms): one document "
        f"{fmt(result['resolve_ms']['one'])}, copy0/* {fmt(result['resolve_ms']['glob'])}; "
        f"wrote {out}"
    )
    return result


if __name__ == "__main__":
    main()
