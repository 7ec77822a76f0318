"""Servers in a subprocess on a free loopback port: started, waited for, always stopped.

Shared by the tests that run ``python app.py`` or a llama.cpp server and by ``bench/load.py``;
it imports no Gradio, so a benchmark's client process stays light.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server_process(
    command: list[str],
    ready_url: str,
    *,
    name: str,
    startup_timeout: float,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    headers: Mapping[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` until ``ready_url`` answers 200; yields the process.

    Its output goes to a temporary file (a pipe nobody reads could fill and stall the server)
    and ends the error when it exits during start-up. On exit the server is terminated, killed
    if it lingers, and waited for, whatever happened inside.
    """
    log = tempfile.TemporaryFile()  # noqa: SIM115  (outlives this block: closed in finally)
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if process.poll() is not None:
                log.seek(0)
                output = log.read().decode(errors="replace")[-3000:]
                raise RuntimeError(f"{name} exited ({process.returncode}):\n{output}")
            try:
                if httpx.get(ready_url, headers=headers, timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} did not start in {startup_timeout:g} s")
            time.sleep(0.25)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        log.close()


def app_env(**extra: str) -> dict[str, str]:
    """This environment without any ``RAG_*`` or ``GRADIO_*`` setting, offline, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "GRADIO_"))}
    return {**env, "HF_HUB_OFFLINE": "1", **extra}


@contextmanager
def app_py(
    cwd: Path, env: Mapping[str, str], *, startup_timeout: float = 180.0
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``python app.py`` run in ``cwd`` with ``env`` on a free port; yields (url, process)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with server_process(
        [sys.executable, str(ROOT / "app.py")],
        f"{url}/",
        name="app.py",
        startup_timeout=startup_timeout,
        env={**env, "RAG_PORT": str(port)},
        cwd=cwd,
    ) as process:
        yield url, process
