"""The vector store of an index generation: opened, cloned, filled, checked and discarded.

A generation's vectors live in an embedded Chroma folder (``gen/chroma``) or, with
``RAG_CHROMA_URL``, in a server collection of their own (named per collection and generation,
so collections never share one). Extending an index clones the previous store; vectors of
chunks that only moved are read back rather than computed again.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from rag.errors import IndexDamagedError, RagError
from rag.preprocess.cleaning import CleanDocument
from rag.protocols import Progress
from rag.settings import Settings
from rag.store.manifest import ChunkRecord, FileEntry, Manifest
from rag.store.vectors import ChromaVectors, copy_store, generation_vectors

log = logging.getLogger("rag.ingest.pipeline")


def store_readable(gen: Path, manifest: Manifest, settings: Settings) -> bool:
    """Whether the vector store of ``gen`` opens and counts what its manifest lists."""
    if manifest.vectors.get("kind") == "server":
        return True  # a server's health is the server's business; errors surface as such
    try:
        store = generation_vectors(gen, manifest.vectors, url=None, token=None)
        try:
            healthy = store.count() == manifest.chunk_count
        finally:
            store.close()
    except IndexDamagedError as exc:
        log.warning("the previous vector store is damaged, rebuilding: %s", exc)
        return False
    if not healthy:
        log.warning("the previous vector store does not match its manifest, rebuilding")
    return healthy


def open_store(
    gen: Path, prev_gen: Path | None, prev: Manifest | None, compatible: bool, settings: Settings
) -> tuple[ChromaVectors, dict[str, Any]]:
    """A store for ``gen``: a clone of the previous one when extending it, else empty."""
    token = settings.chroma_secret
    if settings.chroma_url:
        name = server_collection(settings, gen)
        store = ChromaVectors.server(settings.chroma_url, name, token=token, create=True)
        if compatible and prev is not None:
            old = ChromaVectors.server(
                settings.chroma_url, prev.vectors["collection"], token=token, create=False
            )
            try:
                old.copy_to(store)
            finally:
                old.close()
        return store, {"kind": "server", "url": settings.chroma_url, "collection": name}
    if compatible and prev_gen is not None:
        copy_store(prev_gen / "chroma", gen / "chroma")
    return ChromaVectors.embedded(gen / "chroma", create=True), {"kind": "embedded"}


def reusable_vectors(
    store: ChromaVectors,
    prev: Manifest | None,
    compatible: bool,
    prev_gen: Path | None,
    settings: Settings,
    same_embedding: bool,
    new: list[tuple[ChunkRecord, str]],
) -> dict[str, Any]:
    """Vectors of the previous generation whose embedded text reappears in ``new``.

    ``same_embedding``: whether the previous generation was embedded by the same model and
    dtype (otherwise its vectors are of no use).
    """
    if prev is None or prev_gen is None or not same_embedding:
        return {}
    wanted = {record.hash for record, _ in new}
    old_by_hash: dict[str, str] = {}
    for entry in prev.files.values():
        for chunk in entry.chunks:
            if chunk.hash in wanted:
                old_by_hash.setdefault(chunk.hash, chunk.id)
    if not old_by_hash:
        return {}
    source = store
    if not compatible:  # the new store is empty: read from the previous generation's store
        try:
            url, token = settings.chroma_url, settings.chroma_secret
            if (prev.vectors.get("kind") == "server") != bool(url):
                return {}  # on a server then, on disk now, or the other way round
            source = generation_vectors(prev_gen, prev.vectors, url=url, token=token)
        except RagError:
            return {}
    try:
        found = source.vectors(sorted(set(old_by_hash.values())))
    except IndexDamagedError as exc:
        if source is store:
            raise
        log.warning("not reusing vectors of the previous, damaged store: %s", exc)
        found = {}
    finally:
        if source is not store:
            source.close()
    return {h: found[i] for h, i in old_by_hash.items() if i in found}


def add_chunks(
    store: ChromaVectors,
    new: list[tuple[ChunkRecord, str]],
    by_hash: dict[str, Any],
    files: dict[str, FileEntry],
    changed: dict[str, CleanDocument],
    progress: Progress | None,
) -> None:
    """Write the new chunks (text, vector, metadata) in the store's largest batches."""
    import numpy as np

    if not new:
        return
    ids, vectors, documents, metadatas = [], [], [], []
    for record, _ in new:
        doc = changed[record.source]
        entry = files[record.source]
        ids.append(record.id)
        vectors.append(by_hash[record.hash])
        documents.append(doc.text[record.start : record.end])
        meta: dict[str, Any] = {
            "source": record.source,
            "start": record.start,
            "end": record.end,
            "title": entry.title,
            "heading": record.heading,
        }
        page = doc.page_at(record.start)
        if page is not None:
            meta["page"] = page
        if location := doc.location_at(record.start):
            meta["location"] = location
        metadatas.append(meta)
    step = max(store.max_batch, 1)
    for lo in range(0, len(ids), step):
        hi = lo + step
        store.add(ids[lo:hi], np.stack(vectors[lo:hi]), documents[lo:hi], metadatas[lo:hi])
        if progress:
            progress("writing", min(hi, len(ids)), len(ids))


def server_collection(settings: Settings, gen: Path) -> str:
    """The Chroma server collection of a generation: collections never share one."""
    if settings.collection == "default":
        return f"rag-{gen.name}"
    return f"rag-{settings.collection}-{gen.name}"


def discard(gen: Path, settings: Settings, token: str | None) -> None:
    """Remove a generation that was never published (its server collection too)."""
    if settings.chroma_url:
        try:
            store = ChromaVectors.server(
                settings.chroma_url, server_collection(settings, gen), token=token, create=False
            )
            store.drop()
            store.close()
        except Exception:
            log.debug("could not drop the collection of %s", gen.name, exc_info=True)
    shutil.rmtree(gen, ignore_errors=True)
