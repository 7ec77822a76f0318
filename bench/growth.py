"""How ingest time and query latency grow with the number of chunks (PEPs + SQuAD, repeated).

The corpus at each size is PEP and SQuAD files, interleaved, copied again under new folder
names until the size is reached. Copies have new chunk ids (so every chunk is stored,
HNSW-indexed and BM25-indexed) but the same embedding text, so their vectors come from the
content-hash cache: the ingest times here are everything except the model. The embedding
cost is linear in chunks and is reported by the ingest benchmark (chunks/s). The recent-texts
cache is cleared before every question; still, a question whose passages are copies of one
another embeds fewer distinct sentences, so the answer times here lean low (the summary also
composes retrieval here with the answer stage measured on SQuAD, which has no copies).
"""

from __future__ import annotations

import json
import time
from itertools import zip_longest
from pathlib import Path
from typing import Any

from bench import corpora
from bench.common import latency, table, write_json

ROOT = Path(__file__).resolve().parent.parent


def _file_chunks(index: Path, corpus: Path) -> list[tuple[Path, int]]:
    gen = index / (index / "CURRENT").read_text().strip()
    manifest = json.loads((gen / "manifest.json").read_text())
    return [(corpus / s, len(e["chunks"])) for s, e in sorted(manifest["files"].items())]


def run(ctx: Any) -> dict[str, Any]:
    from rag import QA
    from rag.ingest.pipeline import ingest

    peps = _file_chunks(ctx.work / "ours-peps", ctx.work / "peps")
    squad = _file_chunks(ctx.work / "ours-squad", ctx.squad_corpus)
    ratio_ = max(1, len(squad) // max(1, len(peps)))
    mixed: list[tuple[Path, int]] = []
    for i, pep in zip_longest(range(0, len(squad), ratio_), peps):
        if i is not None:
            mixed.extend(squad[i : i + ratio_])
        if pep is not None:
            mixed.append(pep)
    in_first_copy = {p.name for p, _ in mixed}
    questions = [
        q.text
        for q in corpora.sample(ctx.squad_questions, 400, seed=3)
        if q.source in in_first_copy
    ][: ctx.growth_questions]

    corpus, index = ctx.work / "growth-corpus", ctx.work / "growth-index"
    points = []
    for target in ctx.growth:
        corpora.growth_corpus(mixed, target, corpus)
        settings = ctx.settings(corpus, index)
        started = time.perf_counter()
        summary = ingest(settings, ctx.embedder, cache_dir=ctx.vector_cache, rebuild=True)
        seconds = time.perf_counter() - started
        with QA(settings, embedder=ctx.embedder) as qa:
            # Copies share sentences, so each question starts with no recent vectors.
            answer = latency(lambda q, qa=qa: (ctx.embedder.clear_recent(), qa.ask(q)), questions)
            retrieval = latency(
                lambda q, qa=qa: (ctx.embedder.clear_recent(), qa.retrieve(q)), questions
            )
        points.append(
            {
                "target": target,
                "chunks": summary.chunks,
                "embedded": summary.embedded,
                "ingest_seconds": seconds,
                "ingest_chunks_per_s": summary.chunks / seconds,
                "retrieval": retrieval,
                "answer": answer,
            }
        )
    result = {"points": points, "questions": len(questions)}
    result["plot"] = str(plot(points))
    write_json("growth", result)
    table(
        "Growth (vectors from the content-hash cache; embedding excluded, see ingest chunks/s)",
        [
            "chunks",
            "embedded",
            "ingest s",
            "chunks/s",
            "retrieval p50 ms",
            "answer p50 ms",
            "answer p95 ms",
        ],
        [
            [
                p["chunks"],
                p["embedded"],
                p["ingest_seconds"],
                p["ingest_chunks_per_s"],
                p["retrieval"]["p50_ms"],
                p["answer"]["p50_ms"],
                p["answer"]["p95_ms"],
            ]
            for p in points
        ],
    )
    return result


def plot(points: list[dict[str, Any]]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = [p["chunks"] for p in points]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(x, [p["ingest_seconds"] for p in points], "o-", label="rebuild (vectors cached)")
    left.set(xscale="log", yscale="log", xlabel="chunks", ylabel="seconds", title="Ingest time")
    left.legend()
    right.plot(x, [p["retrieval"]["p50_ms"] for p in points], "o-", label="retrieval p50")
    right.plot(
        x,
        [p["answer"]["p50_ms"] for p in points],
        "s-",
        label="extractive answer p50\n(falls as copies share sentences)",
    )
    right.set(xscale="log", xlabel="chunks", ylabel="milliseconds", title="Warm query latency")
    right.set_ylim(bottom=0)
    right.legend()
    fig.tight_layout()
    out = ROOT / "docs" / "growth.png"
    out.parent.mkdir(exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
