"""Work done in child processes (fresh interpreters, so imports, model loads and RSS count)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any


def ours_ingest(corpus: str, index: str, model_cache: str, vector_cache: str) -> dict[str, Any]:
    started = time.perf_counter()
    from rag.embeddings import Embedder
    from rag.ingest import ingest
    from rag.settings import Settings

    embedder = Embedder(cache_dir=Path(model_cache))
    settings = Settings(corpus_dir=Path(corpus), index_dir=Path(index))
    summary = ingest(settings, embedder, cache_dir=Path(vector_cache))
    return {
        "seconds": time.perf_counter() - started,
        "ingest_call_seconds": summary.seconds,
        "chunks": summary.chunks,
        "embedded": summary.embedded,
        "written": summary.written,
    }


def baseline_ingest(corpus: str, persist: str) -> dict[str, Any]:
    started = time.perf_counter()
    from bench import baseline

    _store, info = baseline.build(Path(corpus), Path(persist))
    return {"seconds": time.perf_counter() - started, "chunks": info["chunks"]}
