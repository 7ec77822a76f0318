"""The REST API under ``/api/v1``: ask, search, documents, ingest and saved conversations.

Request bodies are pydantic models; responses are the library's own result types
(:class:`~rag.Answer`, :class:`~rag.DocumentInfo`, :class:`~rag.IngestSummary`, ...), so the
OpenAPI schema at ``/openapi.json`` describes exactly what ``rag.ask`` returns. Every route
takes an optional ``collection`` (the started one when absent). Conversations are the signed-in
user's (see :mod:`rag.api.auth`): another user's id reads as one that does not exist.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from rag.api.auth import OWNER_KEY
from rag.api.errors import ERROR_RESPONSES
from rag.api.service import DocumentSpan, Service, UploadReport
from rag.history import conversation_json, conversation_markdown
from rag.results import Answer, DocumentInfo, IngestSummary, Passage

Collection = Annotated[
    str | None,
    Query(max_length=100, description="The collection; absent: the one the server started with."),
]
Sources = Annotated[
    list[Annotated[str, Field(max_length=500)]] | None,
    Field(
        max_length=100,
        description="Search only these documents: paths relative to the corpus folder, "
        "folders or glob patterns such as '*.pdf'; absent or empty: every document.",
    ),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AskRequest(Strict):
    question: str = Field(description="The question (at most RAG_MAX_QUESTION_CHARS characters).")
    history: list[tuple[str, str]] = Field(
        default_factory=list,
        max_length=100,
        description="Earlier [question, answer] turns, oldest first, for follow-up questions.",
    )
    sources: Sources = None
    collection: str | None = Field(None, max_length=100, description="The collection to ask.")
    conversation_id: str | None = Field(
        None,
        max_length=64,
        description="Continue this saved conversation: its turns are the history and the "
        "answer is added to it.",
    )
    save: bool = Field(False, description="Save the turn to a new conversation (its id is sent).")


class AskResponse(BaseModel):
    answer: Answer
    conversation_id: str | None = Field(
        None, description="The conversation the turn was saved to (null: not saved)."
    )


class SearchRequest(Strict):
    query: str = Field(description="What to search for.")
    sources: Sources = None
    collection: str | None = Field(None, max_length=100)
    k: int | None = Field(None, ge=1, le=100, description="At most this many passages.")


class SearchResponse(BaseModel):
    passages: list[Passage]


class CollectionsResponse(BaseModel):
    collections: list[str] = Field(description="Every collection, the started one first.")
    default: str = Field(description="The collection used when a request names none.")


class ConversationInfo(BaseModel):
    id: str
    title: str
    created: str
    updated: str
    turns: int


class SavedTurn(BaseModel):
    question: str
    asked: str
    answer: Answer


class ConversationResponse(BaseModel):
    id: str
    title: str
    created: str
    updated: str
    turns: list[SavedTurn]


def owner_of(request: Request) -> str:
    """The signed-in user (set by the access middleware); "" on an open server."""
    return str(request.scope.get(OWNER_KEY, ""))


def rest_router(service: Service) -> APIRouter:
    """The ``/api/v1`` routes over ``service``."""
    api = APIRouter(prefix="/api/v1", tags=["rest"], responses=ERROR_RESPONSES)

    @api.get("/collections", summary="The collections this server answers from")
    async def collections() -> CollectionsResponse:
        names = await service.run(service.collections)
        return CollectionsResponse(collections=names, default=service.settings.collection)

    @api.post("/ask", summary="Answer a question with citations, or abstain")
    async def ask(body: AskRequest, request: Request) -> AskResponse:
        owner = owner_of(request)
        history: list[tuple[str, str]] = list(body.history)
        if body.conversation_id:
            history = await service.run(
                service.earlier_turns, body.conversation_id, owner, body.collection
            )
        answer = await service.run(
            service.ask,
            body.question,
            history,
            sources=body.sources,
            collection=body.collection,
        )
        saved = None
        if body.conversation_id or body.save:
            saved = await service.run(
                service.save_turn,
                body.conversation_id or None,
                owner,
                answer.question,
                answer,
                body.collection,
            )
        return AskResponse(answer=answer, conversation_id=saved)

    @api.post("/search", summary="The passages an answer would read, with their scores")
    async def search(body: SearchRequest) -> SearchResponse:
        passages = await service.run(
            service.search,
            body.query,
            sources=body.sources,
            collection=body.collection,
            k=body.k,
        )
        return SearchResponse(passages=passages)

    @api.get("/documents", summary="The indexed documents")
    async def documents(collection: Collection = None) -> list[DocumentInfo]:
        return await service.run(service.documents, collection)

    @api.post("/documents", summary="Add documents (multipart files) and index them")
    async def upload(
        files: Annotated[list[UploadFile], File(description="One or more documents.")],
        collection: Collection = None,
    ) -> UploadReport:
        received = [(f.filename or "", await f.read()) for f in files]
        return await service.run(service.add_documents, received, collection)

    @api.get("/documents/{source:path}", summary="A span of a document's cleaned text")
    async def read(
        source: str,
        start: Annotated[int, Query(ge=0, le=10**9)] = 0,
        length: Annotated[int, Query(ge=1, le=20_000)] = 4000,
        collection: Collection = None,
    ) -> DocumentSpan:
        return await service.run(service.read_document, source, start, length, collection)

    @api.delete("/documents/{source:path}", summary="Delete a document and re-index")
    async def delete(source: str, collection: Collection = None) -> IngestSummary:
        return await service.run(service.delete_document, source, collection)

    @api.post("/ingest", summary="Index the corpus folder's changes (or rebuild the index)")
    async def ingest(collection: Collection = None, rebuild: bool = False) -> IngestSummary:
        return await service.run(service.ingest, collection, rebuild=rebuild)

    @api.get("/conversations", summary="Your saved conversations, newest first")
    async def conversations(
        request: Request, collection: Collection = None
    ) -> list[ConversationInfo]:
        history = await service.run(service.history, collection)
        listed = await service.run(history.list, owner_of(request))
        return [
            ConversationInfo(
                id=c.id, title=c.title, created=c.created, updated=c.updated, turns=c.turn_count
            )
            for c in listed
        ]

    @api.get("/conversations/{conversation_id}", summary="One saved conversation, every answer")
    async def conversation(
        conversation_id: str, request: Request, collection: Collection = None
    ) -> ConversationResponse:
        history = await service.run(service.history, collection)
        saved = await service.run(history.get, conversation_id, owner_of(request))
        return ConversationResponse(
            id=saved.id,
            title=saved.title,
            created=saved.created,
            updated=saved.updated,
            turns=[
                SavedTurn(question=t.question, asked=t.asked, answer=t.answer) for t in saved.turns
            ],
        )

    @api.get(
        "/conversations/{conversation_id}/export",
        summary="A saved conversation as a file: Markdown (for people) or JSON (every field)",
        response_class=Response,
        responses={200: {"content": {"text/markdown": {}, "application/json": {}}}},
    )
    async def export(
        conversation_id: str,
        request: Request,
        format: Literal["markdown", "json"] = "markdown",
        collection: Collection = None,
    ) -> Response:
        history = await service.run(service.history, collection)
        saved = await service.run(history.get, conversation_id, owner_of(request))
        if format == "json":
            body, kind, suffix = conversation_json(saved), "application/json", "json"
        else:
            body, kind, suffix = conversation_markdown(saved), "text/markdown", "md"
        return Response(
            body,
            media_type=f"{kind}; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{saved.id}.{suffix}"'},
        )

    return api
