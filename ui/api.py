"""The scripting API (``gradio_client``): ``/ask``, ``/chat``, ``/history``, ``/conversation``.

``/ask`` is stateless: the client sends the earlier turns. ``/chat`` keeps the conversation
on the server, in the same history the browser shows (per signed-in user and collection), so
a script and a browser can continue one conversation and it survives a restart. Errors reach
the client as ``gr.Error`` with the library's message; anything unexpected is logged.

No ``from __future__ import annotations``: ``gr.api`` reads the real type hints of these
methods to describe them to clients.
"""

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import gradio as gr

from rag import RagError
from rag.questions import validate_question
from ui.backend import UNEXPECTED, Backend, chosen, owner_of
from ui.events import ANSWERING
from ui.present import citation_payload, escape

log = logging.getLogger("rag.app")


class ScriptingApi:
    """Functions served by ``gr.api``: plain values in, plain values out.

    Building one registers the endpoints in the caller's Blocks. Every way of asking shares
    the chat's concurrency slot (:data:`~ui.events.ANSWERING`).
    """

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        gr.api(self.ask, api_name="ask", **ANSWERING)
        gr.api(self.chat, api_name="chat", **ANSWERING)
        gr.api(self.conversations, api_name="history")
        gr.api(self.conversation, api_name="conversation")

    def ask(
        self,
        question: str,
        history: list[list[str]] | None = None,
        sources: list[str] | None = None,
        collection: str | None = None,
    ) -> tuple[str, dict]:
        """Answer a question from the indexed documents.

        Args:
            question: the question (at most RAG_MAX_QUESTION_CHARS characters).
            history: earlier turns as [question, answer] pairs, for follow-up questions.
            sources: search only these documents: paths relative to the corpus folder,
                folders or glob patterns like "*.pdf"; empty or null searches them all. A
                pattern that matches no document is an error that names it.
            collection: the collection to ask; empty or null is the one the server started
                with.

        Returns:
            The answer text with [n] markers, and a JSON payload with the citations
            (source, quote, start, end, passage, page, location, score) or, after an abstention,
            the related passages.
        """
        with client_errors("API question"):
            qa = self.backend.qa_for(collection)
            text = validate_question(question, self.backend.settings.max_question_chars)
            pairs = [tuple(turn[:2]) for turn in history or [] if len(turn) >= 2]
            answer = qa.ask(text, pairs, sources=chosen(sources))
        return answer.text, citation_payload(answer)

    def chat(
        self,
        question: str,
        conversation_id: str | None = None,
        sources: list[str] | None = None,
        collection: str | None = None,
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> tuple[str, dict]:
        """Ask within a saved conversation: its earlier turns make follow-ups understood.

        Args:
            question: the question (at most RAG_MAX_QUESTION_CHARS characters).
            conversation_id: a conversation from /history or an earlier /chat; empty or
                null starts a new one.
            sources: as for /ask.
            collection: as for /ask; conversations belong to their collection.
            request: filled in by Gradio: its signed-in user owns the conversation.

        Returns:
            The answer text, and the /ask payload plus "conversation_id" (the conversation
            the turn was saved to; null if saving failed, see the server's log).
        """
        owner = owner_of(request)
        with client_errors("API chat"):
            qa = self.backend.qa_for(collection)
            text = validate_question(question, self.backend.settings.max_question_chars)
            earlier: list[tuple[str, str]] = []
            if conversation_id:
                saved = self.backend.history_for(collection).get(conversation_id, owner)
                earlier = [(t.question, t.answer.text) for t in saved.turns]
            answer = qa.ask(text, earlier, sources=chosen(sources))
        saved_to = self.backend.save_turn(collection, conversation_id or None, owner, text, answer)
        return answer.text, {**citation_payload(answer), "conversation_id": saved_to}

    def conversations(
        self,
        collection: str | None = None,
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> list[dict]:
        """The signed-in user's saved conversations in a collection, newest first.

        Returns:
            One {"id", "title", "created", "updated", "turns"} object per conversation.
        """
        with client_errors("API history"):
            listed = self.backend.history_for(collection).list(owner_of(request))
        return [
            {
                "id": c.id,
                "title": c.title,
                "created": c.created,
                "updated": c.updated,
                "turns": c.turn_count,
            }
            for c in listed
        ]

    def conversation(
        self,
        conversation_id: str,
        collection: str | None = None,
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> dict:
        """One saved conversation with every answer and citation (the JSON export).

        Returns:
            {"format": "rag-conversation", "id", "title", ..., "turns": [{"question",
            "asked", "answer": {...every field of the answer...}}]}.
        """
        with client_errors("API conversation"):
            exported = self.backend.history_for(collection).export_json(
                conversation_id, owner_of(request)
            )
        return json.loads(exported)


@contextmanager
def client_errors(what: str) -> Iterator[None]:
    """Library errors reach the client as ``gr.Error`` with their message; others are logged."""
    try:
        yield
    except RagError as exc:
        raise gr.Error(escape(str(exc)), print_exception=False) from None
    except Exception:
        log.exception("%s failed", what)
        raise gr.Error(UNEXPECTED, print_exception=False) from None
