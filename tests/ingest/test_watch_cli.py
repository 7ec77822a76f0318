"""`rag watch` in a real process: one JSON line per ingest; Ctrl-C stops it cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ingest.test_watch import BASE, FERRY, HANG

pytestmark = pytest.mark.slow


def test_rag_watch_command(tmp_path: Path):
    """`rag watch --json` in a real process: a line per ingest; Ctrl-C stops it cleanly."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "bakery.txt").write_text(BASE, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    command = [sys.executable, "-m", "rag", "watch", "--json", "--quiet", "1"]
    # stderr to a file, not an unread pipe: on a fresh machine the first query-time model
    # export logs more than a pipe holds, and a full pipe would block the process for good
    log = (tmp_path / "stderr.txt").open("w+", encoding="utf-8")
    proc = subprocess.Popen(
        [*command, "--corpus", str(corpus), "--index", str(tmp_path / "index")],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env=env,
    )
    try:
        first = json.loads(proc.stdout.readline())
        assert first["initial"] and first["summary"]["added"] == ["bakery.txt"]
        (corpus / "ferry.txt").write_text(FERRY, encoding="utf-8")
        second = json.loads(proc.stdout.readline())
        assert not second["initial"] and second["summary"]["added"] == ["ferry.txt"]
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=HANG)
        except subprocess.TimeoutExpired:  # a hang: fail with what the process logged
            code = None
        assert code == 0, (tmp_path / "stderr.txt").read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
