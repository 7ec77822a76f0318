"""A small HTTP server on loopback that speaks Ollama's protocol (``/api/tags``, ``/api/chat``).

It answers every chat with a fixed reply, streamed as Ollama streams (one JSON object per
line, ``done: true`` last), and records the requests, so a test can drive the real
``ChatOllama`` client through a real socket and check what it sent.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@contextmanager
def ollama_server(model: str, reply: str) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Yield ``(base_url, requests)`` of a server that offers ``model`` and says ``reply``."""
    requests: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            return

        def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/api/tags":
                tags = {"models": [{"name": f"{model}:latest", "model": f"{model}:latest"}]}
                self._send(200, json.dumps(tags).encode())
            else:
                self._send(404, b'{"error": "not found"}')

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            requests.append({"path": self.path, "body": body})
            if self.path != "/api/chat":
                self._send(404, b'{"error": "not found"}')
                return
            words = reply.split(" ")
            pieces = [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]
            lines = [
                {"model": body.get("model"), "created_at": "2026-01-01T00:00:00Z",
                 "message": {"role": "assistant", "content": p}, "done": False}
                for p in pieces
            ]  # fmt: skip
            lines.append(
                {"model": body.get("model"), "created_at": "2026-01-01T00:00:00Z",
                 "message": {"role": "assistant", "content": ""}, "done": True,
                 "done_reason": "stop", "eval_count": len(pieces), "prompt_eval_count": 10}
            )  # fmt: skip
            if body.get("stream", True):
                data = "".join(json.dumps(x) + "\n" for x in lines).encode()
                self._send(200, data, "application/x-ndjson")
            else:
                final = {**lines[-1], "message": {"role": "assistant", "content": reply}}
                self._send(200, json.dumps(final).encode())

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()
