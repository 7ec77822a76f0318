"""The on-disk index: immutable generations, an atomic pointer, and locks.

Layout of ``index/``::

    CURRENT            name of the live generation (replaced atomically with os.replace)
    LOCK               held exclusively by the one running ingest
    settings.json      index-level settings that outlive generations (calibrated threshold)
    gen-<time>-<pid>/  one complete index: manifest.json, chroma/, bm25/, docs/<key>.txt
    RESUME             made only by tests: lets an ingest stopped by RAG_PAUSE_AT go on

An ingest never edits the live generation: it builds a new one beside it and then swaps the
pointer, so a crash at any moment leaves the previous index intact and a reader never sees a
half-written store. Readers hold a shared lock on their generation so an ingest never deletes
one that is still in use.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import cached_property
from pathlib import Path
from typing import IO, Any

from rag.errors import IndexBusyError, IndexDamagedError, IndexMismatchError, IndexMissingError
from rag.results import DocumentInfo
from rag.store.bm25 import KeywordIndex
from rag.store.manifest import ChunkRecord, Manifest
from rag.store.page_boxes import CharBoxes, box_path
from rag.store.vectors import ChromaVectors, generation_vectors

log = logging.getLogger(__name__)

INVENTORY = "INVENTORY.json"
#: The file a test creates to let an ingest paused by the test seam ``RAG_PAUSE_AT`` go on.
RESUME = "RESUME"
_NOT_INVENTORIED = {"READERS", INVENTORY}
_GEN_PREFIX = "gen-"


class IndexDir:
    """The ``index/`` folder: generations, the live pointer, locks and index settings."""

    def __init__(self, root: Path, *, chroma_token: str | None = None) -> None:
        self.root = root
        self._chroma_token = chroma_token

    @property
    def pointer(self) -> Path:
        return self.root / "CURRENT"

    def current(self) -> Path | None:
        """The live generation, or None when nothing was ever published."""
        try:
            name = self.pointer.read_text().strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise IndexDamagedError(
                f"index is damaged: cannot read {self.pointer} ({exc})"
            ) from exc
        gen = self.root / name
        if not name.startswith(_GEN_PREFIX) or "/" in name or not gen.is_dir():
            raise IndexDamagedError(
                f"index is damaged: {self.pointer} points to a missing generation ({name!r}); "
                "run `rag ingest --rebuild`"
            )
        return gen

    def read_manifest(self, gen: Path) -> Manifest:
        try:
            return Manifest.from_json((gen / "manifest.json").read_text(encoding="utf-8"))
        except IndexMismatchError:
            raise
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            raise IndexDamagedError(
                f"index is damaged: {gen / 'manifest.json'} is unreadable "
                f"({type(exc).__name__}); run `rag ingest --rebuild`"
            ) from exc

    # -- writing -----------------------------------------------------------------------------
    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the writer lock; a second ingest fails fast instead of waiting."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "LOCK", "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise IndexBusyError(
                    f"index is busy: another ingest is writing {self.root}; try again when it ends"
                ) from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def new_generation(self) -> Path:
        gen = self.root / f"{_GEN_PREFIX}{time.time_ns()}-{os.getpid()}"
        gen.mkdir(parents=True)
        return gen

    def publish(self, gen: Path, step: Callable[[int], None] | None = None) -> None:
        """Make ``gen`` the live generation, atomically and durably.

        The generation's file inventory (path and size of every file) is written first, so a
        reader can tell a truncated or missing file before a library trips over it.
        ``step(1)`` is called once the new pointer is written beside the old one, ``step(2)``
        once it has replaced it: the points where the ingest's test seam can stop it.
        """
        inventory = {
            path.relative_to(gen).as_posix(): path.stat().st_size
            for path in sorted(gen.rglob("*"))
            if path.is_file() and path.name not in _NOT_INVENTORIED
        }
        (gen / INVENTORY).write_text(json.dumps(inventory, separators=(",", ":")))
        _fsync_tree(gen)
        tmp = self.root / f"CURRENT.tmp-{os.getpid()}"
        with open(tmp, "w") as handle:
            handle.write(gen.name)
            handle.flush()
            os.fsync(handle.fileno())
        if step:
            step(1)
        os.replace(tmp, self.pointer)
        _fsync_dir(self.root)
        if step:
            step(2)

    def collect_garbage(self, keep: set[Path]) -> list[Path]:
        """Delete generations (and leftovers of killed runs) that no reader holds."""
        removed: list[Path] = []
        for path in self.root.iterdir():
            if path in keep:
                continue
            if path.name.startswith("CURRENT.tmp-"):
                path.unlink(missing_ok=True)
                continue
            if not path.name.startswith(_GEN_PREFIX) or not path.is_dir():
                continue
            lock = path / "READERS"
            try:
                with open(lock, "a+") as handle:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    _drop_remote_collection(path, self._chroma_token)
                    shutil.rmtree(path, ignore_errors=True)
                    removed.append(path)
            except BlockingIOError:
                log.info("keeping %s: a reader still uses it", path.name)
            except FileNotFoundError:
                shutil.rmtree(path, ignore_errors=True)
        return removed

    # -- index-level settings -------------------------------------------------------------------
    @property
    def settings_path(self) -> Path:
        return self.root / "settings.json"

    def stored_settings(self) -> dict[str, Any]:
        try:
            return json.loads(self.settings_path.read_text())
        except (FileNotFoundError, ValueError):
            return {}

    def store_settings(self, **values: Any) -> None:
        data = {**self.stored_settings(), **values}
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.settings_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        os.replace(tmp, self.settings_path)


def _check_ids(vectors: ChromaVectors, manifest: Manifest) -> None:
    """The server's collection holds exactly the manifest's chunks (not just as many)."""
    stored = set(vectors.all_ids())
    expected = {c.id for entry in manifest.files.values() for c in entry.chunks}
    if stored != expected:
        vectors.close()
        raise IndexDamagedError(
            f"index is damaged: the server's collection has {len(stored - expected)} chunks "
            f"the manifest does not list and lacks {len(expected - stored)} it does; "
            "run `rag ingest --rebuild`"
        )


def check_inventory(gen: Path) -> None:
    """Raise :class:`IndexDamagedError` if a file of ``gen`` is missing or changed size.

    Only ``stat`` calls: cheap enough for every open, and it catches truncated databases and
    deleted vector-index files, which the vector store itself reports late or obscurely.
    """
    try:
        inventory = json.loads((gen / INVENTORY).read_text())
    except FileNotFoundError:
        return  # built before inventories existed; the other checks still apply
    except (OSError, ValueError) as exc:
        raise IndexDamagedError(
            f"index is damaged: {gen / INVENTORY} is unreadable; run `rag ingest --rebuild`"
        ) from exc
    for relative, size in inventory.items():
        try:
            actual = (gen / relative).stat().st_size
        except OSError:
            actual = None
        if actual != size:
            state = "is missing" if actual is None else f"has {actual} bytes, expected {size}"
            raise IndexDamagedError(
                f"index is damaged: {gen.name}/{relative} {state}; run `rag ingest --rebuild`"
            )


def _drop_remote_collection(gen: Path, token: str | None) -> None:
    """Generations of a server-backed index own a server collection; drop it with them."""
    try:
        manifest = json.loads((gen / "manifest.json").read_text())
    except (OSError, ValueError):
        return
    vectors = manifest.get("vectors", {})
    if vectors.get("kind") != "server":
        return
    with suppress(Exception):
        store = generation_vectors(gen, vectors, url=vectors["url"], token=token)
        store.drop()
        store.close()


def _fsync_tree(path: Path) -> None:
    for dirpath, _dirnames, filenames in os.walk(path):
        for name in filenames:
            with suppress(OSError), open(os.path.join(dirpath, name), "rb") as handle:
                os.fsync(handle.fileno())
        _fsync_dir(Path(dirpath))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class IndexSnapshot:
    """A live generation opened for queries: the index as one question sees it.

    Named a snapshot, not a reader, because "reader" is the span model (:mod:`rag.read`).

    It keeps a shared lock on the generation for as long as it is open, and tells whether a
    newer generation has been published since (:meth:`is_stale`), so long-lived readers such as
    the web UI pick up an ingest without restarting.
    """

    def __init__(
        self, root: IndexDir, gen: Path, manifest: Manifest, vectors: ChromaVectors, lock: IO[str]
    ) -> None:
        self.root = root
        self.gen = gen
        self.manifest = manifest
        self.vectors = vectors
        self._lock = lock
        self._texts: dict[str, str] = {}

    @classmethod
    def open(
        cls, index_dir: Path, *, model_id: str, chroma_url: str | None, chroma_token: str | None
    ) -> IndexSnapshot:
        root = IndexDir(index_dir, chroma_token=chroma_token)
        gen = root.current()
        if gen is None:
            raise IndexMissingError(
                f"no index in {index_dir}: run `rag ingest` to build it from your corpus"
            )
        lock = open(gen / "READERS", "a+")  # noqa: SIM115 - held for the reader's lifetime
        try:
            fcntl.flock(lock, fcntl.LOCK_SH)
            check_inventory(gen)
            manifest = root.read_manifest(gen)
            built_with = manifest.embedding.get("model")
            if built_with != model_id:
                raise IndexMismatchError(
                    f"the index was built with embedding model {built_with!r} but "
                    f"RAG_EMBEDDING_MODEL is {model_id!r}: re-run `rag ingest --rebuild`"
                )
            vectors = _open_vectors(gen, manifest, chroma_url, chroma_token)
            stored, expected = vectors.count(), manifest.chunk_count
            if stored != expected:
                vectors.close()
                raise IndexDamagedError(
                    f"index is damaged: the vector store holds {stored} chunks but the manifest "
                    f"lists {expected}; run `rag ingest --rebuild`"
                )
            if vectors.remote:  # another client may have written the server's collection
                _check_ids(vectors, manifest)
        except BaseException:
            lock.close()
            raise
        return cls(root, gen, manifest, vectors, lock)

    @cached_property
    def keyword(self) -> KeywordIndex:
        return KeywordIndex.load(self.gen / "bm25")

    @cached_property
    def chunks(self) -> list[ChunkRecord]:
        return self.manifest.ordered_chunks()

    @cached_property
    def by_id(self) -> dict[str, ChunkRecord]:
        return {chunk.id: chunk for chunk in self.chunks}

    def documents(self) -> list[DocumentInfo]:
        """What this generation holds, one entry per document, by path."""
        return [
            DocumentInfo(source, e.title, e.kind, e.size, len(e.chunks), e.ingested, e.metadata)
            for source, e in sorted(self.manifest.files.items())
        ]

    def doc_text(self, source: str) -> str:
        """The cleaned text of ``source`` that all offsets refer to."""
        if source not in self._texts:
            entry = self.manifest.files[source]
            path = self.gen / "docs" / f"{entry.doc}.txt"
            try:
                self._texts[source] = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise IndexDamagedError(
                    f"index is damaged: {path} is missing; run `rag ingest --rebuild`"
                ) from exc
        return self._texts[source]

    def doc_boxes(self, source: str) -> CharBoxes | None:
        """Where each character of ``source``'s text is on its PDF page (None: not a PDF).

        Not cached: a citation needs a few of them, and a document's boxes are large.
        """
        entry = self.manifest.files.get(source)
        path = box_path(self.gen / "docs", entry.doc) if entry else None
        if path is None or not path.exists():
            return None
        try:
            return CharBoxes.load(path)
        except (OSError, ValueError, KeyError) as exc:
            raise IndexDamagedError(
                f"index is damaged: {path} is unreadable; run `rag ingest --rebuild`"
            ) from exc

    def chunk_text(self, chunk: ChunkRecord) -> str:
        return self.doc_text(chunk.source)[chunk.start : chunk.end]

    def is_stale(self) -> bool:
        try:
            return self.root.current() != self.gen
        except IndexDamagedError:
            return False

    def close(self) -> None:
        self.vectors.close()
        with suppress(OSError):
            self._lock.close()


def _open_vectors(
    gen: Path, manifest: Manifest, chroma_url: str | None, chroma_token: str | None
) -> ChromaVectors:
    kind = manifest.vectors.get("kind")
    if kind == "server":
        if not chroma_url:
            raise IndexMismatchError(
                "the index keeps its vectors on a Chroma server but RAG_CHROMA_URL is not set"
            )
    elif chroma_url:
        raise IndexMismatchError(
            "RAG_CHROMA_URL is set but this index keeps its vectors on disk: "
            "re-run `rag ingest` to build it on the server"
        )
    return generation_vectors(gen, manifest.vectors, url=chroma_url, token=chroma_token)
