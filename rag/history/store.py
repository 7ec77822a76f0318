"""Conversations in one SQLite file (stdlib ``sqlite3``), shared by a server's threads."""

from __future__ import annotations

import builtins
import json
import logging
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rag.clock import iso
from rag.history.export import answer_from_dict, conversation_json, conversation_markdown
from rag.history.records import (
    CONVERSATION_ID,
    SCHEMA_VERSION,
    Conversation,
    ConversationNotFound,
    HistoryUnavailable,
    Turn,
    short_title,
)
from rag.results import Answer

log = logging.getLogger("rag.history")

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS conversations (id TEXT PRIMARY KEY, owner TEXT NOT NULL,"
    " title TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS conversations_by_owner ON conversations (owner, updated)",
    "CREATE TABLE IF NOT EXISTS turns (conversation_id TEXT NOT NULL"
    " REFERENCES conversations (id) ON DELETE CASCADE, position INTEGER NOT NULL,"
    " question TEXT NOT NULL, query TEXT NOT NULL, answer TEXT NOT NULL, asked TEXT NOT NULL,"
    " PRIMARY KEY (conversation_id, position))",
)


def _cannot_share(error: sqlite3.Error) -> bool:
    """Whether opening failed on the file system (read-only disk, -shm not creatable).

    SQLite reports a WAL file whose -shm index cannot be created as SQLITE_CANTOPEN, a file it
    may not write as SQLITE_READONLY; locks, damage and a newer schema are not this.
    """
    name = getattr(error, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_CANTOPEN", "SQLITE_READONLY"))


def unavailable(path: Path, error: BaseException) -> HistoryUnavailable:
    name = getattr(error, "sqlite_errorname", "") or ""
    text = str(error).lower()
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        reason = "locked"
    elif (
        name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT"))
        or "malformed" in text
        or ("not a database" in text)
    ):
        reason = "damaged"
    elif name.startswith("SQLITE_READONLY") or "readonly" in text or "read-only" in text:
        reason = "read-only"
    elif name.startswith("SQLITE_FULL"):
        reason = "on a full disk"
    else:
        reason = "unusable"
    detail = str(error) or type(error).__name__
    return HistoryUnavailable(
        f"the history database {path} is {reason} ({detail})", reason=reason, detail=detail
    )


class HistoryStore:
    """Conversations in a SQLite file, opened on first use and shared by all threads.

    One connection (``check_same_thread=False``) guarded by a lock keeps a Gradio server's
    worker threads serialized; WAL mode lets a CLI read while the server writes.
    ``read_only`` opens with ``mode=ro`` (a history kept for reading, or a test where the
    process is root and file permissions do not stop writes).

    A WAL database cannot be read, even with ``mode=ro``, when its -shm index is missing and
    cannot be created (a read-only disk or directory); without a fallback such a history
    would look empty. So an existing file that cannot be opened for writing is opened
    ``mode=ro`` (it still sees a live writer's commits), and if that fails too, ``immutable``:
    SQLite then reads the main file without -shm, -wal or locks, which is only sound because
    nothing can be writing there either. Either way writes fail as "read-only", and each
    failure closes the connection, so a disk that became writable is used normally again.
    """

    def __init__(self, path: Path, *, timeout: float = 2.0, read_only: bool = False) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self.read_only = read_only
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.RLock()
        self._last = datetime.min.replace(tzinfo=UTC)
        self._warned = False
        #: how the open connection reads the file: "rw", "ro" or "immutable" (None: closed)
        self.mode: str | None = None

    # -- connection --------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        """The connection, opened the most capable way the file allows (see the class)."""
        if self._conn is not None:
            return self._conn
        modes = ("ro", "immutable") if self.read_only else ("rw", "ro", "immutable")
        first: sqlite3.OperationalError | None = None
        for mode in modes:
            try:
                self._conn = self._open(mode)
                self.mode = mode
            except sqlite3.OperationalError as error:
                first = first or error
                if mode == modes[-1] or not (_cannot_share(error) and self.path.is_file()):
                    raise
                continue
            if first is not None:
                self._fell_back(mode, first)
            return self._conn
        raise AssertionError("unreachable: the last mode returns or raises")

    def _open(self, mode: str) -> sqlite3.Connection:
        """One configured connection: ``rw``, ``ro`` (``mode=ro``) or ``immutable``."""
        if mode == "rw":
            self.path.parent.mkdir(parents=True, exist_ok=True)
            target, uri = str(self.path), False
        else:
            query = "mode=ro&immutable=1" if mode == "immutable" else "mode=ro"
            target, uri = f"{self.path.resolve().as_uri()}?{query}", True
        conn = sqlite3.connect(
            target, timeout=self.timeout, isolation_level=None, check_same_thread=False, uri=uri
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            if mode == "rw":
                journal = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if journal != "wal":
                    log.info("history database %s stays in %s journal mode", self.path, journal)
            conn.execute("PRAGMA foreign_keys = ON")
            self._migrate(conn, writable=mode == "rw")
        except BaseException:
            conn.close()
            raise
        return conn

    def _fell_back(self, mode: str, error: sqlite3.Error) -> None:
        """Say once per store that the history is only read, and what an immutable read misses."""
        wal = self.path.with_name(self.path.name + "-wal")
        try:
            unseen = mode == "immutable" and wal.stat().st_size > 0
        except OSError:
            unseen = False
        how = "as an unchanging file" if mode == "immutable" else "read-only"
        (log.debug if self._warned else log.warning)(
            "history database %s cannot be opened for writing (%s): reading it %s, nothing new"
            " is saved%s",
            self.path,
            error,
            how,
            f"; changes still in {wal.name} are not shown" if unseen else "",
        )
        self._warned = True

    def _migrate(self, conn: sqlite3.Connection, *, writable: bool) -> None:
        have = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
        ).fetchone()
        row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone() if have else None
        version = row[0] if row else None
        if version is not None and version > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(f"written by a newer version (schema {version})")
        if version == SCHEMA_VERSION or not writable:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA:
                conn.execute(statement)
            if conn.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == 0:
                conn.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
            conn.execute("COMMIT")
        except BaseException:
            conn.rollback()
            raise

    @contextmanager
    def _db(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """Run one operation; every sqlite/OS failure leaves as :class:`HistoryUnavailable`."""
        with self._lock:
            try:
                conn = self._connect()
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")  # reads see one snapshot
                try:
                    yield conn
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.rollback()
                    raise
            except (sqlite3.Error, OSError) as error:
                self.close()  # reopen next time: the lock may clear, the file may be replaced
                raise unavailable(self.path, error) from error

    def _stamp(self) -> str:
        """Now, strictly later than the last stamp, so "newest first" never ties."""
        with self._lock:
            self._last = max(datetime.now(UTC), self._last + timedelta(microseconds=1))
            return iso(self._last)

    def close(self) -> None:
        with self._lock:
            self.mode = None
            if self._conn is not None:
                conn, self._conn = self._conn, None
                try:
                    conn.close()
                except sqlite3.Error as error:
                    log.debug("closing %s: %s", self.path, error)

    # -- conversations -------------------------------------------------------------------------
    def create(self, owner: str, title: str = "") -> Conversation:
        """Start a conversation; an empty title becomes the first question."""
        cid, now, title = secrets.token_hex(16), self._stamp(), short_title(title)
        with self._db(write=True) as conn:
            conn.execute(
                "INSERT INTO conversations VALUES (?, ?, ?, ?, ?)", (cid, owner, title, now, now)
            )
        return Conversation(cid, owner, title, now, now)

    def add_turn(self, conversation_id: str, owner: str, question: str, answer: Answer) -> Turn:
        """Append a turn; raises :class:`ConversationNotFound` for another owner's id."""
        now = self._stamp()
        with self._db(write=True) as conn:
            cur = conn.execute(
                "UPDATE conversations SET updated = ?,"
                " title = CASE WHEN title = '' THEN ? ELSE title END WHERE id = ? AND owner = ?",
                (now, short_title(question), conversation_id, owner),
            )
            if cur.rowcount != 1:
                raise ConversationNotFound(f"no conversation {conversation_id}")
            conn.execute(
                "INSERT INTO turns SELECT ?, COALESCE(MAX(position), 0) + 1, ?, ?, ?, ?"
                " FROM turns WHERE conversation_id = ?",
                (conversation_id, question, answer.query, _dumps(answer), now, conversation_id),
            )
        return Turn(question, answer, now)

    def list(self, owner: str) -> builtins.list[Conversation]:
        """This owner's conversations, most recently updated first, with turn counts."""
        with self._db() as conn:
            rows = conn.execute(
                "SELECT c.id, c.owner, c.title, c.created, c.updated, (SELECT COUNT(*) FROM"
                " turns t WHERE t.conversation_id = c.id) FROM conversations c WHERE owner = ?"
                " ORDER BY c.updated DESC, c.rowid DESC",
                (owner,),
            ).fetchall()
        return [Conversation(*row[:5], turn_count=row[5]) for row in rows]

    def get(self, conversation_id: str, owner: str) -> Conversation:
        """One conversation with its turns, or :class:`ConversationNotFound`."""
        with self._db() as conn:
            row = self._row(conn, conversation_id, owner)
            turns = tuple(
                Turn(question, _loads(answer), asked)
                for question, answer, asked in conn.execute(
                    "SELECT question, answer, asked FROM turns WHERE conversation_id = ?"
                    " ORDER BY position",
                    (conversation_id,),
                )
            )
        return Conversation(*row, turns=turns, turn_count=len(turns))

    def rename(self, conversation_id: str, owner: str, title: str) -> Conversation:
        """Retitle; a blank title goes back to the first question."""
        with self._db(write=True) as conn:
            self._row(conn, conversation_id, owner)
            first = conn.execute(
                "SELECT question FROM turns WHERE conversation_id = ? ORDER BY position LIMIT 1",
                (conversation_id,),
            ).fetchone()
            new = short_title(title) or (short_title(first[0]) if first else "")
            conn.execute("UPDATE conversations SET title = ? WHERE id = ?", (new, conversation_id))
        return self.get(conversation_id, owner)

    def delete(self, conversation_id: str, owner: str) -> None:
        """Delete a conversation and its turns."""
        with self._db(write=True) as conn:
            self._row(conn, conversation_id, owner)
            conn.execute("DELETE FROM turns WHERE conversation_id = ?", (conversation_id,))
            conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    def export_json(self, conversation_id: str, owner: str) -> str:
        return conversation_json(self.get(conversation_id, owner))

    def export_markdown(self, conversation_id: str, owner: str) -> str:
        return conversation_markdown(self.get(conversation_id, owner))

    @staticmethod
    def _row(conn: sqlite3.Connection, conversation_id: str, owner: str) -> tuple[Any, ...]:
        row = None
        if isinstance(conversation_id, str) and CONVERSATION_ID.fullmatch(conversation_id):
            row = conn.execute(
                "SELECT id, owner, title, created, updated FROM conversations"
                " WHERE id = ? AND owner = ?",
                (conversation_id, owner),
            ).fetchone()
        if row is None:
            raise ConversationNotFound(f"no conversation {conversation_id}")
        return tuple(row)


def _dumps(answer: Answer) -> str:
    return json.dumps(answer.to_dict(), ensure_ascii=False)


def _loads(text: str) -> Answer:
    """A stored answer; an unreadable one means the database is damaged, not the caller."""
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return answer_from_dict(data)
    except ValueError as error:
        raise sqlite3.DatabaseError(f"malformed stored answer: {error}") from error
