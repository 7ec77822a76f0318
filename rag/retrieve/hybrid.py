"""Hybrid retrieval as a LangChain retriever: dense (Chroma) and BM25 lists, fused.

Dense similarity finds paraphrases; BM25 finds the rare names, numbers and terms that a small
embedding model blurs. The two are fused by :func:`fuse`, whose method and weights are a
:class:`Fusion`. The default was chosen on the SQuAD paragraph-retrieval benchmark
(``python -m bench.squad --tune``: tuned on half of the articles, checked on the other half):
a convex combination of min-max normalised scores, with the score a candidate lacks (found by
one retriever only) computed exactly rather than guessed, beats both retrievers alone and
their plain reciprocal rank fusion on recall@1, recall@5 and MRR@10. The dense weight was
0.5 when whole chunks were embedded; since a chunk's vector holds only its head (see
``Settings.embed_tokens``), BM25 carries more and 0.35 is best (2,000 SQuAD questions:
recall@5 0.960 and MRR@10 0.882, against 0.956 and 0.885 for whole chunks at 0.5).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from rag.embed.embedder import Embedder
from rag.results import Passage
from rag.retrieve.named import MAX_NAMED, NAMED_LEAD, identified_sources, lead_chunks
from rag.store.generations import IndexSnapshot
from rag.store.manifest import ChunkRecord
from rag.text.locations import page_at, within

#: RRF's damping constant: larger values flatten the difference between ranks.
RRF_K = 60


@dataclass(frozen=True)
class Fusion:
    """How the dense and the BM25 candidate lists become one ranking.

    Attributes:
        method: ``convex`` (weighted sum of normalised scores), ``rrf`` (weighted reciprocal
            rank), or ``dense`` / ``bm25`` (one retriever alone, for comparisons).
        dense_weight: share of the dense side (``convex``: 0..1, BM25 gets the rest;
            ``rrf``: the dense list's weight).
        bm25_weight: the BM25 list's weight in ``rrf`` (unused by ``convex``).
        rrf_k: RRF's damping constant.
        normalise: ``minmax`` or ``zscore``, per list, for ``convex``.
        fill_missing: compute the score a candidate lacks (seen by one retriever only) instead
            of counting it as the list's worst; costs one small vector fetch per query.
        drop_question_words: leave "what", "who", "did", ... out of the BM25 query.
    """

    method: Literal["convex", "rrf", "dense", "bm25"] = "convex"
    dense_weight: float = 0.35
    bm25_weight: float = 1.0
    rrf_k: int = RRF_K
    normalise: Literal["minmax", "zscore"] = "minmax"
    fill_missing: bool = True
    drop_question_words: bool = True


#: The fusion the retriever uses unless told otherwise (see the module docstring).
DEFAULT_FUSION = Fusion()

#: Plain reciprocal rank fusion with equal weights, the usual baseline.
PLAIN_RRF = Fusion(
    method="rrf", dense_weight=1.0, bm25_weight=1.0, fill_missing=False, drop_question_words=False
)


@dataclass(frozen=True)
class Fused:
    """One fused candidate: its key (chunk id or position), fused score and per-list details."""

    key: Any
    score: float
    dense_score: float | None = None
    bm25_score: float | None = None
    dense_rank: int | None = None
    bm25_rank: int | None = None


def fuse(
    dense: Sequence[tuple[Any, float]],
    bm25: Sequence[tuple[Any, float]],
    fusion: Fusion = DEFAULT_FUSION,
    *,
    dense_fill: Mapping[Any, float] | None = None,
    bm25_fill: Mapping[Any, float] | None = None,
) -> list[Fused]:
    """Combine two ranked ``(key, score)`` lists (best first) into one, best first.

    ``dense_fill`` / ``bm25_fill`` give the true score of candidates missing from a list;
    without them a missing candidate gets that list's lowest normalised score (``convex``) or
    nothing (``rrf``). Ties keep the order in which candidates were first seen, dense first.
    """
    entries: dict[Any, dict[str, Any]] = {}
    for rank, (key, score) in enumerate(dense, 1):
        entries.setdefault(key, {}).update(dense_rank=rank, dense_score=float(score))
    for rank, (key, score) in enumerate(bm25, 1):
        entries.setdefault(key, {}).update(bm25_rank=rank, bm25_score=float(score))
    if fusion.method == "dense":
        entries = {k: e for k, e in entries.items() if "dense_rank" in e}
    elif fusion.method == "bm25":
        entries = {k: e for k, e in entries.items() if "bm25_rank" in e}
    if not entries:
        return []
    keys = list(entries)
    if fusion.method == "rrf":
        scores = [
            (fusion.dense_weight / (fusion.rrf_k + e["dense_rank"]) if "dense_rank" in e else 0.0)
            + (fusion.bm25_weight / (fusion.rrf_k + e["bm25_rank"]) if "bm25_rank" in e else 0.0)
            for e in entries.values()
        ]
    elif fusion.method == "dense":
        scores = [e["dense_score"] for e in entries.values()]
    elif fusion.method == "bm25":
        scores = [e["bm25_score"] for e in entries.values()]
    else:
        d = _normalised(keys, entries, "dense_score", dense_fill, fusion.normalise)
        b = _normalised(keys, entries, "bm25_score", bm25_fill, fusion.normalise)
        scores = (fusion.dense_weight * d + (1.0 - fusion.dense_weight) * b).tolist()
    order = sorted(range(len(keys)), key=lambda i: -scores[i])
    return [
        Fused(
            key=keys[i],
            score=float(scores[i]),
            dense_score=entries[keys[i]].get("dense_score", _get(dense_fill, keys[i])),
            bm25_score=entries[keys[i]].get("bm25_score", _get(bm25_fill, keys[i])),
            dense_rank=entries[keys[i]].get("dense_rank"),
            bm25_rank=entries[keys[i]].get("bm25_rank"),
        )
        for i in order
    ]


def _get(fill: Mapping[Any, float] | None, key: Any) -> float | None:
    return None if fill is None or key not in fill else float(fill[key])


def _normalised(
    keys: list[Any],
    entries: dict[Any, dict[str, Any]],
    field: str,
    fill: Mapping[Any, float] | None,
    how: str,
) -> np.ndarray:
    """One list's scores over all candidates, rescaled; a missing score becomes the minimum.

    The statistics come from the list's own candidates (plus filled-in scores), so a list
    whose scores are all alike contributes nothing rather than noise.
    """
    raw = np.array([entries[k].get(field, _get(fill, k)) for k in keys], dtype=float)  # None -> nan
    known = raw[~np.isnan(raw)]
    if known.size == 0:
        return np.zeros(len(keys))
    if how == "zscore":
        spread = known.std()
        out = (raw - known.mean()) / spread if spread > 0 else np.zeros(len(keys))
    else:
        low, high = known.min(), known.max()
        out = (raw - low) / (high - low) if high > low else np.zeros(len(keys))
    floor = float(np.nanmin(out)) if np.isfinite(out).any() else 0.0
    return np.where(np.isnan(out), floor, out)


class HybridRetriever(BaseRetriever):
    """Top-``k`` chunks for a query, as Documents whose metadata say where and why.

    ``metadata`` holds ``chunk_id, source, title, heading, start, end, page, location,
    pages, locations, score, dense_score, bm25_score, dense_rank, bm25_rank``, and
    ``named_lead`` on a passage added after the ranked ones because the query names its
    document (:mod:`rag.retrieve.named`);
    ``page_content`` is exactly ``doc_text[start:end]``. ``invoke(query, k=n)`` returns a
    different number of chunks for one call (the evaluation harness reads deeper than the
    answerer), and ``invoke(query, sources=[...])`` searches only those documents (exact
    source paths, as :func:`rag.retrieve.source_filter.resolve_sources` returns them).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    snapshot: Callable[[], IndexSnapshot]
    embedder: Embedder
    k: int = 5
    candidate_k: int = 40
    fusion: Fusion = DEFAULT_FUSION
    # chunk id -> keyword-index position, per open snapshot (a snapshot's chunks never change)
    _positions: weakref.WeakKeyDictionary[IndexSnapshot, dict[str, int]] = PrivateAttr(
        default_factory=weakref.WeakKeyDictionary
    )
    # source -> its chunks' keyword-index positions, per open snapshot (for source filters)
    _by_source: weakref.WeakKeyDictionary[IndexSnapshot, dict[str, np.ndarray]] = PrivateAttr(
        default_factory=weakref.WeakKeyDictionary
    )

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
        sources: Collection[str] | None = None,
    ) -> list[Document]:
        snapshot = self.snapshot()
        depth = k or self.k
        found = self.search(snapshot, query, depth, sources=sources)
        docs = [self._document(snapshot, snapshot.by_id[f.key], f) for f in found]
        # after the ranked ones: ranks and scores stay what search says
        return docs + self._named(snapshot, query, docs, sources)

    def _named(
        self,
        snapshot: IndexSnapshot,
        query: str,
        docs: list[Document],
        sources: Collection[str] | None,
    ) -> list[Document]:
        """Passages of the documents ``query`` names that ``docs`` lack (rag.retrieve.named)."""
        files = snapshot.manifest.files
        allowed = files.keys() if sources is None else [s for s in sources if s in files]
        named = identified_sources(query, allowed)[:MAX_NAMED]
        # a document's lead alone (a PEP's header) does not say what the question asks:
        # "Explain what function annotations in PEP 3107 are." retrieved PEP 3107's header
        # and PEP 484's passages that cite it, so PEP 3107's body is searched too
        lead = {s: files[s].chunks[0].id for s in named if files[s].chunks}
        body = {
            d.metadata["source"]
            for d in docs
            if d.metadata["chunk_id"] != lead.get(d.metadata["source"])
        }
        ids = {d.metadata["chunk_id"] for d in docs}
        added: list[Document] = []
        for source in named:
            if source not in body:
                found = self.search(snapshot, query, self.k + 1, sources=[source])  # + its lead
                fresh = [f for f in found if f.key not in ids][: self.k]
                added += [self._document(snapshot, snapshot.by_id[f.key], f) for f in fresh]
        for chunk in lead_chunks(query, docs + added, files):
            added.append(self._document(snapshot, chunk, Fused(chunk.id, 0.0)))
        for doc in added:
            doc.metadata[NAMED_LEAD] = True
        return added

    def document(self, source: str) -> list[Document]:
        """Every chunk of ``source`` as a passage, in order (none when the index lost it)."""
        snapshot = self.snapshot()
        chunks = entry.chunks if (entry := snapshot.manifest.files.get(source)) else []
        return [self._document(snapshot, c, Fused(c.id, 0.0)) for c in chunks]

    def search(
        self,
        snapshot: IndexSnapshot,
        query: str,
        k: int,
        *,
        sources: Collection[str] | None = None,
    ) -> list[Fused]:
        """The fused top ``k`` for ``query``, keyed by chunk id.

        ``sources`` (exact source paths; None = every document) restricts both lists to
        those documents: the dense search runs within their chunk ids (see
        :meth:`ChromaVectors.query <rag.store.vectors.ChromaVectors.query>`) and a 0/1 mask over
        the keyword-index positions zeroes BM25 elsewhere. The fusion
        then sees only candidates from the chosen documents, so its normalisation is not
        skewed by chunks that could never be returned. Sources the index no longer holds
        (deleted by an ingest since they were resolved) are ignored; if none is left the
        result is empty.
        """
        candidates = max(self.candidate_k, k)
        chunks = snapshot.chunks
        chosen: list[str] | None = None
        mask: np.ndarray | None = None
        if sources is not None:
            chosen = sorted(s for s in set(sources) if s in snapshot.manifest.files)
            if not chosen:
                return []
            mask = self._mask(snapshot, chosen)
        dense: list[tuple[str, float]] = []
        query_vector = None
        if self.fusion.method != "bm25":
            query_vector = self.embedder.encode([query])[0]
            ids = None
            if chosen is not None:
                files = snapshot.manifest.files
                ids = [chunk.id for source in chosen for chunk in files[source].chunks]
            dense = snapshot.vectors.query(query_vector, candidates, within=ids)
        keyword: list[tuple[str, float]] = []
        bm25_all = None
        drop = self.fusion.drop_question_words
        if self.fusion.method != "dense":
            if self.fusion.fill_missing and self.fusion.method == "convex":
                bm25_all = snapshot.keyword.scores(query, drop_question_words=drop, mask=mask)
                keyword = _top(bm25_all, candidates, chunks)
            else:
                found = snapshot.keyword.search(
                    query, candidates, drop_question_words=drop, mask=mask
                )
                keyword = [(chunks[p].id, s) for p, s in found]
        dense_fill = bm25_fill = None
        if bm25_all is not None and query_vector is not None:
            position = self._position_map(snapshot)
            seen = {cid for cid, _ in dense}
            bm25_fill = {cid: float(bm25_all[position[cid]]) for cid in seen if cid in position}
            missing = [cid for cid, _ in keyword if cid not in seen]
            vectors = snapshot.vectors.vectors(missing) if missing else {}
            dense_fill = {cid: float(vec @ query_vector) for cid, vec in vectors.items()}
        fused = fuse(dense, keyword, self.fusion, dense_fill=dense_fill, bm25_fill=bm25_fill)
        if chosen is not None:  # a server-side collection is shared: check, do not trust
            allowed = set(chosen)
            return [
                f
                for f in fused
                if f.key in snapshot.by_id and snapshot.by_id[f.key].source in allowed
            ][:k]
        return [f for f in fused if f.key in snapshot.by_id][:k]

    def _mask(self, snapshot: IndexSnapshot, sources: Iterable[str]) -> np.ndarray:
        """1.0 at the keyword-index positions of ``sources``' chunks, 0.0 elsewhere."""
        by_source = self._by_source.get(snapshot)
        if by_source is None:
            grouped: dict[str, list[int]] = {}
            for i, chunk in enumerate(snapshot.chunks):
                grouped.setdefault(chunk.source, []).append(i)
            by_source = {src: np.asarray(pos, dtype=np.int64) for src, pos in grouped.items()}
            self._by_source[snapshot] = by_source
        mask = np.zeros(len(snapshot.chunks), dtype=np.float32)
        for source in sources:
            positions = by_source.get(source)
            if positions is not None:
                mask[positions] = 1.0
        return mask

    def _position_map(self, snapshot: IndexSnapshot) -> dict[str, int]:
        positions = self._positions.get(snapshot)
        if positions is None:
            positions = {chunk.id: i for i, chunk in enumerate(snapshot.chunks)}
            self._positions[snapshot] = positions
        return positions

    @staticmethod
    def _document(snapshot: IndexSnapshot, chunk: ChunkRecord, info: Fused) -> Document:
        entry = snapshot.manifest.files[chunk.source]
        page = page_at(entry.pages, chunk.start)
        locations = within(entry.locations, chunk.start, chunk.end)
        metadata = {
            "chunk_id": chunk.id,
            "source": chunk.source,
            "title": entry.title,
            "heading": chunk.heading,
            "start": chunk.start,
            "end": chunk.end,
            "page": page,
            "location": locations[0][1] if locations else "",
            # where each page/location starts inside the chunk, for citations within it
            "pages": within(entry.pages, chunk.start, chunk.end),
            "locations": locations,
            "score": info.score,
            "dense_score": info.dense_score,
            "bm25_score": info.bm25_score,
            "dense_rank": info.dense_rank,
            "bm25_rank": info.bm25_rank,
        }
        return Document(page_content=snapshot.chunk_text(chunk), metadata=metadata, id=chunk.id)


def _top(scores: np.ndarray, k: int, chunks: Sequence[ChunkRecord]) -> list[tuple[str, float]]:
    """The ``k`` best positive BM25 scores as ``(chunk id, score)``, best first."""
    if scores.size == 0:
        return []
    k = min(k, scores.size)
    best = np.argpartition(-scores, k - 1)[:k]
    best = best[np.argsort(-scores[best], kind="stable")]
    return [(chunks[int(p)].id, float(scores[p])) for p in best if scores[p] > 0]


def to_passage(doc: Document) -> Passage:
    """The typed view of a retrieved Document."""
    m = doc.metadata
    return Passage(
        chunk_id=m["chunk_id"],
        source=m["source"],
        text=doc.page_content,
        start=m["start"],
        end=m["end"],
        score=m["score"],
        title=m.get("title", ""),
        heading=m.get("heading", ""),
        page=m.get("page"),
        location=m.get("location", ""),
        dense_score=m.get("dense_score"),
        bm25_score=m.get("bm25_score"),
        dense_rank=m.get("dense_rank"),
        bm25_rank=m.get("bm25_rank"),
    )
