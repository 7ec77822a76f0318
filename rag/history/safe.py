"""History that never breaks answering: failures degrade to an in-memory chat with a notice."""

from __future__ import annotations

import builtins
import logging
import secrets
import threading
from dataclasses import replace
from typing import Any

from rag.clock import utc_now as now
from rag.history.export import conversation_json, conversation_markdown
from rag.history.records import (
    CONVERSATION_ID,
    Conversation,
    ConversationNotFound,
    HistoryUnavailable,
    Turn,
    short_title,
)
from rag.history.store import HistoryStore
from rag.results import Answer

log = logging.getLogger("rag.history")


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
            stamp = now()
            kept = Conversation(secrets.token_hex(16), owner, short_title(title), stamp, stamp)
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
                    if self.store is None or not CONVERSATION_ID.fullmatch(conversation_id):
                        raise ConversationNotFound(f"no conversation {conversation_id}") from None
                    self._failed(error)
                    kept = self._salvage(conversation_id, owner)
            turn = Turn(question, answer, now())
            self._memory[(owner, conversation_id)] = replace(
                kept,
                title=kept.title or short_title(question),
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
            stamp = now()
            return Conversation(conversation_id, owner, "", stamp, stamp)

    def list(self, owner: str) -> builtins.list[Conversation]:
        with self._lock:
            try:
                store = self._store()
                stored = self._ok(store.list(owner))
                if store.mode in ("ro", "immutable") and not store.read_only:
                    # it reads, but nothing new will be saved: say so before the first answer
                    self._failed(
                        HistoryUnavailable(
                            f"the history database {store.path} is read-only",
                            reason="read-only",
                            detail="the disk or folder does not allow writing",
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
            kept = replace(kept, title=short_title(title) or short_title(first))
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
