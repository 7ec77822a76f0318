"""How the default fusion was chosen: a staged search on SQuAD articles 0-23 only.

Run through ``python -m bench.squad --tune``. Every question's exact dense similarity to every
chunk and its BM25 score for every chunk are computed once (2,547 chunks), then each candidate
configuration re-ranks with :func:`rag.retrieve.hybrid.fuse`, the function the retriever uses. The
search is staged to keep it small and readable:

1. BM25 side: k1, b and whether question words are dropped from the query, each scored by the
   fused ranking (what matters) with a reference fusion;
2. fusion: method (RRF / convex), weight, normalisation, exact fill-in of missing scores;
3. candidate depth per retriever.

A change is adopted only when it beats the current default by more than ``NOISE`` in MRR@10
on the tuning half: smaller differences are not distinguishable on 5,856 questions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from rag import QA, Settings
from rag.embed.embedder import Embedder
from rag.evaluation import Question
from rag.ingest.records import keyword_text
from rag.retrieve.hybrid import DEFAULT_FUSION, Fusion, fuse
from rag.store.bm25 import K1, B, KeywordIndex

NOISE = 0.002


def _top(row: np.ndarray, k: int) -> np.ndarray:
    k = min(k, row.size)
    best = np.argpartition(-row, k - 1)[:k]
    return best[np.argsort(-row[best], kind="stable")]


def score(
    dense: np.ndarray,
    bm25: np.ndarray,
    gold: np.ndarray,
    sources: np.ndarray,
    fusion: Fusion,
    depth: int = 40,
) -> tuple[float, float, float, float]:
    """(recall@1, recall@5, recall@10, MRR@10) of ``fusion`` over the given questions."""
    r1 = r5 = r10 = rr = 0.0
    for i in range(len(gold)):
        d_top = _top(dense[i], depth) if fusion.method != "bm25" else np.array([], dtype=int)
        b_top = _top(bm25[i], depth) if fusion.method != "dense" else np.array([], dtype=int)
        b_top = b_top[bm25[i][b_top] > 0]
        d_list = [(int(p), float(dense[i][p])) for p in d_top]
        b_list = [(int(p), float(bm25[i][p])) for p in b_top]
        fill_d = fill_b = None
        if fusion.method == "convex" and fusion.fill_missing:
            fill_b = {int(p): float(bm25[i][p]) for p in d_top}
            fill_d = {int(p): float(dense[i][p]) for p in b_top}
        ranked = fuse(d_list, b_list, fusion, dense_fill=fill_d, bm25_fill=fill_b)[:10]
        rank = next((n for n, f in enumerate(ranked, 1) if sources[f.key] == gold[i]), None)
        if rank:
            rr += 1 / rank
            r1 += rank <= 1
            r5 += rank <= 5
            r10 += 1
    n = len(gold)
    return r1 / n, r5 / n, r10 / n, rr / n


def tune(
    settings: Settings, embedder: Embedder, questions: Sequence[Question], tune_articles: range
) -> Fusion:
    """Print the staged search and return the configuration it arrives at."""
    with QA(settings, embedder=embedder) as qa:
        qa.ingest()
        reader = qa.snapshot()
        chunks = reader.chunks
        ids = [c.id for c in chunks]
        stored = reader.vectors.vectors(ids)
        vectors = np.stack([stored[i] for i in ids])
        titles = {s: e.title for s, e in reader.manifest.files.items()}
        texts = [keyword_text(titles[c.source], c.heading, reader.chunk_text(c)) for c in chunks]
    sources = np.array([c.source for c in chunks])
    chosen = [q for q in questions if int(q.sources[0][:2]) in tune_articles]
    gold = np.array([q.sources[0] for q in chosen])
    print(f"\ntuning on {len(chosen)} questions of articles 0-{tune_articles[-1]}")
    dense = embedder.encode([q.question for q in chosen]) @ vectors.T

    def bm25_matrix(k1: float, b: float, drop: bool) -> np.ndarray:
        index = KeywordIndex.build(texts, k1=k1, b=b)
        return np.stack([index.scores(q.question, drop_question_words=drop) for q in chosen])

    def show(label: str, result: tuple[float, ...]) -> None:
        print(f"| {label} | " + " | ".join(f"{v:.4f}" for v in result) + " |", flush=True)

    print("\n| stage 1: BM25 side, fused with the reference | r@1 | r@5 | r@10 | MRR@10 |")
    print("| --- | ---: | ---: | ---: | ---: |")
    reference = replace(DEFAULT_FUSION, method="convex", dense_weight=0.5)
    best_key = (K1, B, True)
    results: dict[Any, tuple[float, ...]] = {}
    matrices: dict[Any, np.ndarray] = {}
    for k1 in (0.9, 1.2):
        for b in (0.4, 0.75):
            for drop in (False, True):
                bm25 = bm25_matrix(k1, b, drop)
                matrices[(k1, b, drop)] = bm25
                results[(k1, b, drop)] = score(
                    dense, bm25, gold, sources, replace(reference, drop_question_words=drop)
                )
                show(f"k1={k1} b={b} drop question words={drop}", results[(k1, b, drop)])
    for key, result in results.items():
        if result[3] > results[best_key][3] + NOISE:
            best_key = key
    print(f"BM25 side kept: k1={best_key[0]} b={best_key[1]} drop={best_key[2]}")
    bm25 = matrices[best_key]
    alone = score(dense, bm25, gold, sources, Fusion(method="bm25"))
    show("BM25 alone with it", alone)
    for key in list(matrices):
        if key != best_key:
            del matrices[key]

    print("\n| stage 2: fusion | r@1 | r@5 | r@10 | MRR@10 |")
    print("| --- | ---: | ---: | ---: | ---: |")
    candidates = [
        Fusion(method="rrf", dense_weight=w, rrf_k=k) for w in (0.5, 1.0) for k in (10, 60)
    ]
    candidates += [
        Fusion(method="convex", dense_weight=w, normalise=norm, fill_missing=fill)
        for w in (0.3, 0.4, 0.5, 0.6, 0.7)
        for norm in ("minmax", "zscore")
        for fill in (True, False)
    ]
    default = replace(DEFAULT_FUSION, drop_question_words=best_key[2])
    best, best_result = default, score(dense, bm25, gold, sources, default)
    for fusion in candidates:
        fusion = replace(fusion, drop_question_words=best_key[2])
        result = score(dense, bm25, gold, sources, fusion)
        show(
            f"{fusion.method} w={fusion.dense_weight} "
            + (
                f"k={fusion.rrf_k}"
                if fusion.method == "rrf"
                else f"{fusion.normalise} fill={fusion.fill_missing}"
            ),
            result,
        )
        if result[3] > best_result[3] + NOISE:
            best, best_result = fusion, result
    print(f"fusion kept: {best}")

    print("\n| stage 3: candidates per retriever | r@1 | r@5 | r@10 | MRR@10 |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for depth in (20, 40, 80):
        show(f"candidate_k={depth}", score(dense, bm25, gold, sources, best, depth))
    return best
