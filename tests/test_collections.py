"""Named collections: separate corpus and index folders, answering from their own documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from rag import QA, Settings
from rag.ingest.generation_store import server_collection
from tests.clirun import rag


@pytest.fixture
def two_collections(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name, text in [
        ("hr", "Staff receive twenty-eight days of paid leave each year."),
        ("manuals", "The Falcon rover battery lasts eleven hours on one charge."),
    ]:
        corpus = tmp_path / "collections" / name / "corpus"
        corpus.mkdir(parents=True)
        (corpus / f"{name}.txt").write_text(text)
    return tmp_path


def test_two_collections_answer_from_their_own_documents_in_one_process(
    two_collections: Path, embedder
) -> None:
    hr, manuals = Settings(collection="hr"), Settings(collection="manuals")
    assert hr.corpus_dir == Path("collections/hr/corpus")
    assert manuals.index_dir == Path("collections/manuals/index")
    with QA(hr, embedder=embedder) as a, QA(manuals, embedder=embedder) as b:
        a.ingest()
        b.ingest()
        leave = a.ask("How many days of paid leave do staff receive?")
        battery = b.ask("How long does the Falcon battery last?")
        assert "twenty-eight" in leave.text and leave.citations[0].source == "hr.txt"
        assert "eleven hours" in battery.text and battery.citations[0].source == "manuals.txt"
        assert b.ask("How many days of paid leave do staff receive?").abstained
        assert [d.source for d in a.documents()] == ["hr.txt"]


@pytest.mark.parametrize("name", ["../etc", "a/b", "", ".hidden", "x" * 25, "name with space"])
def test_collection_names_are_validated(name: str) -> None:
    with pytest.raises(ValidationError, match="invalid collection name"):
        Settings(collection=name)


def test_default_collection_is_todays_folders_and_server_names_do_not_collide() -> None:
    default = Settings()
    assert (default.corpus_dir, default.index_dir) == (Path("corpus"), Path("index"))
    gen = Path("index/gen-1764633600000000000-1234567")
    assert server_collection(default, gen) == f"rag-{gen.name}"  # as before collections
    named = server_collection(Settings(collection="x" * 24), gen)
    assert named == f"rag-{'x' * 24}-{gen.name}" and len(named) <= 63  # Chroma's name limit


@pytest.mark.slow
def test_cli_collection_flag(two_collections: Path) -> None:
    def cli(*args: str):
        return rag(*args, cwd=two_collections, clean_env=True)

    assert cli("ingest", "--collection", "manuals").returncode == 0
    done = cli("ask", "How long does the Falcon battery last?", "--collection", "manuals")
    assert done.returncode == 0, done.stderr
    assert "eleven hours" in done.stdout and "manuals.txt" in done.stdout
    bad = cli("ask", "x?", "--collection", "../etc")
    assert bad.returncode == 2 and "invalid collection name" in bad.stderr
    listed = json.loads(cli("collections", "--json").stdout)  # hr has no index yet
    assert listed == [
        {"name": "default", "corpus_dir": "corpus", "indexed": False},
        {"name": "hr", "corpus_dir": "collections/hr/corpus", "indexed": False},
        {"name": "manuals", "corpus_dir": "collections/manuals/corpus", "indexed": True},
    ]
