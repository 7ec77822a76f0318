"""Errors as the APIs send them: JSON with a stable code and the library's message.

Every failure a client can cause leaves as a 4xx with ``{"error": {"code", "message",
"type"}}`` (the shape OpenAI's clients read: ``type`` repeats the code); the code names the
library's error class, so a program can branch on it while a person reads the message.
Anything unexpected is logged with its traceback on the server and leaves as a 500 that says
only that; no traceback or HTML ever reaches a client.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from rag.api.auth import ASGIApp, Message, Receive, Scope, Send, refuse
from rag.catalog import CollectionError
from rag.errors import (
    BackendError,
    CorpusError,
    IndexBusyError,
    IndexDamagedError,
    IndexMismatchError,
    IndexMissingError,
    QuestionError,
    RagError,
    SourceError,
)
from rag.history import ConversationNotFound, HistoryUnavailable
from rag.ingest.uploads import UploadError

log = logging.getLogger("rag.api")

#: library error class -> (HTTP status, stable code); the first match in order wins
CODES: tuple[tuple[type[RagError], int, str], ...] = (
    (QuestionError, 400, "invalid_question"),
    (SourceError, 400, "unknown_source"),
    (CollectionError, 404, "unknown_collection"),
    (ConversationNotFound, 404, "conversation_not_found"),
    (UploadError, 400, "upload_refused"),
    (IndexMissingError, 409, "index_missing"),
    (IndexBusyError, 409, "index_busy"),
    (IndexMismatchError, 409, "index_mismatch"),
    (CorpusError, 409, "corpus_unusable"),
    (IndexDamagedError, 503, "index_damaged"),
    (HistoryUnavailable, 503, "history_unavailable"),
    (BackendError, 502, "backend_unavailable"),
    (RagError, 400, "bad_request"),
)

UNEXPECTED = "something went wrong on the server; the details are in its log"


class ErrorDetail(BaseModel):
    code: str
    message: str
    type: str


class ErrorBody(BaseModel):
    """Every API error: ``code`` is stable (see the README), ``message`` is for people."""

    error: ErrorDetail


class ApiError(RagError):
    """A refusal the API itself makes (not the library's): its status and code are given."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def status_and_code(error: RagError) -> tuple[int, str]:
    if isinstance(error, ApiError):
        return error.status, error.code
    return next((status, code) for cls, status, code in CODES if isinstance(error, cls))


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "type": code}}


def error_response(error: RagError) -> JSONResponse:
    status, code = status_and_code(error)
    return JSONResponse(error_body(code, str(error)), status_code=status)


def _where(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "the request body"


def validation_message(exc: RequestValidationError) -> str:
    """The first problems of a request, in words: ``messages.0.content: Field required``."""
    errors = exc.errors()
    said = []
    for error in errors[:3]:
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        if error.get("type") == "json_invalid":
            said.append("the body is not valid JSON")
        else:
            said.append(f"{_where(error.get('loc', ()))}: {message}")
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(said) + more


#: for the ``responses`` of every route: what its error bodies look like
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (400, "The request is unusable (the message says why)."),
        (401, "Credentials are required (RAG_AUTH user or RAG_API_KEYS token)."),
        (403, "Refused: a request from another site's page."),
        (404, "No such collection, document or conversation."),
        (409, "The index is missing, busy or built with another model."),
        (413, "The request body is too large."),
        (422, "The request does not match the schema (the message names the field)."),
        (503, "The index or the history cannot be read right now."),
    )
}


def install_handlers(app: FastAPI) -> None:
    """JSON errors for the library's errors, bad requests, HTTP errors and bugs."""

    @app.exception_handler(RagError)
    async def library_error(_request: Request, exc: RagError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body("invalid_request", validation_message(exc)), status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(code, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def bug(_request: Request, exc: Exception) -> JSONResponse:
        log.error("API request failed", exc_info=exc)
        return JSONResponse(error_body("internal_error", UNEXPECTED), status_code=500)


class BodyTooLarge(Exception):
    """Raised from ``receive`` once a body passes its limit; the middleware answers 413."""


class BodyLimitMiddleware:
    """Refuses request bodies over a limit before they are read into memory.

    ``limits`` maps a path prefix to its limit in bytes (the first match wins; paths that
    match none pass untouched). A declared ``Content-Length`` over the limit is refused at
    once; a chunked body is counted as it arrives.
    """

    def __init__(self, app: ASGIApp, limits: tuple[tuple[str, int], ...]) -> None:
        self.app = app
        self.limits = limits

    def _limit(self, path: str) -> int | None:
        return next((n for prefix, n in self.limits if path.startswith(prefix)), None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self._limit(scope.get("path", "")) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        message = f"the request body is over the limit of {limit // 1024:,} KB"
        for key, value in scope["headers"]:
            if key.lower() == b"content-length" and value.isdigit() and int(value) > limit:
                await refuse(send, 413, "body_too_large", message)
                return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            event = await receive()
            if event["type"] == "http.request":
                seen += len(event.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return event

        async def watched(event: Message) -> None:
            nonlocal started
            started = started or event["type"] == "http.response.start"
            await send(event)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:
                raise
            await refuse(send, 413, "body_too_large", message)
