"""Ingest of the PEPs: full (cold), re-ingest unchanged, re-ingest after editing 5 files."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench import corpora, runs
from bench.common import isolated, ratio, table, write_json


def corpus_mb(corpus: Path) -> float:
    return sum(p.stat().st_size for p in corpus.rglob("*") if p.is_file()) / 1e6


def run(ctx: Any) -> dict[str, Any]:
    corpus = corpora.copy_files(corpora.pep_files(ctx.peps), ctx.work / "peps")
    mb = corpus_mb(corpus)
    base = isolated(runs.baseline_ingest, str(corpus), str(ctx.work / "base-peps"))
    ours = isolated(
        runs.ours_ingest,
        str(corpus),
        str(ctx.work / "ours-peps"),
        str(ctx.model_cache),
        str(ctx.vector_cache),
    )
    for r in (base, ours):
        r["chunks_per_s"] = r["chunks"] / r["seconds"]
        r["mb_per_s"] = mb / r["seconds"]

    from rag.ingest.pipeline import ingest

    settings = ctx.settings(corpus, ctx.work / "ours-peps")
    started = time.perf_counter()
    again = ingest(settings, ctx.embedder, cache_dir=ctx.vector_cache)
    unchanged = {"seconds": time.perf_counter() - started, "written": again.written}

    edited_files = sorted(corpus.iterdir())[:: max(1, len(list(corpus.iterdir())) // 5)][:5]
    for i, path in enumerate(edited_files):
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(
                f"\n\nBenchmark edit {i}: this paragraph was appended to measure an "
                "incremental ingest after a small change to a handful of files.\n"
            )
    started = time.perf_counter()
    edit = ingest(settings, ctx.embedder, cache_dir=ctx.vector_cache)
    edited = {
        "seconds": time.perf_counter() - started,
        "embedded": edit.embedded,
        "written": edit.written,
        "deleted": edit.deleted,
        "updated": edit.updated,
    }

    started = time.perf_counter()
    rebuilt = ingest(settings, ctx.embedder, cache_dir=ctx.vector_cache, rebuild=True)
    rebuild = {"seconds": time.perf_counter() - started, "embedded": rebuilt.embedded}

    result = {
        "files": len(list(corpus.iterdir())),
        "mb": mb,
        "baseline": base,
        "ours": ours,
        "reingest_unchanged": unchanged,
        "reingest_5_edited": edited,
        "rebuild_with_vector_cache": rebuild,
    }
    write_json("ingest", result)
    table(
        f"Ingest: {result['files']} PEP files, {mb:.1f} MB (fresh processes; imports and "
        "model load included)",
        ["run", "seconds", "chunks", "chunks/s", "MB/s", "peak RSS MB", "ours/baseline"],
        [
            [
                "baseline full",
                base["seconds"],
                base["chunks"],
                base["chunks_per_s"],
                base["mb_per_s"],
                base["peak_rss_mb"],
                1.0,
            ],
            [
                "ours full (cold cache)",
                ours["seconds"],
                ours["chunks"],
                ours["chunks_per_s"],
                ours["mb_per_s"],
                ours["peak_rss_mb"],
                ratio(ours["seconds"], base["seconds"]),
            ],
            [
                "ours re-ingest, unchanged",
                unchanged["seconds"],
                "",
                "",
                "",
                "",
                ratio(unchanged["seconds"], base["seconds"]),
            ],
            [
                f"ours re-ingest, 5 files edited ({edit.embedded} embedded)",
                edited["seconds"],
                "",
                "",
                "",
                "",
                ratio(edited["seconds"], base["seconds"]),
            ],
            [
                f"ours --rebuild, vector cache ({rebuilt.embedded} embedded)",
                rebuild["seconds"],
                "",
                "",
                "",
                "",
                ratio(rebuild["seconds"], base["seconds"]),
            ],
        ],
    )
    return result
