"""Warm query latency: retrieval alone and a full extractive answer, ours vs the baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import baseline, corpora
from bench.common import ChromaServer, latency, ratio, table, write_json


def measure(
    ctx: Any, corpus: Path, index: Path, questions: list[str], chroma_url: str | None = None
) -> dict[str, Any]:
    from rag import QA

    settings = ctx.settings(corpus, index, chroma_url=chroma_url)
    out: dict[str, Any] = {}
    fresh = ctx.embedder.clear_recent
    with QA(settings, embedder=ctx.embedder) as qa:
        # Headline numbers: every question starts with no recent vectors at all.
        out["retrieval"] = latency(lambda q: (fresh(), qa.retrieve(q)), questions)
        out["answer"] = latency(lambda q: (fresh(), qa.ask(q)), questions)
        # As a session runs: vectors of recent questions' passages are kept.
        fresh()
        out["answer_session"] = latency(qa.ask, questions)
        out["chunks"] = qa.snapshot().manifest.chunk_count
    return out


def measure_baseline(ctx: Any, persist: Path, questions: list[str]) -> dict[str, Any]:
    retriever = baseline.retriever(baseline.open_store(persist, ctx.baseline_embeddings))
    return {"retrieval": latency(retriever.invoke, questions)}


def run(ctx: Any) -> dict[str, Any]:
    pep_q = [q.text for q in corpora.pep_questions(ctx.work / "peps", ctx.questions)]
    squad_q = [q.text for q in corpora.sample(ctx.squad_questions, ctx.questions, seed=5)]
    result: dict[str, Any] = {}
    for name, corpus, qs in (
        ("peps", ctx.work / "peps", pep_q),
        ("squad", ctx.squad_corpus, squad_q),
    ):
        result[name] = {
            "ours": measure(ctx, corpus, ctx.work / f"ours-{name}", qs),
            "baseline": measure_baseline(ctx, ctx.work / f"base-{name}", qs),
        }
    if ctx.server:
        from rag.ingest.pipeline import ingest

        with ChromaServer(ctx.work / "chroma-server") as server:
            settings = ctx.settings(
                ctx.squad_corpus, ctx.work / "server-squad", chroma_url=server.url
            )
            summary = ingest(settings, ctx.embedder, cache_dir=ctx.vector_cache)
            result["squad_server"] = {
                "ours": measure(
                    ctx, ctx.squad_corpus, ctx.work / "server-squad", squad_q, chroma_url=server.url
                ),
                "baseline": result["squad"]["baseline"],
                "ingest_seconds_vectors_cached": summary.seconds,
            }
    write_json("query", result)
    rows = []
    for name, r in result.items():
        b = r["baseline"]["retrieval"]
        for kind in ("retrieval", "answer", "answer_session"):
            o = r["ours"][kind]
            rows.append(
                [
                    f"{name}: ours {kind}",
                    r["ours"]["chunks"],
                    o["p50_ms"],
                    o["p95_ms"],
                    b["p50_ms"],
                    b["p95_ms"],
                    ratio(o["p50_ms"], b["p50_ms"]),
                ]
            )
    table(
        f"Warm query latency, {ctx.questions} distinct questions per index (ms; no vectors kept "
        "between questions except in answer_session; the baseline has no answerer, so every row "
        "compares with its retrieval)",
        [
            "index / ours",
            "chunks",
            "p50",
            "p95",
            "baseline p50",
            "baseline p95",
            "p50 ours/baseline",
        ],
        rows,
    )
    return result
