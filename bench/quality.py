"""SQuAD paragraphs: ingest both pipelines, then paragraph recall@k and MRR@10 of each."""

from __future__ import annotations

from typing import Any

from bench import baseline, corpora, runs
from bench.common import isolated, ratio, table, write_json


def scores(ranked: list[list[str]], gold: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for k in (1, 5, 10):
        out[f"recall@{k}"] = sum(g in r[:k] for r, g in zip(ranked, gold, strict=True)) / len(gold)
    out["mrr@10"] = sum(
        1 / (r[:10].index(g) + 1) if g in r[:10] else 0.0 for r, g in zip(ranked, gold, strict=True)
    ) / len(gold)
    return out


def run(ctx: Any) -> dict[str, Any]:
    corpus, questions = corpora.squad(ctx.work / "squad", ctx.squad_paragraphs)
    ctx.squad_corpus, ctx.squad_questions = corpus, questions
    base = isolated(runs.baseline_ingest, str(corpus), str(ctx.work / "base-squad"))
    ours = isolated(
        runs.ours_ingest,
        str(corpus),
        str(ctx.work / "ours-squad"),
        str(ctx.model_cache),
        str(ctx.vector_cache),
    )
    sample = corpora.sample(questions, ctx.quality_questions)
    gold = [q.source for q in sample]

    from rag import QA

    with QA(ctx.settings(corpus, ctx.work / "ours-squad", top_k=10), embedder=ctx.embedder) as qa:
        ours_ranked = [
            list(dict.fromkeys(d.metadata["source"] for d in qa.retrieve(q.text))) for q in sample
        ]
    store = baseline.open_store(ctx.work / "base-squad", ctx.baseline_embeddings)
    base_ranked = [baseline.ranked_sources(store, q.text, 10) for q in sample]
    ours_q, base_q = scores(ours_ranked, gold), scores(base_ranked, gold)
    result = {
        "paragraphs": len(list(corpus.iterdir())),
        "questions": len(sample),
        "ingest": {"baseline": base, "ours": ours},
        "ours": ours_q,
        "baseline": base_q,
    }
    write_json("quality", result)
    table(
        f"SQuAD dev paragraphs ({result['paragraphs']}): ingest and retrieval quality on "
        f"{len(sample)} sampled questions (baseline ranked with k=10 for the metrics)",
        ["metric", "ours", "baseline", "ours/baseline"],
        [
            [
                "ingest seconds",
                ours["seconds"],
                base["seconds"],
                ratio(ours["seconds"], base["seconds"]),
            ],
            ["chunks", ours["chunks"], base["chunks"], ratio(ours["chunks"], base["chunks"])],
            [
                "peak RSS MB",
                ours["peak_rss_mb"],
                base["peak_rss_mb"],
                ratio(ours["peak_rss_mb"], base["peak_rss_mb"]),
            ],
            *[[m, ours_q[m], base_q[m], ratio(ours_q[m], base_q[m])] for m in ours_q],
        ],
    )
    return result
