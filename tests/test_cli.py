"""The CLI in a real subprocess: exit codes, JSON output, and no tracebacks for user errors."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.clirun import rag


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


def chat(*args: str, cwd, stdin: str) -> subprocess.CompletedProcess[str]:
    return rag("chat", *args, cwd=cwd, stdin=stdin)


@pytest.mark.slow
def test_chat_is_saved_listed_resumed_and_exported(tmp_path):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.txt").write_text(
        "The kappa bridge opened in 1931 in Bergen. It was painted red by Ida Lund in 1950."
    )
    assert rag("ingest", cwd=tmp_path).returncode == 0
    first = chat(cwd=tmp_path, stdin="When did the kappa bridge open?\n\n")
    assert first.returncode == 0, first.stderr
    assert "1931 [1]" in first.stdout and "Saved as" in first.stdout
    listed = json.loads(rag("history", "--json", cwd=tmp_path).stdout)
    assert [(c["title"], c["turn_count"]) for c in listed] == [
        ("When did the kappa bridge open?", 1)
    ]
    cid = listed[0]["id"]
    assert (tmp_path / "history.sqlite3").exists()  # beside the index, not inside it
    again = chat("--resume", cid, cwd=tmp_path, stdin="Who painted it red?\n\n")
    assert again.returncode == 0, again.stderr
    assert "1 earlier turns" in again.stdout and "Ida Lund" in again.stdout
    data = json.loads(rag("history", "export", cid, "--format", "json", cwd=tmp_path).stdout)
    assert [t["question"] for t in data["turns"]] == [
        "When did the kappa bridge open?",
        "Who painted it red?",
    ]
    assert data["turns"][0]["answer"]["citations"][0]["quote"].startswith("The kappa bridge")
    markdown = rag("history", "export", cid, cwd=tmp_path).stdout
    assert markdown.startswith("# When did the kappa bridge open?")
    assert "[^1-1]: " in markdown and "a.txt" in markdown
    missing = chat("--resume", "0" * 32, cwd=tmp_path, stdin="\n")
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
