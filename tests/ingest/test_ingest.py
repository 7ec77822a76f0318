"""Ingest is incremental, never loses the previous index, and reports every skipped file."""

from __future__ import annotations

import json
import shutil

import pytest

from rag import QA, CorpusError, IndexMismatchError, Settings
from rag.store.generations import IndexDir
from tests.pdfs import make_pdf

A = "Alpha facts. The alpha project started in 1990 in Oslo. It was led by Kari Nordmann."
B = "Beta facts. The beta project has twelve members. Its budget is four million euros."


def gens(settings: Settings) -> list[str]:
    return sorted(p.name for p in settings.index_dir.iterdir() if p.name.startswith("gen-"))


def test_reingest_of_an_unchanged_corpus_writes_nothing(make_corpus, embedder):
    settings = make_corpus({"a.txt": A, "b.md": B})
    with QA(settings, embedder=embedder) as qa:
        first = qa.ingest()
        second = qa.ingest()
    assert first.added == ["a.txt", "b.md"] and first.written == first.chunks > 0
    assert second.written == second.deleted == second.embedded == 0
    assert not second.changed and second.unchanged == ["a.txt", "b.md"]
    assert second.index_path == first.index_path  # no new generation
    # Touching a file (new mtime, same bytes) is still not a change.
    (settings.corpus_dir / "a.txt").write_text(A, encoding="utf-8")
    with QA(settings, embedder=embedder) as qa:
        assert qa.ingest().written == 0


def test_edit_replaces_only_that_files_chunks_and_delete_removes_them(make_corpus, embedder):
    settings = make_corpus({"a.txt": A, "b.md": B})
    with QA(settings, embedder=embedder) as qa:
        qa.ingest()
        manifest = IndexDir(settings.index_dir).read_manifest(qa.snapshot().gen)
        b_chunks = [c.id for c in manifest.files["b.md"].chunks]
        (settings.corpus_dir / "a.txt").write_text(A + " Gamma was added later.", encoding="utf-8")
        edited = qa.ingest()
        assert edited.updated == ["a.txt"] and edited.unchanged == ["b.md"]
        assert edited.written >= 1 and edited.deleted >= 1
        manifest = IndexDir(settings.index_dir).read_manifest(qa.snapshot().gen)
        assert [c.id for c in manifest.files["b.md"].chunks] == b_chunks
        assert "Gamma" in qa.ask("What was added later to alpha?").text

        (settings.corpus_dir / "b.md").unlink()
        deleted = qa.ingest()
        assert deleted.removed == ["b.md"] and deleted.deleted == len(b_chunks)
        reader = qa.snapshot()
        assert set(reader.manifest.files) == {"a.txt"}
        assert reader.vectors.count() == reader.manifest.chunk_count
        assert all(p.source == "a.txt" for p in qa.ask("How many members has beta?").passages)
    assert len(gens(settings)) <= 2  # old generations are collected


def test_bad_files_are_skipped_with_reasons_and_the_rest_indexed(make_corpus, embedder):
    settings = make_corpus(
        {
            "good.txt": A,
            "empty.txt": "",
            "binary.txt": bytes(range(256)) * 20,
            "corrupt.pdf": b"%PDF-1.4\nthis is not really a pdf",
            "old.txt": "R\u00e9sum\u00e9 of the caf\u00e9 project, written in 1999.".encode(
                "cp1252"
            ),
            "paper.pdf": make_pdf(["The delta paper was published in 2001."]),
            "notes.pages": "x",
        }
    )
    with QA(settings, embedder=embedder) as qa:
        summary = qa.ingest()
        reasons = {s.path: s.reason for s in summary.skipped}
        assert set(summary.added) == {"good.txt", "old.txt", "paper.pdf"}
        assert reasons["empty.txt"] == "empty file"
        assert "binary" in reasons["binary.txt"]
        assert "PDF" in reasons["corrupt.pdf"]
        assert "unsupported" in reasons["notes.pages"]
        answer = qa.ask("When was the delta paper published?")
        assert "2001" in answer.text
        assert answer.citations[0].source == "paper.pdf" and answer.citations[0].page == 1


def test_missing_and_empty_corpus_are_clear_errors_that_touch_no_index(tmp_path, embedder):
    settings = Settings(corpus_dir=tmp_path / "nope", index_dir=tmp_path / "index")
    with pytest.raises(CorpusError, match="does not exist"):
        QA(settings, embedder=embedder).ingest()
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "zero.txt").write_bytes(b"")
    settings = Settings(corpus_dir=tmp_path / "empty", index_dir=tmp_path / "index")
    with pytest.raises(CorpusError, match=r"no indexable documents.*zero\.txt: empty file"):
        QA(settings, embedder=embedder).ingest()
    assert not (tmp_path / "index" / "CURRENT").exists()


def test_emptying_a_corpus_keeps_the_previous_index(make_corpus, embedder):
    settings = make_corpus({"a.txt": A})
    with QA(settings, embedder=embedder) as qa:
        qa.ingest()
        before = qa.snapshot().gen
        (settings.corpus_dir / "a.txt").unlink()
        with pytest.raises(CorpusError):
            qa.ingest()
        assert IndexDir(settings.index_dir).current() == before


def test_a_failed_ingest_leaves_the_previous_index_answering(make_corpus, embedder):
    settings = make_corpus({"a.txt": A})
    with QA(settings, embedder=embedder) as qa:
        qa.ingest()
        before = qa.ask("Where did the alpha project start?")
        (settings.corpus_dir / "b.txt").write_text(B, encoding="utf-8")

        def explode(stage, done, total):
            if stage == "embedding" and done:
                raise RuntimeError("power cut")

        with pytest.raises(RuntimeError, match="power cut"):
            qa.ingest(progress=explode)
        assert len(gens(settings)) == 1  # the half-built generation is gone
        after = qa.ask("Where did the alpha project start?")
        assert after.text == before.text and after.citations == before.citations
        assert qa.ingest().added == ["b.txt"]  # and the next run completes


def test_an_index_from_another_model_is_refused(make_corpus, embedder, tmp_path):
    settings = make_corpus({"a.txt": A})
    other_model = tmp_path / "other-model"
    shutil.copytree(embedder.path, other_model)
    other = Settings(
        corpus_dir=settings.corpus_dir,
        index_dir=settings.index_dir,
        embedding_model=str(other_model),
    )
    with QA(other) as qa:
        qa.ingest()
    with QA(settings, embedder=embedder) as qa, pytest.raises(IndexMismatchError, match="re-run"):
        qa.ask("Where did the alpha project start?")


def test_chunk_ids_are_content_hashes(make_corpus, embedder):
    settings = make_corpus({"a.txt": A})
    with QA(settings, embedder=embedder) as qa:
        qa.ingest()
        first = json.loads((qa.snapshot().gen / "manifest.json").read_text())
    shutil.rmtree(settings.index_dir)
    with QA(settings, embedder=embedder) as qa:
        qa.ingest()
        second = json.loads((qa.snapshot().gen / "manifest.json").read_text())
    assert first["files"]["a.txt"]["chunks"] == second["files"]["a.txt"]["chunks"]
