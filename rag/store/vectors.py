"""The dense half of the index: chunk vectors in Chroma, embedded on disk or on a server.

We hand Chroma precomputed vectors and never let it embed (its default embedding function
would download a model). Writes are batched within ``client.get_max_batch_size()``.
Each index generation gets its own store: a folder for the embedded client, a collection
for a server. That is what lets an ingest build aside and swap instead of editing the
store readers are using.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from rag.errors import BackendError, IndexBusyError, IndexDamagedError, RagError

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

COLLECTION = "chunks"
_HNSW = {"space": "cosine", "ef_construction": 128, "ef_search": 128, "max_neighbors": 16}
#: Up to this many chunks, a restricted query ranks their stored vectors exactly, here.
EXACT_WITHIN = 256


def _chroma_settings() -> Any:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


#: What SQLite and Chroma's segment readers say when a store's files are damaged.
_DAMAGE = re.compile(
    r"malformed|not a database|file is (?:encrypted|not a database)|hnsw|segment reader|"
    r"nothing found on disk|no such table|unable to open database file|truncated|corrupt",
    re.IGNORECASE,
)


def _embedded_error(exc: Exception) -> Exception:
    """The error a user can act on for a failure of the embedded store (or ``exc`` itself)."""
    message = f"{type(exc).__name__}: {str(exc)[:200]}"
    if re.search(r"database is locked|database table is locked", str(exc), re.IGNORECASE):
        return IndexBusyError(
            f"the index database is locked by another process ({message}); try again"
        )
    if re.search(r"readonly database|read-only file system", str(exc), re.IGNORECASE):
        return RagError(f"the index folder is read-only ({message}): make it writable")
    if _DAMAGE.search(str(exc)):
        return IndexDamagedError(
            f"index is damaged: the vector store cannot be read ({message}); "
            "run `rag ingest --rebuild`"
        )
    return exc


class ChromaVectors:
    """A Chroma collection of chunk vectors with cosine similarity."""

    def __init__(self, client: Any, collection: Any, *, remote: bool, url: str = "") -> None:
        self._client = client
        self._collection = collection
        self.remote = remote
        self.url = url
        self.max_batch = int(client.get_max_batch_size())

    @contextmanager
    def _calling(self) -> Iterator[None]:
        """Store failures as errors a user can act on.

        A server that went away is a :class:`BackendError` that says which setting to check.
        An embedded store is called damaged only when the error says its files are (a
        malformed database, an unreadable HNSW segment); a locked or read-only database says
        so, and anything else (a bug, say) is raised as it is.
        """
        try:
            yield
        except Exception as exc:
            if not self.remote:
                raise _embedded_error(exc) from exc
            raise BackendError(
                f"cannot use the Chroma server at {self.url} (RAG_CHROMA_URL): "
                f"{type(exc).__name__}: {exc}; check that it is running"
            ) from exc

    # -- opening -------------------------------------------------------------------------------
    @classmethod
    def embedded(cls, path: Path, *, create: bool) -> ChromaVectors:
        """Open (or create) the persistent store in ``path``."""
        import chromadb

        if not create and not (path / "chroma.sqlite3").is_file():
            raise IndexDamagedError(
                f"index is damaged: {path / 'chroma.sqlite3'} is missing; "
                "run `rag ingest --rebuild`"
            )
        try:
            client = chromadb.PersistentClient(path=str(path), settings=_chroma_settings())
            collection = (
                client.get_or_create_collection(
                    COLLECTION, configuration={"hnsw": _HNSW}, embedding_function=None
                )
                if create
                else client.get_collection(COLLECTION, embedding_function=None)
            )
        except IndexDamagedError:
            raise
        except Exception as exc:
            raise IndexDamagedError(
                f"index is damaged: the vector store in {path} cannot be opened "
                f"({type(exc).__name__}: {exc}); run `rag ingest --rebuild`"
            ) from exc
        return cls(client, collection, remote=False)

    @classmethod
    def server(
        cls, url: str, collection_name: str, *, token: str | None, create: bool
    ) -> ChromaVectors:
        """Open (or create) ``collection_name`` on the Chroma server at ``url``."""
        import chromadb

        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise BackendError(f"RAG_CHROMA_URL must look like http://host:8000, got {url!r}")
        headers = {"Authorization": f"Bearer {token}"} if token else None
        try:
            client = chromadb.HttpClient(
                host=parsed.hostname,
                port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                ssl=parsed.scheme == "https",
                headers=headers,
                settings=_chroma_settings(),
            )
            collection = (
                client.get_or_create_collection(
                    collection_name, configuration={"hnsw": _HNSW}, embedding_function=None
                )
                if create
                else client.get_collection(collection_name, embedding_function=None)
            )
        except Exception as exc:
            raise BackendError(
                f"cannot use the Chroma server at {url} (RAG_CHROMA_URL): "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        return cls(client, collection, remote=True, url=url)

    # -- writing -------------------------------------------------------------------------------
    def add(
        self,
        ids: Sequence[str],
        vectors: np.ndarray,
        documents: Sequence[str],
        metadatas: Sequence[dict[str, Any]],
    ) -> None:
        self.forget_count()
        for lo, hi in _batches(len(ids), self.max_batch):
            with self._calling():
                self._collection.upsert(
                    ids=list(ids[lo:hi]),
                    embeddings=vectors[lo:hi],
                    documents=list(documents[lo:hi]),
                    metadatas=list(metadatas[lo:hi]),
                )

    def delete(self, ids: Sequence[str]) -> None:
        self.forget_count()
        for lo, hi in _batches(len(ids), self.max_batch):
            with self._calling():
                self._collection.delete(ids=list(ids[lo:hi]))

    # -- reading -------------------------------------------------------------------------------
    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors by id (ids that are not stored are left out)."""
        import numpy as np

        found: dict[str, np.ndarray] = {}
        for lo, hi in _batches(len(ids), self.max_batch):
            with self._calling():
                got = self._collection.get(ids=list(ids[lo:hi]), include=["embeddings"])
            for chunk_id, vector in zip(got["ids"], got["embeddings"], strict=True):
                found[chunk_id] = np.asarray(vector, dtype=np.float32)
        return found

    def all_ids(self) -> list[str]:
        ids: list[str] = []
        for batch in self._pages(include=[]):
            ids.extend(batch["ids"])
        return ids

    def copy_to(self, other: ChromaVectors) -> None:
        """Copy every record into ``other`` (used to clone a server-side collection)."""
        import numpy as np

        for batch in self._pages(include=["embeddings", "documents", "metadatas"]):
            other.add(
                batch["ids"],
                np.asarray(batch["embeddings"], dtype=np.float32),
                batch["documents"],
                batch["metadatas"],
            )

    def _pages(self, include: list[str]) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            with self._calling():
                batch = self._collection.get(include=include, limit=self.max_batch, offset=offset)
            if not batch["ids"]:
                return
            yield batch
            offset += len(batch["ids"])

    def query(
        self, vector: np.ndarray, k: int, *, within: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        """The ``k`` nearest chunks as ``(id, cosine similarity)``, best first.

        ``within`` (chunk ids; None = all) restricts the search to those chunks, for a
        question asked within chosen documents; fewer than ``k`` come back when they are
        fewer. See :meth:`_query_within` for how.
        """
        if within is not None:
            return self._query_within(vector, k, within)
        n = min(k, self.count())
        if n == 0:
            return []
        with self._calling():
            result = self._collection.query(
                query_embeddings=[vector], n_results=n, include=["distances"]
            )
        return _ranked(result)

    def _query_within(
        self, vector: np.ndarray, k: int, ids: Sequence[str]
    ) -> list[tuple[str, float]]:
        """Nearest among ``ids``: exact for a few chunks, Chroma's filtered HNSW for more.

        Measured on the 21,550-chunk index ``bench/source_filter.py`` builds (embedded, 2 cores):
        a ``where={"source": {"$in": [...]}}`` metadata filter costs 29 ms for one document
        and grows with the list (94 ms for 5,000 documents, 192 ms for 10,000), while an
        ``ids=`` restriction costs 9-12 ms from 1,000 chunks up but about 23 ms below that
        (Chroma's brute-force path for small sets). Reading a few hundred stored vectors and
        ranking them here takes 1-16 ms and is exact. Ids also come from the manifest this
        reader checked against the store, so nothing outside the chosen chunks can appear.
        """
        if not ids or k <= 0:
            return []
        if len(ids) <= EXACT_WITHIN:
            import numpy as np

            found = self.vectors(ids)
            if not found:
                return []
            keys = list(found)
            matrix = np.stack([found[key] for key in keys])
            query = np.asarray(vector, dtype=np.float32)
            norms = np.linalg.norm(matrix, axis=1) * float(np.linalg.norm(query))
            sims = (matrix @ query) / np.where(norms > 0, norms, 1.0)
            order = np.argsort(-sims, kind="stable")[:k]
            return [(keys[i], float(sims[i])) for i in order]
        with self._calling():
            result = self._collection.query(
                query_embeddings=[vector],
                n_results=min(k, len(ids)),
                ids=list(ids),
                include=["distances"],
            )
        return _ranked(result)

    def count(self) -> int:
        if not hasattr(self, "_count"):
            with self._calling():
                self._count = int(self._collection.count())
        return self._count

    def forget_count(self) -> None:
        self.__dict__.pop("_count", None)

    # -- lifecycle -----------------------------------------------------------------------------
    def drop(self) -> None:
        """Delete this collection (server mode; embedded stores are deleted as folders)."""
        with self._calling():
            self._client.delete_collection(self._collection.name)

    def close(self) -> None:
        close = getattr(self._client, "close", None)
        if close is not None:
            try:
                close()
            except Exception:
                log.debug("closing the Chroma client failed", exc_info=True)


def generation_vectors(
    gen: Path, vectors: Mapping[str, Any], *, url: str | None, token: str | None
) -> ChromaVectors:
    """The vector store generation ``gen`` owns, as its manifest's ``vectors`` entry records it.

    A server-backed generation owns the server collection the entry names (on the server at
    ``url``); any other owns the embedded folder ``gen/chroma``. Opened, never created: the
    one rule for reading, extending, checking and dropping a generation's vectors.
    """
    if vectors.get("kind") == "server":
        return ChromaVectors.server(url, vectors["collection"], token=token, create=False)
    return ChromaVectors.embedded(gen / "chroma", create=False)


def copy_store(src: Path, dst: Path) -> None:
    """Clone an embedded store folder (the source must not be written meanwhile)."""
    shutil.copytree(src, dst)


def _ranked(result: dict[str, Any]) -> list[tuple[str, float]]:
    """A Chroma query result as ``(id, cosine similarity)``, best first."""
    return [
        (chunk_id, 1.0 - float(distance))
        for chunk_id, distance in zip(result["ids"][0], result["distances"][0], strict=True)
    ]


def _batches(n: int, size: int) -> Iterator[tuple[int, int]]:
    for lo in range(0, n, size):
        yield lo, min(n, lo + size)
