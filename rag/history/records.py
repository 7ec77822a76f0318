"""What the history keeps: conversations and their turns, and the errors of keeping them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.errors import RagError
from rag.results import Answer
from rag.text.whitespace import one_line

#: The history's format, in the database and in every JSON export; a newer database is refused.
SCHEMA_VERSION = 1
TITLE_CHARS = 80
#: conversation ids: 128 random bits in hex
CONVERSATION_ID = re.compile(r"[0-9a-f]{32}")


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


def short_title(text: str) -> str:
    """A conversation title from its first question: one line, at most TITLE_CHARS."""
    text = one_line(text)
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1].rstrip() + "…"
