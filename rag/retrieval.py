"""Hybrid retrieval as a LangChain retriever: dense (Chroma) and BM25 lists, fused by rank.

Dense similarity finds paraphrases; BM25 finds the rare names, numbers and terms that a small
embedding model blurs. Weighted reciprocal rank fusion combines the two ranked lists without
having to make their raw scores comparable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from rag.embeddings import Embedder
from rag.index import ChunkRecord, IndexReader
from rag.types import Passage

#: RRF's damping constant: larger values flatten the difference between ranks.
RRF_K = 60


class HybridRetriever(BaseRetriever):
    """Top-``k`` chunks for a query, as Documents whose metadata say where and why.

    ``metadata`` holds ``chunk_id, source, title, heading, start, end, page, score,
    dense_score, bm25_score, dense_rank, bm25_rank``; ``page_content`` is exactly
    ``doc_text[start:end]``.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    reader: Callable[[], IndexReader]
    embedder: Embedder
    k: int = 5
    candidate_k: int = 40
    dense_weight: float = 1.0
    bm25_weight: float = 1.0

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        reader = self.reader()
        query_vector = self.embedder.encode([query])[0]
        dense = reader.vectors.query(query_vector, self.candidate_k)
        keyword = reader.keyword.search(query, self.candidate_k)
        fused: dict[str, dict[str, Any]] = {}
        for rank, (chunk_id, similarity) in enumerate(dense, 1):
            entry = fused.setdefault(chunk_id, {"score": 0.0})
            entry.update(dense_rank=rank, dense_score=similarity)
            entry["score"] += self.dense_weight / (RRF_K + rank)
        chunks = reader.chunks
        for rank, (position, score) in enumerate(keyword, 1):
            entry = fused.setdefault(chunks[position].id, {"score": 0.0})
            entry.update(bm25_rank=rank, bm25_score=score)
            entry["score"] += self.bm25_weight / (RRF_K + rank)
        best = sorted(fused.items(), key=lambda item: -item[1]["score"])[: self.k]
        return [
            self._document(reader, reader.by_id[cid], info)
            for cid, info in best
            if cid in reader.by_id
        ]

    @staticmethod
    def _document(reader: IndexReader, chunk: ChunkRecord, info: dict[str, Any]) -> Document:
        entry = reader.manifest.files[chunk.source]
        page = None
        for start, number in entry.pages:
            if start > chunk.start:
                break
            page = number
        metadata = {
            "chunk_id": chunk.id,
            "source": chunk.source,
            "title": entry.title,
            "heading": chunk.heading,
            "start": chunk.start,
            "end": chunk.end,
            "page": page,
            "score": info["score"],
            "dense_score": info.get("dense_score"),
            "bm25_score": info.get("bm25_score"),
            "dense_rank": info.get("dense_rank"),
            "bm25_rank": info.get("bm25_rank"),
        }
        return Document(page_content=reader.chunk_text(chunk), metadata=metadata, id=chunk.id)


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
        dense_score=m.get("dense_score"),
        bm25_score=m.get("bm25_score"),
        dense_rank=m.get("dense_rank"),
        bm25_rank=m.get("bm25_rank"),
    )
