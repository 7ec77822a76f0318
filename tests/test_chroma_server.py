"""The same index and answers with a real Chroma server (`chroma run`) holding the vectors."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag import QA, BackendError, IndexMismatchError, Settings
from rag.store.generations import IndexDir
from rag.store.vectors import ChromaVectors
from tests.conftest import CORPUS, SEED

pytestmark = pytest.mark.slow

#: How long `chroma run` may take to answer before the test calls it broken: generous, for a
#: loaded 2-core machine (only a server that never comes up should fail here).
STARTUP_SECONDS = 180
FOX = "The quick brown fox was seen in Oslo in 2001. It was photographed by Kari Nordmann."


class ChromaServer:
    """A `chroma run` process on a free loopback port, restartable on the same data."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = path.parent / "chroma.log"

    def start(self) -> None:
        binary = Path(sys.executable).with_name("chroma")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    str(binary),
                    "run",
                    "--path",
                    str(self.path),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chroma run exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"chroma run did not answer within {STARTUP_SECONDS} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def collections(self) -> list[str]:
        url = f"{self.url}/api/v2/tenants/default_tenant/databases/default_database/collections"
        with urllib.request.urlopen(url, timeout=10) as r:
            return sorted(c["name"] for c in json.load(r))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ChromaServer]:
    srv = ChromaServer(tmp_path / "chroma-data")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def remote(tmp_path: Path, server: ChromaServer) -> Settings:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    return Settings(corpus_dir=corpus, index_dir=tmp_path / "index", chroma_url=server.url)


def test_ingest_answer_restart_answer(remote, server, embedder):
    with QA(remote, embedder=embedder) as qa:
        summary = qa.ingest()
        assert summary.added == [SEED] and summary.written == summary.chunks > 0
        manifest = IndexDir(remote.index_dir).read_manifest(qa.snapshot().gen)
        assert manifest.vectors["kind"] == "server"
        assert manifest.vectors["collection"] in server.collections()
        assert not (qa.snapshot().gen / "chroma").exists()  # nothing on local disk

        before = qa.ask("When did the Taliban seize Kabul?")
        assert "September" in before.text and before.citations[0].source == SEED

        server.stop()
        with pytest.raises(BackendError, match="RAG_CHROMA_URL"):
            qa.ask("When did the Taliban seize Kabul?")
        server.start()  # same data, same port: the same session answers again
        after = qa.ask("When did the Taliban seize Kabul?")
        assert after.text == before.text and after.citations == before.citations

    # and a fresh process-like session too
    with QA(remote, embedder=embedder) as qa:
        assert qa.ask("When did the Taliban seize Kabul?").text == before.text


def test_incremental_ingest_clones_the_collection_and_collects_old_ones(remote, server, embedder):
    with QA(remote, embedder=embedder) as qa:
        first = qa.ingest()
        (remote.corpus_dir / "fox.txt").write_text(FOX, encoding="utf-8")
        second = qa.ingest()
        assert second.added == ["fox.txt"] and second.unchanged == [SEED]
        assert second.embedded == second.written == 1  # only the new chunk is embedded
        reader = qa.snapshot()
        assert reader.vectors.count() == reader.manifest.chunk_count == first.chunks + 1
        answer = qa.ask("Where was the quick brown fox seen?")
        assert answer.citations and answer.citations[0].source == "fox.txt"
        assert "Oslo" in answer.text

        (remote.corpus_dir / "fox.txt").unlink()
        third = qa.ingest()
        assert third.removed == ["fox.txt"] and third.deleted == 1
        live = IndexDir(remote.index_dir).read_manifest(qa.snapshot().gen).vectors["collection"]
        qa.close()
        IndexDir(remote.index_dir).collect_garbage(keep={qa.snapshot().gen})
        assert server.collections() == [live]  # dropped with their generations


def test_kind_of_vector_store_is_checked(remote, server, embedder, tmp_path):
    with QA(remote, embedder=embedder) as qa:
        qa.ingest()
    local = remote.model_copy(update={"chroma_url": None})
    with QA(local, embedder=embedder) as qa, pytest.raises(IndexMismatchError, match="server"):
        qa.ask("When did the Taliban seize Kabul?")
    with pytest.raises(BackendError, match="http://host:8000"):
        ChromaVectors.server("localhost:8000", "x", token=None, create=True)


def test_a_collection_changed_behind_our_back_is_damage(remote, server, embedder):
    """Same count, other ids: the reader compares ids with the manifest, not just the count."""
    import chromadb

    from rag import IndexDamagedError

    with QA(remote, embedder=embedder) as qa:
        qa.ingest()
        gen = qa.snapshot().gen
    name = IndexDir(remote.index_dir).read_manifest(gen).vectors["collection"]
    client = chromadb.HttpClient(host="127.0.0.1", port=server.port)
    collection = client.get_collection(name)
    victim = collection.get(limit=1, include=["embeddings"])
    collection.delete(ids=victim["ids"])
    collection.add(ids=["not-ours"], embeddings=victim["embeddings"], documents=["x"])
    with (
        QA(remote, embedder=embedder) as qa,
        pytest.raises(IndexDamagedError, match="server's collection has 1 chunks"),
    ):
        qa.ask("When did the Taliban seize Kabul?")


def test_two_collections_share_one_server_and_answer_only_from_their_own(
    tmp_path: Path, server: ChromaServer, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two named collections on one server: separate server collections, no crossed answers."""
    from rag.ingest.generation_store import server_collection

    monkeypatch.chdir(tmp_path)  # collections/NAME/... are relative to the working directory
    facts = {
        "hr": "Staff receive twenty-eight days of paid leave each year.",
        "manuals": "The Falcon rover battery lasts eleven hours on one charge.",
    }
    for name, text in facts.items():
        corpus = tmp_path / "collections" / name / "corpus"
        corpus.mkdir(parents=True)
        (corpus / f"{name}.txt").write_text(text, encoding="utf-8")
    hr = Settings(collection="hr", chroma_url=server.url)
    manuals = Settings(collection="manuals", chroma_url=server.url)
    leave_q = "How many days of paid leave do staff receive?"
    battery_q = "How long does the Falcon rover battery last?"

    with QA(hr, embedder=embedder) as a, QA(manuals, embedder=embedder) as b:
        assert a.ingest().added == ["hr.txt"]
        assert b.ingest().added == ["manuals.txt"]
        names = {}
        for settings, qa in [(hr, a), (manuals, b)]:
            gen = qa.snapshot().gen
            vectors = IndexDir(settings.index_dir).read_manifest(gen).vectors
            assert vectors["kind"] == "server"
            assert vectors["collection"] == server_collection(settings, gen)
            names[settings.collection] = vectors["collection"]
        assert names["hr"].startswith("rag-hr-gen-")
        assert names["manuals"].startswith("rag-manuals-gen-")
        assert server.collections() == sorted(names.values())  # two, distinct, nothing else

        leave, battery = a.ask(leave_q), b.ask(battery_q)
        assert not leave.abstained and "twenty-eight" in leave.text
        assert {c.source for c in leave.citations} == {"hr.txt"}
        assert not battery.abstained and "eleven hours" in battery.text
        assert {c.source for c in battery.citations} == {"manuals.txt"}
        crossed = [a.ask(battery_q), b.ask(leave_q)]
        assert [x.abstained for x in crossed] == [True, True]
        assert [x.citations for x in crossed] == [[], []]
        assert [d.source for d in a.documents()] == ["hr.txt"]
        assert [d.source for d in b.documents()] == ["manuals.txt"]
