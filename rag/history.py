"""Conversation history kept server-side in one SQLite file (stdlib ``sqlite3``).

Each turn stores the question and the whole :meth:`Answer.to_dict` as JSON, so a reopened
conversation shows the same source cards and an export holds every citation exactly.
Every query filters by owner and ids are 128-bit random hex: another user's conversation is
indistinguishable from one that does not exist. History is a convenience, answering is the
product: :class:`HistoryStore` turns every database failure into :class:`HistoryUnavailable`,
and :class:`SafeHistory` absorbs those into an in-memory session with a visible notice.
"""

from __future__ import annotations

import builtins
import json
import logging
import re
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rag.errors import RagError
from rag.types import Answer, Citation, Passage

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
TITLE_CHARS = 80
_ID = re.compile(r"[0-9a-f]{32}")
_MARKER = re.compile(r"\[(\d{1,3})\]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>~])")
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


class HistoryError(RagError):
    """A conversation-history operation failed."""


class ConversationNotFound(HistoryError):
    """No conversation with this id belongs to this owner (whether or not it exists)."""


class HistoryUnavailable(HistoryError):
    """The database is locked, damaged, read-only or unopenable; ``reason`` says which."""

    def __init__(self, message: str, *, reason: str, detail: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Turn:
    """One question and the complete answer it got."""

    question: str
    answer: Answer
    asked: str


@dataclass(frozen=True)
class Conversation:
    """A conversation; ``turns`` is empty in listings, where ``turn_count`` still counts."""

    id: str
    owner: str
    title: str
    created: str
    updated: str
    turns: tuple[Turn, ...] = ()
    turn_count: int = 0


def answer_from_dict(data: dict[str, Any]) -> Answer:
    """Rebuild an :class:`Answer` from :meth:`Answer.to_dict` output, nested objects included.

    Unknown keys are dropped so history written by a newer version still opens.

    Raises:
        ValueError: ``data`` is not a stored answer.
    """
    try:
        values = _known(Answer, data)
        values["citations"] = [Citation(**_known(Citation, c)) for c in data.get("citations", [])]
        values["passages"] = [Passage(**_known(Passage, p)) for p in data.get("passages", [])]
        return Answer(**values)
    except (TypeError, AttributeError) as error:
        raise ValueError(f"not a stored answer: {error}") from error


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def conversation_json(conversation: Conversation) -> str:
    """The JSON export: metadata and each turn's full answer dict, nothing rounded or dropped."""
    data = {
        "format": "rag-conversation",
        "version": SCHEMA_VERSION,
        **{k: getattr(conversation, k) for k in ("id", "owner", "title", "created", "updated")},
        "turns": [
            {"question": t.question, "asked": t.asked, "answer": t.answer.to_dict()}
            for t in conversation.turns
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False)


def conversation_from_json(text: str) -> Conversation:
    """Read back :func:`conversation_json` output (a backup, or a test of the export)."""
    data = json.loads(text)
    turns = tuple(
        Turn(t["question"], answer_from_dict(t["answer"]), t["asked"]) for t in data["turns"]
    )
    meta = {k: data[k] for k in ("id", "owner", "title", "created", "updated")}
    return Conversation(**meta, turns=turns, turn_count=len(turns))


def conversation_markdown(conversation: Conversation) -> str:
    """The Markdown export: sources become footnotes numbered ``[^turn-n]``.

    Footnote labels carry the turn so two answers' ``[1]`` stay distinct in one document.
    Document text is escaped (links, images, HTML, emphasis) so a quoted file cannot inject
    markup into whatever renders the export.
    """
    out = [f"# {_literal(_one_line(conversation.title) or 'Untitled conversation')}", ""]
    for number, turn in enumerate(conversation.turns, 1):
        answer = turn.answer
        cited = {c.n for c in answer.citations}

        def footref(match: re.Match[str], number: int = number, cited: set[int] = cited) -> str:
            n = int(match.group(1))
            return f"[^{number}-{n}]" if n in cited else match.group(0)

        pieces, last = [], 0
        for match in _MARKER.finditer(answer.text):
            pieces += [_literal(answer.text[last : match.start()]), footref(match)]
            last = match.end()
        pieces.append(_literal(answer.text[last:]))
        out += [f"## {_literal(_one_line(turn.question))}", "", "".join(pieces), ""]
        if not answer.supported and answer.unsupported:
            claims = "; ".join(f'"{_literal(_one_line(s))}"' for s in answer.unsupported)
            out += [f"_Not supported by the documents: {claims}_", ""]
        if answer.query and answer.query != answer.question:
            out += [f"_Searched for: {_literal(_one_line(answer.query))}_", ""]
        for c in answer.citations:
            out.append(f'[^{number}-{c.n}]: {_source_line(c)}: "{_literal(_one_line(c.quote))}"')
        if answer.citations:
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _source_line(c: Citation) -> str:
    name = f"{c.title} ({c.source})" if c.title and c.title != c.source else c.source
    place = c.location or (f"page {c.page}" if c.page is not None else "")
    parts = [_literal(name), _literal(place), f"characters {c.start:,}–{c.end:,}"]
    return ", ".join(p for p in parts if p)


def _literal(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _title(text: str) -> str:
    text = _one_line(text)
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1].rstrip() + "…"


def _cannot_share(error: sqlite3.Error) -> bool:
    """Whether opening failed on the file system (read-only disk, -shm not creatable).

    SQLite reports a WAL file whose -shm index cannot be created as SQLITE_CANTOPEN, a file it
    may not write as SQLITE_READONLY; locks, damage and a newer schema are not this.
    """
    name = getattr(error, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_CANTOPEN", "SQLITE_READONLY"))


def _unavailable(path: Path, error: BaseException) -> HistoryUnavailable:
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
                raise _unavailable(self.path, error) from error

    def _stamp(self) -> str:
        """Now, strictly later than the last stamp, so "newest first" never ties."""
        with self._lock:
            self._last = max(datetime.now(UTC), self._last + timedelta(microseconds=1))
            return self._last.isoformat(timespec="microseconds")

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
        cid, now, title = secrets.token_hex(16), self._stamp(), _title(title)
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
                (now, _title(question), conversation_id, owner),
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
            new = _title(title) or (_title(first[0]) if first else "")
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
        if isinstance(conversation_id, str) and _ID.fullmatch(conversation_id):
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


class SafeHistory:
    """The history the UI and CLI use: a failing database never interrupts a conversation.

    On :class:`HistoryUnavailable` it logs one warning, sets :attr:`notice` and keeps the
    conversation in memory for the rest of this object's life, so a conversation never
    flips between stores halfway. ``store=None`` is a purely in-memory history (no notice).
    ``create``, ``add_turn`` and ``list`` never raise it; ``get`` (and the exports) raise
    :class:`ConversationNotFound` instead; ``rename`` and ``delete`` re-raise it.
    """

    def __init__(self, store: HistoryStore | None) -> None:
        self.store = store
        #: shown to the user while something is not being saved
        self.notice: str | None = None
        self._memory: dict[tuple[str, str], Conversation] = {}
        self._lock = threading.RLock()
        self._warned = False

    def saved(self, conversation_id: str, owner: str) -> bool:
        """Whether the conversation is in the database rather than only in this session."""
        return (owner, conversation_id) not in self._memory

    def _store(self) -> HistoryStore:
        if self.store is None:
            raise HistoryUnavailable("history is off", reason="off", detail="")
        return self.store

    def _failed(self, error: HistoryUnavailable) -> None:
        if error.reason == "off":
            return
        self.notice = (
            f"History is not being saved: the history database is {error.reason} "
            f"({error.detail}). Answers still work."
        )
        (log.debug if self._warned else log.warning)("history not saved: %s", error)
        self._warned = True

    def _ok(self, result: Any) -> Any:
        if not self._memory:
            self.notice = None
        return result

    def create(self, owner: str, title: str = "") -> Conversation:
        with self._lock:
            try:
                return self._ok(self._store().create(owner, title))
            except HistoryUnavailable as error:
                self._failed(error)
            now = _now()
            kept = Conversation(secrets.token_hex(16), owner, _title(title), now, now)
            self._memory[(owner, kept.id)] = kept
            return kept

    def add_turn(self, conversation_id: str, owner: str, question: str, answer: Answer) -> Turn:
        with self._lock:
            kept = self._memory.get((owner, conversation_id))
            if kept is None:
                try:
                    turn = self._store().add_turn(conversation_id, owner, question, answer)
                    return self._ok(turn)
                except HistoryUnavailable as error:
                    if self.store is None or not _ID.fullmatch(conversation_id):
                        raise ConversationNotFound(f"no conversation {conversation_id}") from None
                    self._failed(error)
                    kept = self._salvage(conversation_id, owner)
            turn = Turn(question, answer, _now())
            self._memory[(owner, conversation_id)] = replace(
                kept,
                title=kept.title or _title(question),
                updated=turn.asked,
                turns=(*kept.turns, turn),
                turn_count=len(kept.turns) + 1,
            )
            return turn

    def _salvage(self, conversation_id: str, owner: str) -> Conversation:
        """The earlier turns if the database still reads (WAL readers pass a writer's lock).

        A readable database that does not know the id raises :class:`ConversationNotFound`,
        so nobody can start an in-memory copy of someone else's conversation id.
        """
        try:
            return self._store().get(conversation_id, owner)
        except HistoryUnavailable:
            now = _now()
            return Conversation(conversation_id, owner, "", now, now)

    def list(self, owner: str) -> builtins.list[Conversation]:
        with self._lock:
            try:
                stored = self._ok(self._store().list(owner))
                if self._store().mode in ("ro", "immutable") and not self._store().read_only:
                    # it reads, but nothing new will be saved: say so before the first answer
                    self._failed(
                        _unavailable(
                            self._store().path,
                            sqlite3.OperationalError("the disk or folder is read-only"),
                        )
                    )
            except HistoryUnavailable as error:
                self._failed(error)
                stored = []
            kept = {
                c.id: replace(c, turns=()) for (who, _), c in self._memory.items() if who == owner
            }
            merged = [*kept.values(), *(c for c in stored if c.id not in kept)]
            return sorted(merged, key=lambda c: c.updated, reverse=True)

    def get(self, conversation_id: str, owner: str) -> Conversation:
        with self._lock:
            kept = self._memory.get((owner, conversation_id))
            if kept is not None:
                return kept
            try:
                return self._ok(self._store().get(conversation_id, owner))
            except HistoryUnavailable as error:
                self._failed(error)
                why = f": {self.notice}" if self.store is not None else ""
                raise ConversationNotFound(f"no conversation {conversation_id}{why}") from None

    def rename(self, conversation_id: str, owner: str, title: str) -> Conversation:
        with self._lock:
            kept = self._memory.get((owner, conversation_id))
            if kept is None:
                return self._ok(self._act("rename", conversation_id, owner, title))
            first = kept.turns[0].question if kept.turns else ""
            kept = replace(kept, title=_title(title) or _title(first))
            self._memory[(owner, conversation_id)] = kept
            return kept

    def delete(self, conversation_id: str, owner: str) -> None:
        with self._lock:
            if self._memory.pop((owner, conversation_id), None) is None:
                self._ok(self._act("delete", conversation_id, owner))

    def _act(self, method: str, conversation_id: str, *args: str) -> Any:
        """An explicit user action on a stored conversation: it must say when it failed."""
        try:
            return getattr(self._store(), method)(conversation_id, *args)
        except HistoryUnavailable as error:
            if error.reason == "off":
                raise ConversationNotFound(f"no conversation {conversation_id}") from None
            self._failed(error)
            raise

    def export_json(self, conversation_id: str, owner: str) -> str:
        return conversation_json(self.get(conversation_id, owner))

    def export_markdown(self, conversation_id: str, owner: str) -> str:
        return conversation_markdown(self.get(conversation_id, owner))

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
