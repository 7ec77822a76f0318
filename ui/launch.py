"""How the app is served: who may connect, what the file route may serve, Gradio's options.

Safe unless the user asks otherwise: loopback only without a password, no share link without
one, the index, corpus, history and home folders blocked from the file route. The UI is
mounted into the API app (:func:`mount`), so one server and one set of loaded models serve the
page, the REST, OpenAI-compatible and MCP APIs; :mod:`rag.api.auth` holds the access rules
both follow.
"""

import logging
from pathlib import Path
from typing import Any

import gradio as gr
import uvicorn
from fastapi import FastAPI
from gradio.utils import get_upload_folder

from rag import Settings
from rag.api.auth import Access, LaunchError, is_loopback, parse_api_keys, parse_auth

__all__ = [
    "APP_DIR",
    "LaunchError",
    "blocked_paths",
    "is_loopback",
    "launch_options",
    "mount",
    "parse_api_keys",
    "parse_auth",
    "serve",
]

log = logging.getLogger("rag.app")

#: the project folder (app.py's): never served
APP_DIR = Path(__file__).resolve().parent.parent


def blocked_paths(settings: Settings) -> list[str]:
    """Folders the file route must never serve: the index, the corpus, the app, the home.

    Gradio already serves only its own upload cache and ``allowed_paths`` (empty here); this
    is the second lock. A folder that contains Gradio's upload cache is left out, since a block
    wins over everything and would break uploads.
    """
    cache = Path(get_upload_folder()).resolve()
    candidates = [
        settings.index_dir,
        settings.corpus_dir,
        settings.history_file,  # every user's conversations
        APP_DIR,
        Path.home(),
    ]
    blocked: list[str] = []
    for path in candidates:
        path = Path(path).resolve()
        if cache.is_relative_to(path):
            log.warning("not blocking %s: it holds Gradio's upload folder %s", path, cache)
            continue
        blocked.append(str(path))
    return blocked


def launch_options(settings: Settings, *, share: bool = False) -> dict[str, Any]:
    """Keyword arguments for ``Blocks.launch``: safe unless the user asks otherwise.

    Raises:
        LaunchError: the app would be reachable from other machines without a password
            (``RAG_AUTH`` or ``RAG_API_KEYS``), or a credential list is malformed.
    """
    access = Access.from_settings(settings, share=share)
    # The browser login takes RAG_AUTH users and named API keys (NAME:TOKEN), so a server
    # opened to the network with keys alone still asks the page's visitors to sign in.
    auth = [*access.users, *access.keys] or None
    return {
        "server_name": settings.host,
        "server_port": settings.port,
        "share": share,
        "auth": auth,
        "show_error": False,
        "ssr_mode": False,
        "max_file_size": int(settings.max_upload_mb * 1024 * 1024),
        "allowed_paths": [],
        "blocked_paths": blocked_paths(settings),
        "enable_monitoring": False,
        "mcp_server": False,
        "pwa": False,
        "run_history": False,
        "footer_links": ["api", "settings"],
        "strict_cors": True,
        "theme": gr.themes.Soft(
            font=["ui-sans-serif", "system-ui", "sans-serif"],
            font_mono=["ui-monospace", "monospace"],
        ),
    }


#: the launch options ``gr.mount_gradio_app`` takes too (a share link needs ``launch``)
MOUNTED = (
    "server_name",
    "server_port",
    "auth",
    "show_error",
    "ssr_mode",
    "max_file_size",
    "allowed_paths",
    "blocked_paths",
    "enable_monitoring",
    "mcp_server",
    "pwa",
    "run_history",
    "footer_links",
    "theme",
)


def mount(api: FastAPI, demo: gr.Blocks, options: dict[str, Any]) -> FastAPI:
    """The web UI mounted at ``/`` of the API app, with the same safe options as ``launch``.

    The API routes (``/api/v1``, ``/v1``, ``/mcp``, ``/docs``, ``/openapi.json``) come first;
    every other path is the UI's. Gradio's CORS check stays strict (its default when mounted).
    """
    return gr.mount_gradio_app(api, demo, path="/", **{k: options[k] for k in MOUNTED})


def serve(app: FastAPI, settings: Settings) -> None:
    """Serve ``app`` (UI and APIs) on ``settings.host:port`` until interrupted."""
    shown = f"[{settings.host}]" if ":" in settings.host else settings.host
    log.info(
        "serving on http://%s:%s (web UI; REST /api/v1 and /docs; OpenAI /v1; MCP /mcp)",
        shown,
        settings.port,
    )
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
