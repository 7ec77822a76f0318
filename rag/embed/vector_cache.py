"""Vectors by the hash of the text they embed, in one SQLite file, kept across ingests.

This is not the index: the index's vectors live in Chroma (:mod:`rag.store.vectors`) and belong to
one generation. The cache outlives generations, so a rebuild, an edit that is undone or a
document copied under another name costs a lookup instead of a forward pass.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

#: Hashes per SQL statement, well under SQLite's limit on bound parameters.
_PER_STATEMENT = 500


class VectorCache:
    """Vectors by the hash of the text they embed, kept across ingests, rebuilds and edits.

    Embedding dominates ingest, and the same text comes back often: a file edited back, an
    index rebuilt with ``--rebuild``, a document copied under another name. The cache (one
    SQLite file per model and dtype, in the index folder) makes each of those a lookup.
    Entries not used by any of the last ``keep_runs`` ingests are dropped, so it stays about
    the size of the live index. A damaged cache is deleted and rebuilt, never trusted.

    Args:
        path: the SQLite file; its name should say which model and dtype made the vectors,
            since nothing inside it does.
        dim: vector length; a stored vector of another length is never served.
        keep_runs: how many ingests an unused vector survives.
    """

    def __init__(self, path: Path, dim: int, *, keep_runs: int = 5) -> None:
        self.path = path
        self.dim = dim
        self.keep_runs = keep_runs
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = self._open()
        except sqlite3.DatabaseError:
            log.warning("the embedding cache %s is damaged; starting a new one", path)
            for stale in (
                path,
                path.with_name(f"{path.name}-wal"),
                path.with_name(f"{path.name}-shm"),
            ):
                stale.unlink(missing_ok=True)
            self._db = self._open()
        row = self._db.execute("SELECT COALESCE(MAX(run), 0) FROM vectors").fetchone()
        self.run = int(row[0]) + 1

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS vectors "
            "(hash TEXT PRIMARY KEY, run INTEGER NOT NULL, vector BLOB NOT NULL) WITHOUT ROWID"
        )
        return db

    def get(self, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """Cached vectors of ``hashes`` (misses are left out); hits count as used now.

        An unreadable cache answers nothing (everything is embedded) rather than failing.
        """
        import numpy as np

        found: dict[str, np.ndarray] = {}
        size = self.dim * 4
        try:
            for part in _parts(list(hashes)):
                marks = ",".join("?" * len(part))
                rows = self._db.execute(
                    f"SELECT hash, vector FROM vectors WHERE hash IN ({marks})", part
                ).fetchall()
                for key, blob in rows:
                    if len(blob) == size:
                        found[key] = np.frombuffer(blob, dtype=np.float32).copy()
            self._touch(list(found))
        except sqlite3.DatabaseError as exc:
            log.warning("embedding cache unreadable (%s); embedding instead", exc)
            return {}
        return found

    def put(self, vectors: dict[str, np.ndarray]) -> None:
        """Store ``vectors`` by hash; a failed write is logged, never raised."""
        import numpy as np

        rows = [
            (key, self.run, np.asarray(vec, dtype=np.float32).tobytes())
            for key, vec in vectors.items()
        ]
        try:
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows)
        except sqlite3.DatabaseError as exc:
            log.warning("could not write the embedding cache (%s)", exc)

    def _touch(self, keys: list[str]) -> None:
        with self._db:
            self._db.execute("BEGIN")
            for part in _parts(keys):
                marks = ",".join("?" * len(part))
                self._db.execute(
                    f"UPDATE vectors SET run = ? WHERE hash IN ({marks})", [self.run, *part]
                )

    def prune(self) -> None:
        """Forget vectors that no recent ingest used."""
        try:
            self._db.execute("DELETE FROM vectors WHERE run <= ?", (self.run - self.keep_runs,))
        except sqlite3.DatabaseError as exc:
            log.warning("could not prune the embedding cache (%s)", exc)

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])

    def close(self) -> None:
        self._db.close()


def _parts(keys: list[str]) -> Iterator[list[str]]:
    for lo in range(0, len(keys), _PER_STATEMENT):
        yield keys[lo : lo + _PER_STATEMENT]
