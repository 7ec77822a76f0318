"""The OpenAI-compatible endpoint: ``POST /v1/chat/completions`` and ``GET /v1/models``.

A chat front-end or script that speaks OpenAI's API asks the documents as it would ask a
model. The last message (the user's) is the question; the earlier user and assistant messages
are the conversation, so a follow-up ("when did he resign?") is understood. ``model`` names
the collection: ``rag`` is the one the server started with, ``rag:NAME`` another.

The message content is the answer with its ``[n]`` markers, so a plain client shows a normal
reply. The evidence travels beside it, in a field OpenAI's schema does not have (clients keep
unknown fields: ``message.model_extra["citations"]`` in the Python client)::

    "message": {"role": "assistant", "content": "... [1]",
                "citations": [{"n": 1, "source": "file.txt", "location": "page 3",
                               "quote": "...", "start": 120, "end": 180, "title": "...",
                               "page": 3, "score": 4.1}],
                "abstained": false, "query": "..."}

An abstention is an ordinary message with the abstention text and no citations. With
``stream: true`` the reply comes as Server-Sent Events in OpenAI's ``chat.completion.chunk``
format: the role, the text, then a last chunk whose ``delta`` carries the citations, then
``data: [DONE]``. The text is sent once it is final (a chat model's draft can still change
when its citations are checked), so streaming gives an early first byte, not word-by-word
text.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from rag.api.errors import ERROR_RESPONSES, ApiError, error_body, status_and_code
from rag.api.service import Service
from rag.errors import RagError
from rag.questions import validate_question
from rag.results import Answer, Citation

PREFIX = "rag"


class TextPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[TextPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(p.text for p in self.content if p.type == "text" and p.text)
        return self.content or ""


class ChatRequest(BaseModel):
    """OpenAI's request; sampling options are accepted and ignored.

    Answers are quoted from the documents, not sampled: temperature, max_tokens and the like
    mean nothing here, and refusing them would break clients that always send them.
    """

    model_config = ConfigDict(extra="allow")
    model: str = Field("rag", max_length=200, description="rag, or rag:COLLECTION.")
    messages: list[ChatMessage] = Field(min_length=1, max_length=200)
    stream: bool = False
    sources: list[str] | None = Field(
        None, max_length=100, description="Extension: search only these documents."
    )


class CitationOut(BaseModel):
    """A citation of the ``[n]`` marker ``n``: ``quote == document_text[start:end]``."""

    model_config = ConfigDict(from_attributes=True)

    n: int
    source: str
    location: str
    quote: str
    start: int
    end: int
    title: str
    page: int | None
    score: float
    passage: str
    box_page: int | None = Field(
        None, description="PDFs: the page the quote is marked on (1-based); null otherwise."
    )
    boxes: list[tuple[float, float, float, float]] = Field(
        default_factory=list,
        description="PDFs: one rectangle per line of the quote, [left, bottom, right, top] in "
        "PDF points from the page's bottom left; empty otherwise.",
    )

    @classmethod
    def of(cls, c: Citation) -> CitationOut:
        return cls.model_validate(c)


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    citations: list[CitationOut] = Field(description="Extension: the evidence of each [n].")
    abstained: bool = Field(description="Extension: the documents do not answer.")
    query: str = Field(description="Extension: what was searched for (a follow-up resolved).")
    confidence: float | None = Field(
        None, description="Extension: P(the answer is right), calibrated; null if none."
    )
    confidence_label: str = Field("", description='Extension: the same in words ("likely right").')


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"


class Usage(BaseModel):
    """Word counts: there is no token-priced model behind the answers."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage


class Model(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "rag"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Model]


def model_name(collection: str, started: str) -> str:
    return PREFIX if collection == started else f"{PREFIX}:{collection}"


def collection_of(model: str, service: Service) -> str:
    """The collection a ``model`` names (``ApiError`` 404 ``model_not_found`` otherwise)."""
    names = service.collections()
    started = service.settings.collection
    wanted = started if model == PREFIX else model.removeprefix(f"{PREFIX}:")
    if wanted not in names:
        known = ", ".join(model_name(n, started) for n in names)
        raise ApiError(404, "model_not_found", f"no model {model[:80]!r} (models: {known})")
    return wanted


def split_messages(messages: list[ChatMessage]) -> tuple[str, list[dict[str, str]]]:
    """The question (the last message, a user's) and the earlier turns as messages."""
    last = messages[-1]
    if last.role != "user":
        raise ApiError(400, "invalid_request", "the last message must be the user's question")
    earlier = [
        {"role": m.role, "content": m.text()}
        for m in messages[:-1]
        if m.role in ("user", "assistant") and m.text().strip()
    ]
    return last.text(), earlier


def evidence_of(answer: Answer) -> dict[str, Any]:
    """An answer's fields beside its text, as this message and MCP's ``ask`` result name them."""
    return {
        "citations": [CitationOut.of(c) for c in answer.citations],
        "abstained": answer.abstained,
        "query": answer.query,
        "confidence": answer.confidence,
        "confidence_label": answer.confidence_label,
    }


def message_of(answer: Answer) -> AssistantMessage:
    return AssistantMessage(content=answer.text, **evidence_of(answer))


def openai_router(service: Service) -> APIRouter:
    """The ``/v1`` routes over ``service``."""
    api = APIRouter(prefix="/v1", tags=["openai"], responses=ERROR_RESPONSES)

    @api.get("/models", summary="One model per collection: rag, rag:NAME")
    async def models() -> ModelList:
        names = await service.run(service.collections)
        started = service.settings.collection
        return ModelList(data=[Model(id=model_name(n, started)) for n in names])

    @api.get("/models/{model}", summary="One model (a collection), or 404 model_not_found")
    async def model(model: str) -> Model:
        await service.run(collection_of, model, service)
        return Model(id=model)

    @api.post(
        "/chat/completions",
        summary="Answer the last user message from the documents (OpenAI's format)",
        responses={200: {"content": {"text/event-stream": {}}}},
    )
    async def chat(body: ChatRequest) -> Any:
        collection = await service.run(collection_of, body.model, service)
        question, earlier = split_messages(body.messages)
        # checked before a stream starts, so a bad question is a 4xx, not an event
        validate_question(question, service.settings.max_question_chars)
        ident, created = f"chatcmpl-{secrets.token_hex(12)}", int(time.time())

        async def answer() -> Answer:
            return await service.run(
                service.ask, question, earlier, sources=body.sources, collection=collection
            )

        if body.stream:
            return StreamingResponse(
                stream(answer, ident, created, body.model),
                media_type="text/event-stream",
                headers={"cache-control": "no-cache"},
            )
        result = await answer()
        asked, said = len(question.split()), len(result.text.split())
        return ChatCompletion(
            id=ident,
            created=created,
            model=body.model,
            choices=[Choice(message=message_of(result))],
            usage=Usage(prompt_tokens=asked, completion_tokens=said, total_tokens=asked + said),
        )

    return api


async def stream(answer: Any, ident: str, created: int, model: str) -> AsyncIterator[str]:
    """The SSE events of one answer: role, text, citations with the finish reason, [DONE]."""

    def event(delta: dict[str, Any], finish: str | None = None) -> str:
        chunk = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    yield event({"role": "assistant", "content": ""})
    try:
        result = await answer()
    except RagError as exc:  # after the headers: the error is the stream's last event
        _, code = status_and_code(exc)
        yield f"data: {json.dumps(error_body(code, str(exc)))}\n\n"
        yield "data: [DONE]\n\n"
        return
    message = message_of(result)
    yield event({"content": message.content})
    yield event(message.model_dump(include={"citations", "abstained", "query"}), finish="stop")
    yield "data: [DONE]\n\n"
