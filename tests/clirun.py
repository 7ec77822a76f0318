"""Run the ``rag`` command line in a real subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def rag(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    clean_env: bool = False,
) -> subprocess.CompletedProcess[str]:
    """``python -m rag ARGS`` in ``cwd``; ``clean_env`` drops the caller's ``RAG_*`` variables."""
    base = {k: v for k, v in os.environ.items() if not (clean_env and k.startswith("RAG_"))}
    return subprocess.run(
        [sys.executable, "-m", "rag", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        env={**base, **(env or {})},
    )
