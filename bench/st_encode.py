"""The ingest torch path against ``SentenceTransformer.encode``: same vectors, which is cheaper.

    python -m bench.st_encode --chunks 500 --rounds 6    # a few minutes on 2 cores

Takes ingest chunks of PEPs (as ingest makes them: default settings, the dense text of each
chunk), embeds them with :class:`rag.embed.embedder.Embedder` on torch (``onnx=False``) and with
sentence-transformers loaded from the same packaged folder, and reports the largest vector
difference, the padded tokens each computes, and CPU ms per chunk and chunks/s of each over
``--rounds`` interleaved rounds. The reason ingest keeps its own batching
(``rag/embed/torch_runtime.py``). sentence-transformers is already a dependency.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

from bench.common import table, write_json
from bench.corpora import pep_files
from rag.convert.discovery import file_digest
from rag.convert.loaders import load
from rag.embed.embedder import Embedder
from rag.ingest.records import chunk_document
from rag.preprocess.cleaning import clean
from rag.settings import Settings


def main(argv: list[str] | None = None) -> dict[str, float]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--chunks", type=int, default=500)
    p.add_argument("--rounds", type=int, default=6)
    args = p.parse_args(argv)

    import torch
    from sentence_transformers import SentenceTransformer

    embedder = Embedder(onnx=False)
    settings = Settings()
    texts: list[str] = []
    for path in pep_files(0)[::7]:
        data, sha = file_digest(path, 10**9)
        texts.extend(
            chunk_document(clean(load(path, path.name, data, sha)), settings, embedder)[1].values()
        )
        if len(texts) > 4 * args.chunks:
            break
    texts = sorted(set(texts))
    texts = texts[:: max(1, len(texts) // args.chunks)][: args.chunks]
    model = SentenceTransformer(str(embedder.path), device="cpu", local_files_only=True)

    def ours(batch: list[str]) -> np.ndarray:
        embedder.clear_recent()  # each round computes every vector again
        return embedder.encode(batch)

    def theirs(batch: list[str]) -> np.ndarray:
        vectors = model.encode(
            batch,
            batch_size=embedder.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    lengths = embedder.count_tokens(texts)
    ours_padded = sum(
        len(rows) * ids.shape[1]
        for rows, ids, _ in embedder.pieces.batches(texts, embedder.batch_size)
    )
    by_chars = np.argsort([-len(t) for t in texts])  # encode's order: longest text first
    theirs_padded = sum(
        len(rows) * max(lengths[i] for i in rows)
        for rows in (
            by_chars[lo : lo + embedder.batch_size]
            for lo in range(0, len(texts), embedder.batch_size)
        )
    )
    ours(texts[:8]), theirs(texts[:8])  # warm up
    a, b = ours(texts), theirs(texts)
    cpu: dict[str, list[float]] = {"ours": [], "encode": []}
    rate: dict[str, list[float]] = {"ours": [], "encode": []}
    runs = (("ours", ours), ("encode", theirs))
    for r in range(args.rounds):
        for name, fn in runs if r % 2 == 0 else runs[::-1]:  # alternate who goes first
            wall, used = time.perf_counter(), time.process_time()
            fn(texts)
            rate[name].append(len(texts) / (time.perf_counter() - wall))
            cpu[name].append((time.process_time() - used) / len(texts) * 1000)
    result = {
        "chunks": len(texts),
        "torch_threads": torch.get_num_threads(),
        "real_tokens": sum(lengths),
        "padded_tokens_ours": int(ours_padded),
        "padded_tokens_encode": int(theirs_padded),
        "max_abs_diff": float(np.abs(a - b).max()),
        "min_cosine": float((a * b).sum(1).min()),
        **{f"cpu_ms_per_chunk_{k}": round(statistics.median(v), 2) for k, v in cpu.items()},
        **{f"chunks_per_s_{k}": round(statistics.median(v), 1) for k, v in rate.items()},
    }
    table(
        f"Ingest embedding of {len(texts)} PEP chunks: ours vs SentenceTransformer.encode "
        f"(max abs diff {result['max_abs_diff']:.2g}, min cosine {result['min_cosine']:.7f})",
        ["path", "padded tokens", "CPU ms/chunk (median)", "chunks/s (median)"],
        [
            [
                k,
                result[f"padded_tokens_{k}"],
                result[f"cpu_ms_per_chunk_{k}"],
                result[f"chunks_per_s_{k}"],
            ]
            for k in ("ours", "encode")
        ],
    )
    write_json("st_encode", result)
    return result


if __name__ == "__main__":
    main()
