"""Programs' ways in: a REST API, an OpenAI-compatible endpoint and an MCP server.

``create_api(catalog)`` (:mod:`rag.api.app`) builds the FastAPI app the web server mounts its
UI into; :mod:`rag.api.mcp` also serves stdio for ``rag mcp``. Nothing here imports gradio.
"""

from rag.api.app import create_api
from rag.api.auth import Access, LaunchError

__all__ = ["Access", "LaunchError", "create_api"]
