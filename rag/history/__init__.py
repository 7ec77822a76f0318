"""Conversation history kept server-side in one SQLite file (stdlib ``sqlite3``).

Each turn stores the question and the whole :meth:`Answer.to_dict` as JSON, so a reopened
conversation shows the same source cards and an export holds every citation exactly.
Every query filters by owner and ids are 128-bit random hex: another user's conversation is
indistinguishable from one that does not exist. History is a convenience, answering is the
product: :class:`HistoryStore` turns every database failure into :class:`HistoryUnavailable`,
and :class:`SafeHistory` absorbs those into an in-memory session with a visible notice.
"""

from rag.history.export import (
    answer_from_dict,
    conversation_from_json,
    conversation_json,
    conversation_markdown,
)
from rag.history.records import (
    SCHEMA_VERSION,
    Conversation,
    ConversationNotFound,
    HistoryError,
    HistoryUnavailable,
    Turn,
)
from rag.history.safe import SafeHistory
from rag.history.store import HistoryStore

__all__ = [
    "SCHEMA_VERSION",
    "Conversation",
    "ConversationNotFound",
    "HistoryError",
    "HistoryStore",
    "HistoryUnavailable",
    "SafeHistory",
    "Turn",
    "answer_from_dict",
    "conversation_from_json",
    "conversation_json",
    "conversation_markdown",
]
