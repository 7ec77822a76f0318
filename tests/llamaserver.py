"""Start a real llama.cpp server (llama-cpp-python) on 127.0.0.1 for tests and benchmarks."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.processes import free_port, server_process

ALIAS = "smollm2"


@contextmanager
def llama_server(
    model: Path,
    *,
    api_key: str | None = None,
    alias: str = ALIAS,
    n_ctx: int = 4096,
    startup_timeout: float = 120.0,
) -> Iterator[str]:
    """Serve ``model`` (a GGUF file) with the OpenAI API; yields the ``/v1`` base URL.

    The server is stopped (and waited for) on exit, whatever happened inside.
    """
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--model_alias",
        alias,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(n_ctx),
        "--n_threads",
        "2",
        "--verbose",
        "False",
    ]
    if api_key:
        command += ["--api_key", api_key]
    base_url = f"http://127.0.0.1:{port}/v1"
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    with server_process(
        command,
        f"{base_url}/models",
        name="llama.cpp server",
        startup_timeout=startup_timeout,
        env={**os.environ, "NO_PROXY": "*"},
        headers=headers,
    ):
        yield base_url
