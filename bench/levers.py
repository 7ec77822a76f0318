"""Embedding runtimes measured on the same PEP chunks: which levers pay off on this CPU."""

from __future__ import annotations

from typing import Any

from bench import runs
from bench.common import isolated, table, write_json


def run(ctx: Any) -> dict[str, Any]:
    result = isolated(runs.levers, str(ctx.work / "peps"), str(ctx.model_cache), ctx.lever_chunks)
    write_json("levers", result)
    rows = [
        [
            name,
            v["cpu_ms_per_chunk"],
            v["speed_vs_fp32"],
            v["min_cosine_to_fp32"],
            v["top1_neighbour_agreement"],
        ]
        for name, v in result.items()
        if isinstance(v, dict)
    ]
    table(
        f"Embedding levers on {result['chunks']} PEP chunks (CPU ms per chunk, 1 thread)",
        [
            "runtime",
            "CPU ms/chunk",
            "speed vs torch fp32",
            "min cosine to fp32",
            "top-1 neighbour agreement",
        ],
        rows,
    )
    return result
