"""Cold start: a new Python process, to the first answer, with an existing index."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import ratio, table, write_json

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "What is the motivation for this PEP?"


def timed(code: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def run(ctx: Any) -> dict[str, Any]:
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "RAG_INDEX_DIR": str(ctx.work / "ours-peps"),
        "RAG_CORPUS_DIR": str(ctx.work / "peps"),
        "XDG_CACHE_HOME": str(ctx.model_cache.parent),
    }
    ours_code = f"from rag import ask; ask({QUESTION!r})"
    base_code = (
        "from pathlib import Path; from bench import baseline; "
        f"baseline.retriever(baseline.open_store(Path({str(ctx.work / 'base-peps')!r})))"
        f".invoke({QUESTION!r})"
    )
    imports = timed("import rag", env)
    ours = [timed(ours_code, env) for _ in range(ctx.cold_runs)]
    base = [timed(base_code, env) for _ in range(ctx.cold_runs)]
    result = {
        "ours_seconds": statistics.median(ours),
        "ours_runs": ours,
        "baseline_seconds": statistics.median(base),
        "baseline_runs": base,
        "import_rag_seconds": imports,
    }
    write_json("coldstart", result)
    table(
        f"Cold start: new process to first answer (median of {ctx.cold_runs}; the baseline's "
        "is its first retrieval)",
        ["pipeline", "seconds", "runs", "ours/baseline"],
        [
            [
                "ours: from rag import ask; ask(...)",
                result["ours_seconds"],
                ", ".join(f"{t:.1f}" for t in ours),
                ratio(result["ours_seconds"], result["baseline_seconds"]),
            ],
            [
                "baseline: open Chroma + HuggingFaceEmbeddings, invoke",
                result["baseline_seconds"],
                ", ".join(f"{t:.1f}" for t in base),
                1.0,
            ],
        ],
    )
    return result
