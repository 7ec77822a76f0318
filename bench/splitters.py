"""What chunking would cost with pysbd's exact sentences instead of the fast regex splitter.

    python -m bench.splitters --peps 100      # ~1 minute on 2 cores

Chunks N PEPs spread over the series (cleaned as ingest cleans them, default settings, model
token counts) twice: with :func:`rag.text.sentences.fast_sentence_spans`, which the chunker uses,
and with :func:`rag.text.sentences.sentence_spans` (pysbd) swapped in for it. Reports CPU
seconds of each and how many chunks differ. The reason chunking keeps the fast splitter
(``rag/text/sentences.py``)."""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import rag.preprocess.chunking as chunking
from bench.common import table, write_json
from bench.corpora import pep_files
from rag.convert.discovery import PARSED_MARKUP, file_digest
from rag.convert.loaders import load
from rag.embed.embedder import Embedder
from rag.preprocess.cleaning import clean
from rag.text import sentences


def main(argv: list[str] | None = None) -> dict[str, float]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--peps", type=int, default=100)
    args = p.parse_args(argv)
    docs = []
    for path in pep_files(args.peps):
        data, sha = file_digest(path, 10**9)
        docs.append(clean(load(path, path.name, data, sha)))
    embedder = Embedder()
    megabytes = sum(len(d.text) for d in docs) / 1e6

    def chunk_all() -> tuple[float, list[list[tuple[int, int]]]]:
        started = time.process_time()
        spans = [
            [
                (c.start, c.end)
                for c in chunking.chunk_text(
                    d.text,
                    chunk_size=300,
                    chunk_overlap=0,
                    count_tokens=embedder.count_tokens,
                    markup_headings=d.kind not in PARSED_MARKUP,
                )
            ]
            for d in docs
        ]
        return time.process_time() - started, spans

    chunk_all()  # warm: the tokenizer and pysbd's rules are loaded once
    fast_cpu, fast = chunk_all()
    try:
        chunking.fast_sentence_spans = sentences.sentence_spans
        exact_cpu, exact = chunk_all()
    finally:
        chunking.fast_sentence_spans = sentences.fast_sentence_spans
    fast_chunks = {(i, s) for i, doc in enumerate(fast) for s in doc}
    exact_chunks = {(i, s) for i, doc in enumerate(exact) for s in doc}
    changed = len(exact_chunks - fast_chunks)
    result = {
        "documents": len(docs),
        "megabytes": round(megabytes, 2),
        "fast_cpu_s": round(fast_cpu, 2),
        "pysbd_cpu_s": round(exact_cpu, 2),
        "pysbd_extra_cpu_s_per_mb": round((exact_cpu - fast_cpu) / megabytes, 2),
        "chunks": len(exact_chunks),
        "chunks_that_differ": changed,
    }
    table(
        f"Chunking {len(docs)} PEPs ({megabytes:.2f} MB) with each sentence splitter",
        ["splitter", "CPU s", "chunks"],
        [
            ["fast regex (used)", f"{fast_cpu:.2f}", len(fast_chunks)],
            ["pysbd", f"{exact_cpu:.2f}", f"{len(exact_chunks)} ({changed} differ)"],
        ],
    )
    write_json("splitters", result)
    return result


if __name__ == "__main__":
    main()
