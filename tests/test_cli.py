"""The CLI in a real subprocess: exit codes, JSON output, and no tracebacks for user errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def rag(*args: str, cwd, env=None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rag", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.slow
def test_ingest_then_ask_in_json_and_human_form(tmp_path):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.txt").write_text("The kappa bridge opened in 1931 in Bergen.")
    (tmp_path / "corpus" / "b.txt").write_bytes(b"")
    done = rag("ingest", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "1 added" in done.stdout and "skipped b.txt: empty file" in done.stdout
    again = rag("ingest", "--json", cwd=tmp_path)
    assert json.loads(again.stdout)["written"] == 0
    answer = rag("ask", "When did the kappa bridge open?", "--json", cwd=tmp_path)
    assert answer.returncode == 0, answer.stderr
    data = json.loads(answer.stdout)
    assert "1931" in data["text"] and data["citations"][0]["source"] == "a.txt"
    human = rag("ask", "When did the kappa bridge open?", cwd=tmp_path)
    assert "1931 [1]" in human.stdout and "[1] a.txt [0:" in human.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ingest", "--corpus", "missing"), "does not exist"),
        (("ask", "", "--corpus", "missing"), "question is empty"),
        (("ask", "x" * 5000), "too long"),
    ],
)
def test_user_errors_exit_1_with_one_line(tmp_path, args, message):
    done = rag(*args, cwd=tmp_path)
    assert done.returncode == 1
    assert message in done.stderr and "Traceback" not in done.stderr


def test_usage_errors_exit_2(tmp_path):
    assert rag("ask", cwd=tmp_path).returncode == 2
