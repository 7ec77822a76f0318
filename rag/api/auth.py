"""Who may use the server: the same rules for the web UI and every API.

Loopback only, open to anyone on this machine, unless credentials are set: ``RAG_AUTH`` users
(a browser login, or HTTP Basic for a program) and ``RAG_API_KEYS`` bearer tokens. Off loopback
one of the two is required. With credentials set, every request to an API must carry them, on
loopback too (as the UI then asks for a login), and whoever signed in owns the conversations
saved under their name. A browser page of another site cannot drive the API on a user's behalf:
a request with an ``Origin`` that is not the server itself is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rag.errors import RagError
from rag.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: where the owner of a request (the signed-in name, "" when open) is kept in the ASGI scope
OWNER_KEY = "rag.owner"


class LaunchError(RagError):
    """The launch settings would expose the app unsafely, or a credential list is malformed."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host.lower() in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def _entries(value: str, variable: str) -> tuple[list[tuple[str, str]], bool]:
    """``(where, entry)`` pairs of a comma list or a file, and whether it was a file."""
    value = value.strip()
    file = value[1:].strip() if value.startswith("@") else None
    # A plain path counts only if the file exists: otherwise the value may be a mistyped
    # secret, and no error may repeat it.
    if file is None and ":" not in value and "," not in value and value:
        try:
            if Path(value).expanduser().is_file():
                file = value
        except OSError:
            pass
    if file is None:
        return [(f"entry {n}", e.strip()) for n, e in enumerate(value.split(","), 1)], False
    path = Path(file).expanduser()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "unreadable"
        raise LaunchError(f"{variable} file {path} cannot be read: {reason}") from None
    entries = [
        (f"line {number} of {path}", line.strip())
        for number, line in enumerate(lines, 1)
        if line.strip() and not line.strip().startswith("#")
    ]
    return entries, True


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
    entries, from_file = _entries(settings.auth.get_secret_value(), "RAG_AUTH")
    pairs: list[tuple[str, str]] = []
    for where, entry in entries:
        user, sep, password = entry.partition(":")
        user = user.strip()
        if not sep or not user or not password:
            hint = " (or @/path/to/file)" if len(entries) == 1 and not from_file else ""
            raise LaunchError(f"RAG_AUTH {where} must be user:password, both non-empty{hint}")
        if any(user == known for known, _ in pairs):
            raise LaunchError(f"RAG_AUTH {where}: user {user!r} is listed twice")
        pairs.append((user, password))
    if not pairs:
        raise LaunchError("RAG_AUTH names no user:password entry")
    return pairs


def key_name(token: str) -> str:
    """The owner name of an unnamed key: stable, and no hint of the token itself."""
    return "key-" + hashlib.sha256(token.encode()).hexdigest()[:10]


def parse_api_keys(settings: Settings) -> list[tuple[str, str]] | None:
    """``RAG_API_KEYS`` as ``(name, token)`` pairs, or None when unset.

    Each entry is ``TOKEN`` or ``NAME:TOKEN``, comma-separated or one per line of a file
    (``@/path/to/file``, as for ``RAG_AUTH``). ``NAME`` owns the conversations saved with the
    key (an unnamed key gets ``key-`` and a digest of the token); it may not be a ``RAG_AUTH``
    user, who would then share them. Tokens are at least 16 characters.

    Raises:
        LaunchError: an entry is malformed or short (named by position, never by its text),
            a name or token is listed twice, or the file is unreadable.
    """
    if settings.api_keys is None:
        return None
    entries, _ = _entries(settings.api_keys.get_secret_value(), "RAG_API_KEYS")
    users = {user for user, _ in parse_auth(settings) or []}
    pairs: list[tuple[str, str]] = []
    for where, entry in entries:
        name, sep, token = entry.rpartition(":") if ":" in entry else ("", "", entry)
        name, token = name.strip(), token.strip()
        if sep and not name:
            raise LaunchError(f"RAG_API_KEYS {where} must be TOKEN or NAME:TOKEN")
        if len(token) < 16 or any(ch.isspace() for ch in token):
            raise LaunchError(
                f"RAG_API_KEYS {where}: a token must be at least 16 characters, without spaces"
            )
        name = name or key_name(token)
        if name in users:
            raise LaunchError(f"RAG_API_KEYS {where}: {name!r} is also a RAG_AUTH user")
        if any(name == known or token == secret for known, secret in pairs):
            raise LaunchError(f"RAG_API_KEYS {where}: the name or the token is listed twice")
        pairs.append((name, token))
    if not pairs:
        raise LaunchError("RAG_API_KEYS names no token")
    return pairs


@dataclass(frozen=True)
class Access:
    """The credentials a server accepts; none at all means open (loopback only).

    Attributes:
        users: ``RAG_AUTH``'s ``(user, password)`` pairs: a browser login or HTTP Basic.
        keys: ``RAG_API_KEYS``' ``(name, token)`` pairs: ``Authorization: Bearer TOKEN``.
        loopback: whether the server listens on loopback only.
    """

    users: tuple[tuple[str, str], ...] = ()
    keys: tuple[tuple[str, str], ...] = ()
    loopback: bool = True

    @classmethod
    def from_settings(cls, settings: Settings, *, share: bool = False) -> Access:
        """The access rules of ``settings`` (``share``: a public link is being opened).

        Raises:
            LaunchError: the server would be reachable from other machines without
                credentials, or a credential list is malformed.
        """
        users = parse_auth(settings) or []
        keys = parse_api_keys(settings) or []
        loopback = is_loopback(settings.host) and not share
        if not loopback and not users and not keys:
            where = "a public share link" if share else f"{settings.host} (not loopback)"
            raise LaunchError(
                f"refusing to serve on {where} without a password: set RAG_AUTH=user:password "
                "(or RAG_API_KEYS=TOKEN for the APIs) or use RAG_HOST=127.0.0.1"
            )
        return cls(tuple(users), tuple(keys), loopback)

    @property
    def open(self) -> bool:
        """No credentials are set: anyone who can connect (this machine) may use it."""
        return not self.users and not self.keys

    def login(self, user: str, password: str) -> bool:
        """Whether ``user``/``password`` is a ``RAG_AUTH`` user or a named key (browser login)."""
        return any(
            hmac.compare_digest(user.encode(), known.encode())
            & hmac.compare_digest(password.encode(), secret.encode())
            for known, secret in (*self.users, *self.keys)
        )

    def owner(self, authorization: str | None) -> str | None:
        """Who sent a request with this ``Authorization`` header.

        Their name; "" when the server is open; None when the request must be refused.
        """
        if self.open:
            return ""
        scheme, _, value = (authorization or "").strip().partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer" and value:
            found = None
            for name, token in self.keys:  # every key compared: no early exit to time
                if hmac.compare_digest(value.encode(), token.encode()):
                    found = name
            return found
        if scheme.lower() == "basic" and value:
            try:
                user, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
            if sep and self.login(user, password):
                return user
        return None


def _same_origin(origin: str, host: str) -> bool:
    """Whether a browser's ``Origin`` names the server itself (its ``Host`` header)."""
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and parts.netloc.lower() == host.lower()


class AccessMiddleware:
    """Refuses requests to the API paths without the credentials :class:`Access` asks for.

    Sets the request's owner (``scope["rag.owner"]``). Other paths (the web UI) pass
    untouched: Gradio checks its own login there.
    """

    def __init__(self, app: ASGIApp, access: Access, prefixes: tuple[str, ...]) -> None:
        self.app = app
        self.access = access
        self.prefixes = prefixes

    def _guarded(self, path: str) -> bool:
        return any(path == p or path.startswith(p.rstrip("/") + "/") for p in self.prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._guarded(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        origin = headers.get("origin")
        if origin is not None and not _same_origin(origin, headers.get("host", "")):
            await refuse(
                send, 403, "cross_origin", "requests from another site's pages are refused"
            )
            return
        owner = self.access.owner(headers.get("authorization"))
        if owner is None:
            await refuse(
                send,
                401,
                "unauthorized",
                "sign in: HTTP Basic with a RAG_AUTH user, or Authorization: Bearer with a "
                "RAG_API_KEYS token",
                [(b"www-authenticate", b'Basic realm="rag", charset="UTF-8"')],
            )
            return
        scope[OWNER_KEY] = owner
        await self.app(scope, receive, send)


async def refuse(
    send: Send, status: int, code: str, message: str, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """Answer a request with the API's JSON error body, before any app code runs."""
    body = json.dumps({"error": {"code": code, "message": message, "type": code}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
