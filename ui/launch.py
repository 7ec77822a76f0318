"""How the app is served: who may connect, what the file route may serve, Gradio's options.

Safe unless the user asks otherwise: loopback only without a password, no share link without
one, the index, corpus, history and home folders blocked from the file route.
"""

import ipaddress
import logging
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.utils import get_upload_folder

from rag import RagError, Settings

log = logging.getLogger("rag.app")

#: the project folder (app.py's): never served
APP_DIR = Path(__file__).resolve().parent.parent


class LaunchError(RagError):
    """The launch settings would expose the app unsafely."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host.lower() in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def parse_auth(settings: Settings) -> list[tuple[str, str]] | None:
    """``RAG_AUTH`` as a list of ``(user, password)``, or None when unset.

    ``RAG_AUTH`` is ``user:password``, several of them separated by commas, or a file of one
    ``user:password`` per line (blank lines and ``#`` comments skipped), named as
    ``@/path/to/file`` or as a plain path to an existing file. A password may contain ``:``
    (the first one separates); in the comma form it cannot contain ``,``: use a file.

    Raises:
        LaunchError: an entry is malformed (named by position, never by its text, which may
            be a password), a user appears twice, there is no entry, or the file is unreadable.
    """
    if settings.auth is None:
        return None
    value = settings.auth.get_secret_value().strip()
    file = value[1:].strip() if value.startswith("@") else None
    # A plain path counts only if the file exists: otherwise the value may be a mistyped
    # password, and the error below must not repeat it.
    if file is None and ":" not in value and value and Path(value).expanduser().is_file():
        file = value
    if file is not None:
        path = Path(file).expanduser()
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "unreadable"
            raise LaunchError(f"RAG_AUTH file {path} cannot be read: {reason}") from None
        entries = [
            (f"line {number} of {path}", line.strip())
            for number, line in enumerate(lines, 1)
            if line.strip() and not line.strip().startswith("#")
        ]
    else:
        entries = [(f"entry {n}", e.strip()) for n, e in enumerate(value.split(","), 1)]
    pairs: list[tuple[str, str]] = []
    for where, entry in entries:
        user, sep, password = entry.partition(":")
        user = user.strip()
        if not sep or not user or not password:
            hint = " (or @/path/to/file)" if len(entries) == 1 and file is None else ""
            raise LaunchError(f"RAG_AUTH {where} must be user:password, both non-empty{hint}")
        if any(user == known for known, _ in pairs):
            raise LaunchError(f"RAG_AUTH {where}: user {user!r} is listed twice")
        pairs.append((user, password))
    if not pairs:
        raise LaunchError("RAG_AUTH names no user:password entry")
    return pairs


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
        LaunchError: the app would be reachable from other machines without a password.
    """
    auth = parse_auth(settings)
    if (share or not is_loopback(settings.host)) and auth is None:
        where = "a public share link" if share else f"{settings.host} (not loopback)"
        raise LaunchError(
            f"refusing to serve on {where} without a password: set RAG_AUTH=user:password "
            "or use RAG_HOST=127.0.0.1"
        )
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
