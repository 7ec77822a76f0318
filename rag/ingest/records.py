"""A cleaned document as index records: its chunks, their ids, and the texts they are found by.

Each chunk is found two ways: by its keyword text (the chunk with its document title and
section heading when it does not repeat them) in BM25, and by a dense vector of a thinned-out
version of the same text. Ids hash the source, offset and text, so an unchanged chunk keeps
its id across ingests and an edited one gets a new id.
"""

from __future__ import annotations

import hashlib
import re

from rag.clock import utc_now
from rag.convert.discovery import PARSED_MARKUP
from rag.embed.embedder import Embedder
from rag.preprocess.chunking import chunk_text
from rag.preprocess.cleaning import CleanDocument
from rag.settings import Settings
from rag.store.manifest import ChunkRecord, FileEntry
from rag.text.words import STOP_WORDS


def chunk_document(
    doc: CleanDocument, settings: Settings, embedder: Embedder
) -> tuple[FileEntry, dict[str, str]]:
    """The manifest entry of ``doc`` and, per chunk id, the text its vector is computed from."""
    chunks = chunk_text(
        doc.text,
        chunk_size=settings.chunk_size,
        chunk_overlap=settings.chunk_overlap,
        count_tokens=embedder.count_tokens,
        markup_headings=doc.kind not in PARSED_MARKUP,
    )
    dense = embedder.head(
        [dense_text(doc.title, c.heading, c.text, settings) for c in chunks],
        settings.embed_tokens,
    )
    records: list[ChunkRecord] = []
    texts: dict[str, str] = {}
    for chunk, text in zip(chunks, dense, strict=True):
        chunk_id = text_hash(f"{doc.source}\0{chunk.start}\0{chunk.text}")
        records.append(
            ChunkRecord(
                chunk_id, doc.source, chunk.start, chunk.end, chunk.heading, text_hash(text)
            )
        )
        texts[chunk_id] = text
    entry = FileEntry(
        sha256=doc.sha256,
        size=doc.size,
        mtime_ns=doc.mtime_ns,
        kind=doc.kind,
        title=doc.title,
        doc=hashlib.sha256(doc.text.encode()).hexdigest()[:24],
        ingested=utc_now(),
        metadata=doc.metadata,
        pages=doc.pages,
        chunks=records,
        locations=doc.locations,
    )
    return entry, texts


def keyword_text(title: str, heading: str, text: str) -> str:
    """The text that is keyword-indexed for a chunk, and that :func:`dense_text` thins out.

    A chunk deep inside a document rarely repeats what the document is about; prefixing the
    title and section heading (when the chunk does not start with them) restores that.
    """
    head = text[:200]
    context = [part for part in dict.fromkeys((title, heading)) if part and part not in head]
    return "\n".join([*context, text])


def dense_text(title: str, heading: str, text: str, settings: Settings) -> str:
    """What the dense vector of a chunk is computed from, before its head is taken.

    ``embed_words`` thins the text out: a mean-pooled sentence vector depends mostly on the
    words that carry content, so punctuation, symbols, repeats and stopwords (the keyword
    index's list) can go, and a token budget then covers more of the chunk.
    """
    full = keyword_text(title, heading, text) if settings.embed_context else text
    mode = settings.embed_words
    if mode == "all":
        return full
    words = _WORD.findall(full)
    if mode == "words":
        return " ".join(words)
    stop = STOP_WORDS if mode == "content" else frozenset()
    seen: set[str] = set()
    kept = []
    for word in words:
        key = word.lower()
        if key not in stop and key not in seen:
            seen.add(key)
            kept.append(word)
    return " ".join(kept)


_WORD = re.compile(r"\w+(?:['.\-]\w+)*")


def text_hash(text: str) -> str:
    """The content hash that names chunks and embedded texts (and keys the vector cache)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
