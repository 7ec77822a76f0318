"""The MCP server: tools an assistant calls to ask the documents, search and read them.

Built on the official ``mcp`` SDK's FastMCP. The same tools are served two ways: over
streamable HTTP at ``/mcp`` of the web server (:func:`rag.api.app.create_api` mounts it), and
over stdio by ``rag mcp`` for desktop clients that start the server themselves. Each tool's
description says what it returns, since a model reads it to decide when to call the tool.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from mcp.server.fastmcp import FastMCP
from mcp.server.fastmcp.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import BaseModel, ConfigDict, Field

from rag.api.openai import CitationOut, evidence_of
from rag.api.service import MAX_SPAN, Service
from rag.errors import RagError

log = logging.getLogger("rag.api")

T = TypeVar("T")

INSTRUCTIONS = (
    "Answers questions from the user's own documents with verified quotations. Prefer `ask` "
    "for a question; it abstains when the documents do not say. Use `search` to see the "
    "passages themselves, `list_documents` for what is indexed, and `read_document` to read "
    "a span of one document (citation offsets refer to this text)."
)

Collection = Annotated[
    str | None, Field(description="Collection to use; omit for the server's default one.")
]
Sources = Annotated[
    list[str] | None,
    Field(
        description="Only these documents: paths as list_documents gives them, folders or "
        "glob patterns like '*.pdf'; omit to use every document."
    ),
]


class AskResult(BaseModel):
    answer: str = Field(description="The answer; each [n] marker refers to citations[n-1].")
    abstained: bool = Field(description="True when the documents do not answer the question.")
    citations: list[CitationOut]
    query: str = Field(description="What was searched for (a follow-up made standalone).")
    confidence: float | None = Field(
        None, description="P(the answer is right), calibrated; null for an abstention."
    )
    confidence_label: str = Field("", description='The same in words ("likely right", ...).')


class PassageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    source: str
    title: str
    location: str
    start: int
    end: int
    score: float = Field(description="Fused retrieval score: higher is more relevant.")
    text: str


class SearchResult(BaseModel):
    passages: list[PassageOut]


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    source: str
    title: str
    kind: str
    size: int
    chunks: int


class DocumentList(BaseModel):
    documents: list[DocumentOut]


class DocumentText(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    source: str
    start: int
    end: int
    length: int = Field(description="The whole document's length in characters.")
    text: str


def create_mcp(service: Service, *, loopback: bool = True, path: str = "/mcp") -> FastMCP:
    """The MCP server over ``service``.

    ``loopback`` keeps the SDK's DNS-rebinding check (only loopback Host and Origin headers):
    a server reachable from other machines is protected by credentials instead
    (:mod:`rag.api.auth`), and its clients use its public name.
    """
    security = (
        TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*", "127.0.0.1", "localhost"],
            allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
        )
        if loopback
        else TransportSecuritySettings(enable_dns_rebinding_protection=False)
    )
    server = FastMCP(
        "rag",
        instructions=INSTRUCTIONS,
        streamable_http_path=path,
        stateless_http=True,
        json_response=True,
        log_level="WARNING",
        transport_security=security,
    )

    async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return await service.run(fn, *args, **kwargs)
        except RagError as exc:
            raise ToolError(str(exc)) from None
        except Exception:
            log.exception("MCP tool failed")
            raise ToolError("something went wrong on the server; see its log") from None

    @server.tool()
    async def ask(
        question: Annotated[str, Field(description="The question, in plain words.")],
        sources: Sources = None,
        collection: Collection = None,
    ) -> AskResult:
        """Answer a question from the indexed documents, quoting them.

        Returns the answer text with [n] markers and, for each marker, a citation: the
        document (source, title, location such as "page 3"), the exact quote and its
        character offsets in the document. When the documents do not answer, `abstained`
        is true and the answer says so: do not guess beyond it.
        """
        answer = await call(service.ask, question, sources=sources, collection=collection)
        return AskResult(answer=answer.text, **evidence_of(answer))

    @server.tool()
    async def search(
        query: Annotated[str, Field(description="Words or a question to search for.")],
        sources: Sources = None,
        collection: Collection = None,
        k: Annotated[int, Field(ge=1, le=50, description="At most this many passages.")] = 5,
    ) -> SearchResult:
        """Search the documents (keywords and meaning combined); no answer is written.

        Returns passages best first, each with its document (source, title, location), its
        character offsets, its text and a relevance score (higher is more relevant).
        """
        found = await call(service.search, query, sources=sources, collection=collection, k=k)
        return SearchResult(passages=[PassageOut.model_validate(p) for p in found])

    @server.tool()
    async def list_documents(collection: Collection = None) -> DocumentList:
        """List the indexed documents.

        Returns each document's source (the name the other tools take), title, kind (pdf,
        docx, ...), size in bytes and number of indexed chunks.
        """
        documents = await call(service.documents, collection)
        return DocumentList(documents=[DocumentOut.model_validate(d) for d in documents])

    @server.tool()
    async def read_document(
        source: Annotated[str, Field(description="A source name from list_documents.")],
        start: Annotated[int, Field(ge=0, description="First character to read.")] = 0,
        length: Annotated[
            int, Field(ge=1, le=MAX_SPAN, description=f"Characters to read (at most {MAX_SPAN}).")
        ] = 4000,
        collection: Collection = None,
    ) -> DocumentText:
        """Read a span of a document's cleaned text, the text citation offsets refer to.

        Returns the text from `start` to `end` and the document's total `length`, so a
        long document can be read in pieces.
        """
        span = await call(service.read_document, source, start, length, collection)
        return DocumentText.model_validate(span)

    return server
