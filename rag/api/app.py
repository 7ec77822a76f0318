"""The API application: REST, OpenAI-compatible and MCP routes over one set of collections.

:func:`create_api` returns a FastAPI app that ``app.py`` mounts the web UI into, so one process
serves the page and every API with the same loaded models, collections and history. It can also
be served alone (``uvicorn`` and :func:`create_api` in a script) when no UI is wanted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI

from rag.api.auth import Access, AccessMiddleware
from rag.api.errors import BodyLimitMiddleware, install_handlers
from rag.api.mcp import create_mcp
from rag.api.openai import openai_router
from rag.api.rest import rest_router
from rag.api.service import Service
from rag.catalog import Catalog
from rag.qa import QA
from rag.settings import Settings

#: the paths the access rules guard (the web UI's own paths are Gradio's to guard)
API_PATHS = ("/v1", "/api/v1", "/mcp", "/openapi.json", "/docs", "/redoc")
#: the largest JSON body, in bytes: a question and a long conversation fit many times over
MAX_BODY = 256 * 1024


def _version() -> str:
    try:
        return version("rag-citations")
    except PackageNotFoundError:
        return "0"


def create_api(
    catalog: Catalog | QA,
    settings: Settings | None = None,
    *,
    access: Access | None = None,
    concurrency: int = 2,
) -> FastAPI:
    """The API app over ``catalog`` (a ``QA`` is one collection).

    Args:
        catalog: the collections to serve.
        settings: the server's settings (default: the catalog's); they give the access rules.
        access: the access rules, when the caller has already read them.
        concurrency: answers computed at once across all APIs.

    Raises:
        LaunchError: the settings would expose the APIs without credentials.
    """
    service = Service(catalog, concurrency=concurrency)
    settings = settings or service.settings
    access = access or Access.from_settings(settings)
    mcp = create_mcp(service, loopback=access.loopback)
    mcp_app = mcp.streamable_http_app()  # creates the session manager the lifespan runs

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with mcp.session_manager.run():
            yield
        service.close()

    app = FastAPI(
        title="Ask your documents",
        version=_version(),
        summary="Answers quoted from your documents, with citations.",
        description=(
            "REST (`/api/v1`), OpenAI-compatible (`/v1/chat/completions`, `/v1/models`) and "
            "MCP (`/mcp`, streamable HTTP) access to the same collections as the web UI. "
            'Errors are JSON: `{"error": {"code", "message", "type"}}`.'
        ),
        lifespan=lifespan,
    )
    install_handlers(app)
    app.include_router(rest_router(service))
    app.include_router(openai_router(service))
    for route in mcp_app.routes:  # /mcp itself, not a mount: no redirect to /mcp/
        app.router.routes.append(route)
    upload = int(settings.max_upload_mb * 1024 * 1024) + 64 * 1024
    limits = (("/api/v1/documents", upload), ("/api/v1", MAX_BODY), ("/v1", MAX_BODY))
    app.add_middleware(BodyLimitMiddleware, limits=(*limits, ("/mcp", MAX_BODY)))
    app.add_middleware(AccessMiddleware, access=access, prefixes=API_PATHS)
    app.state.service = service
    app.state.access = access
    return app
