"""Programs' ways in: a REST API, an OpenAI-compatible endpoint and an MCP server.

``create_api(catalog)`` (:mod:`rag.api.app`) builds the FastAPI app the web server mounts its
UI into; :func:`create_mcp` also serves stdio for ``rag mcp``; :class:`Service` is what every API
does, once. :mod:`rag.api.auth` says who may use the server, for the web UI too. Nothing here
imports gradio, and the names load on first use, so the UI's launcher can check access without
importing FastAPI.
"""

from rag import _front_door

__getattr__, __dir__, __all__ = _front_door(
    __name__,
    {
        "app": ("create_api",),
        "auth": ("Access", "LaunchError", "is_loopback", "parse_api_keys", "parse_auth"),
        "mcp": ("create_mcp",),
        "service": ("Service",),
    },
)
