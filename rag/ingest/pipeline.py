"""Ingest: corpus folder -> cleaned documents -> chunks -> vectors + BM25, as a new generation.

The run is incremental. Files whose size and mtime (or, failing that, content hash) match the
live manifest are not read again; chunk ids hash the chunk's source, offset and text, so an
unchanged corpus writes nothing, an edited file replaces only its own chunks and a deleted file
loses its chunks. A vector is never computed twice for the same text: vectors of chunks that
merely moved are copied from the previous generation, and every vector computed is kept in a
content-hash cache (``index/cache/``) that also serves rebuilds and edits that are undone.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.clock import utc_now
from rag.convert.discovery import KINDS, discover, file_digest
from rag.convert.loaders import READING, SkipFile, load
from rag.embed.embedder import Embedder
from rag.embed.vector_cache import VectorCache
from rag.errors import CorpusError, IndexDamagedError, IndexMismatchError
from rag.ingest.generation_store import (
    add_chunks,
    discard,
    open_store,
    reusable_vectors,
    store_readable,
)
from rag.ingest.records import chunk_document, keyword_text, text_hash
from rag.ingest.steps import Steps
from rag.preprocess.cleaning import CleanDocument, clean
from rag.protocols import Progress
from rag.results import IngestSummary, SkippedFile
from rag.settings import Settings
from rag.store.bm25 import KeywordIndex
from rag.store.generations import RESUME, IndexDir, check_inventory
from rag.store.manifest import ChunkRecord, FileEntry, Manifest
from rag.store.page_boxes import box_path

log = logging.getLogger(__name__)


@dataclass
class _Scan:
    """What the corpus holds compared with the live manifest."""

    changed: dict[str, CleanDocument] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)


def ingest(
    settings: Settings,
    embedder: Embedder,
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
    cache_dir: Path | None = None,
) -> IngestSummary:
    """Bring the index in ``settings.index_dir`` in line with ``settings.corpus_dir``.

    ``cache_dir`` holds the embedding cache (default ``index_dir/cache``); pointing several
    indexes at one folder lets them share vectors.

    Raises:
        CorpusError: the corpus folder is missing or has no indexable file (the index is
            left untouched).
        IndexBusyError: another ingest holds the index.
    """
    started = time.perf_counter()
    steps = Steps(settings.pause_point, settings.index_dir / RESUME, progress)
    corpus = settings.corpus_dir
    if not corpus.is_dir():
        raise CorpusError(f"corpus folder {corpus} does not exist: create it and add documents")
    token = settings.chroma_secret
    root = IndexDir(settings.index_dir, chroma_token=token)
    with root.writing():
        prev_gen, prev = _previous(root)
        compatible = prev is not None and not rebuild and _compatible(prev, settings, embedder)
        log.info("phase reading: scanning %s", corpus)
        steps.begin("reading")
        scan = _scan(corpus, prev if compatible else None, settings, steps)
        changes = compatible and (scan.changed or set(prev.files) - set(scan.unchanged))
        if changes and not store_readable(prev_gen, prev, settings):  # extend only a healthy store
            prev_gen, prev, compatible = None, None, False
            scan = _scan(corpus, None, settings, steps)
        present = set(scan.changed) | set(scan.unchanged)
        removed = sorted(set(prev.files) - present) if prev else []
        if not present:
            reasons = "; ".join(f"{s.path}: {s.reason}" for s in scan.skipped[:5])
            raise CorpusError(
                f"no indexable documents in {corpus}"
                + (f" ({len(scan.skipped)} skipped: {reasons})" if scan.skipped else "")
                + "; supported: "
                + " ".join(sorted(KINDS))
            )
        summary = dict(
            added=sorted(s for s in scan.changed if not prev or s not in prev.files),
            updated=sorted(s for s in scan.changed if prev and s in prev.files),
            removed=removed,
            unchanged=sorted(scan.unchanged),
            skipped=scan.skipped,
        )
        if compatible and prev_gen is not None and not scan.changed and not removed:
            _prepare_queries(embedder)
            return IngestSummary(
                **summary,
                chunks=prev.chunk_count,
                seconds=time.perf_counter() - started,
                index_path=str(prev_gen),
            )
        gen = root.new_generation()
        try:
            cache = _open_cache(cache_dir or settings.index_dir / "cache", settings, embedder)
            try:
                counts = _build(
                    gen, scan, prev_gen, prev, compatible, settings, embedder, cache, steps
                )
                log.info("phase publishing: %s", gen.name)
                steps.begin("publishing")
                root.publish(gen, lambda done: steps.reached("publishing", done))
            finally:
                if cache is not None:
                    cache.prune()
                    cache.close()
        except BaseException:
            discard(gen, settings, token)
            raise
        root.collect_garbage(keep={gen} | ({prev_gen} if prev_gen else set()))
    _prepare_queries(embedder)
    return IngestSummary(
        **summary, **counts, seconds=time.perf_counter() - started, index_path=str(gen)
    )


def _previous(root: IndexDir) -> tuple[Path | None, Manifest | None]:
    try:
        gen = root.current()
        if gen is None:
            return None, None
        check_inventory(gen)  # never extend a damaged generation: rebuild instead
        return gen, root.read_manifest(gen)
    except (IndexDamagedError, IndexMismatchError) as exc:
        log.warning("ignoring the previous index, it will be rebuilt: %s", exc)
        return None, None


def _embedding_id(settings: Settings, embedder: Embedder) -> dict[str, Any]:
    return {"model": embedder.model_id, "dtype": settings.embedding_dtype}


def _chunking_id(settings: Settings) -> dict[str, Any]:
    """How documents become records and embedded texts: any change means a rebuild."""
    return {
        "reading": READING,
        "chunk_size": settings.chunk_size,
        "chunk_overlap": settings.chunk_overlap,
        "embed_tokens": settings.embed_tokens,
        "embed_context": settings.embed_context,
        "embed_words": settings.embed_words,
    }


def _compatible(prev: Manifest, settings: Settings, embedder: Embedder) -> bool:
    """Whether the previous generation can be extended instead of rebuilt from scratch."""
    if prev.vectors.get("kind") == "server":  # the collection to clone must be on this server
        same_vectors = prev.vectors.get("url") == settings.chroma_url
    else:
        same_vectors = not settings.chroma_url
    return (
        same_vectors
        and prev.chunking == _chunking_id(settings)
        and _same_embedding(prev, settings, embedder)
    )


def _same_embedding(prev: Manifest, settings: Settings, embedder: Embedder) -> bool:
    """Whether the previous generation's vectors come from this model and dtype."""
    return {k: prev.embedding.get(k) for k in ("model", "dtype")} == _embedding_id(
        settings, embedder
    )


def _scan(corpus: Path, prev: Manifest | None, settings: Settings, steps: Steps) -> _Scan:
    files, skipped = discover(corpus)
    scan = _Scan(skipped=skipped)
    root = corpus.resolve()
    max_bytes = int(settings.max_file_mb * 1e6)
    pdfs = 0  # PDFs handed to the parser so far (the test seam RAG_PAUSE_AT=pdf:N counts them)
    for i, path in enumerate(files, 1):
        source = path.relative_to(root).as_posix()
        entry = prev.files.get(source) if prev else None
        try:
            stat = path.stat()
            if entry and (entry.size, entry.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
                scan.unchanged.append(source)
                continue
            data, sha = file_digest(path, max_bytes)
            if entry and entry.sha256 == sha:
                scan.unchanged.append(source)
                continue
            stall = False
            if KINDS[path.suffix.lower()] == "pdf":
                stall = steps.point == ("pdf", pdfs)
                pdfs += 1
                if stall:
                    log.warning(
                        "the parser of %s blocks until the %g s time limit stops it "
                        "(RAG_PAUSE_AT=pdf:%d, a test seam)",
                        source,
                        settings.file_timeout,
                        pdfs - 1,
                    )
            raw = load(
                path,
                source,
                data,
                sha,
                timeout=settings.file_timeout,
                max_bytes=max_bytes,
                stall=stall,
            )
            scan.changed[source] = clean(raw)
        except SkipFile as exc:
            scan.skipped.append(SkippedFile(source, str(exc)))
        except FileNotFoundError:
            scan.skipped.append(SkippedFile(source, "file disappeared while the corpus was read"))
        except (OSError, RecursionError, MemoryError, UnicodeError) as exc:
            scan.skipped.append(SkippedFile(source, f"cannot read ({type(exc).__name__}: {exc})"))
        steps.report("reading", i, len(files))
    return scan


def _build(
    gen: Path,
    scan: _Scan,
    prev_gen: Path | None,
    prev: Manifest | None,
    compatible: bool,
    settings: Settings,
    embedder: Embedder,
    cache: VectorCache | None,
    steps: Steps,
) -> dict[str, int]:
    """Write a complete generation into ``gen``; the caller publishes it."""
    files: dict[str, FileEntry] = {}
    if compatible and prev is not None:
        files.update({s: prev.files[s] for s in scan.unchanged})
    fresh: dict[str, tuple[ChunkRecord, str]] = {}  # id -> (record, text to embed)
    for source, doc in scan.changed.items():
        entry, texts = chunk_document(doc, settings, embedder)
        files[source] = entry
        for record in entry.chunks:
            fresh[record.id] = (record, texts[record.id])

    docs_dir = gen / "docs"
    docs_dir.mkdir()
    for source, doc in scan.changed.items():
        (docs_dir / f"{files[source].doc}.txt").write_text(doc.text, encoding="utf-8")
        if doc.boxes is not None:  # a PDF: where each character is drawn, for citations
            doc.boxes.save(box_path(docs_dir, files[source].doc))
    for source in scan.unchanged:
        _link_or_copy(
            prev_gen / "docs" / f"{files[source].doc}.txt",  # type: ignore[operator]
            docs_dir / f"{files[source].doc}.txt",
        )
        boxes = box_path(prev_gen / "docs", files[source].doc)  # type: ignore[operator]
        if boxes.exists():
            _link_or_copy(boxes, box_path(docs_dir, files[source].doc))

    old_ids = (
        {c.id for e in prev.files.values() for c in e.chunks} if compatible and prev else set()
    )
    keep_ids = {c.id for e in files.values() for c in e.chunks}
    stale = sorted(old_ids - keep_ids)
    new = [fresh[i] for i in sorted(fresh) if i not in old_ids]

    store, vectors_info = open_store(gen, prev_gen, prev, compatible, settings)
    try:
        same = prev is not None and _same_embedding(prev, settings, embedder)
        by_hash = reusable_vectors(store, prev, compatible, prev_gen, settings, same, new)
        missing = {record.hash: text for record, text in new if record.hash not in by_hash}
        if cache is not None and missing:
            by_hash.update(cache.get(sorted(missing)))
        to_embed = sorted({text for h, text in missing.items() if h not in by_hash})
        log.info("phase embedding: %d texts", len(to_embed))
        steps.report("embedding", 0, len(to_embed))
        vectors = embedder.encode(to_embed, progress=steps.report)
        computed = {text_hash(text): vec for text, vec in zip(to_embed, vectors, strict=True)}
        if cache is not None and computed:
            cache.put(computed)
        by_hash.update(computed)
        log.info("phase writing: %d new and %d stale chunks", len(new), len(stale))
        steps.begin("writing")
        if stale:
            store.delete(stale)
        add_chunks(store, new, by_hash, files, scan.changed, steps.report)
    finally:
        store.close()

    log.info("phase keyword: indexing %d chunks", sum(len(e.chunks) for e in files.values()))
    steps.begin("keyword")
    keyword = KeywordIndex.build(_keyword_texts(files, scan.changed, docs_dir))
    steps.reached("keyword", 1)
    keyword.save(gen / "bm25")
    manifest = Manifest(
        embedding={**_embedding_id(settings, embedder), "dim": embedder.dimension},
        chunking=_chunking_id(settings),
        vectors=vectors_info,
        files=files,
        created=utc_now(),
    )
    (gen / "manifest.json").write_text(manifest.to_json(), encoding="utf-8")
    return {
        "chunks": manifest.chunk_count,
        "written": len(new),
        "deleted": len(stale),
        "embedded": len(to_embed),
    }


def _open_cache(folder: Path, settings: Settings, embedder: Embedder) -> VectorCache | None:
    fingerprint = getattr(embedder, "fingerprint", None)
    if fingerprint is None:  # an embedder we cannot identify precisely enough to cache for
        return None
    path = folder / f"vectors-{fingerprint}-{settings.embedding_dtype}.sqlite"
    try:
        return VectorCache(path, embedder.dimension)
    except Exception as exc:  # noqa: BLE001 - the cache is an optimisation, never a failure
        log.warning("embedding cache unavailable (%s); every new chunk is embedded", exc)
        return None


def _prepare_queries(embedder: Embedder) -> None:
    """Make the fast query-time encoder now, while the model is loaded anyway."""
    export = getattr(embedder, "export_onnx", None)
    if export is not None:
        export()


def _keyword_texts(
    files: dict[str, FileEntry], changed: dict[str, CleanDocument], docs_dir: Path
) -> list[str]:
    """Texts of all chunks in keyword-index order, each document read once."""
    texts: list[str] = []
    for source in sorted(files):
        entry = files[source]
        doc = changed.get(source)
        text = doc.text if doc else (docs_dir / f"{entry.doc}.txt").read_text(encoding="utf-8")
        texts.extend(
            keyword_text(entry.title, c.heading, text[c.start : c.end]) for c in entry.chunks
        )
    return texts


def _link_or_copy(src: Path, dst: Path) -> None:
    if dst.exists():
        return
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
