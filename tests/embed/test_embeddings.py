"""Both embedding runtimes give sentence-transformers' vectors, loaded only when needed."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys

import numpy as np
import pytest

from rag import QA
from rag.embed import embedder as emb_module
from rag.embed.embedder import Embedder
from tests.conftest import ROOT

TEXTS = [
    "When did the Taliban seize Kabul?",
    "The Taliban seized Kabul in September 1996 after a long siege.",
    "Ünïcödé, emoji 🙂 and punctuation -- tokenised like everything else.",
    "x",
    "A long passage that is far past the model's window. " * 60,  # truncated at 256 tokens
    "def f(x):\n    return x ** 2",
]


@pytest.fixture(scope="module")
def reference(embedder: Embedder) -> np.ndarray:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(embedder.path), device="cpu", local_files_only=True)
    return model.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    """An embedder with its own cache folder, so the export really happens here."""
    fresh = Embedder(cache_dir=tmp_path_factory.mktemp("model-cache"))
    assert not fresh.onnx_path.exists()
    assert fresh.export_onnx()
    return fresh


def test_torch_runtime_equals_sentence_transformers(embedder, reference, monkeypatch):
    monkeypatch.setattr(emb_module, "BULK", 1)  # every call is a bulk call: torch
    vectors = Embedder(onnx=False).encode(TEXTS)
    assert vectors.dtype == np.float32 and vectors.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(vectors, reference, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_onnx_export_equals_sentence_transformers(exported, reference):
    assert exported.onnx_path.is_file()
    exported.clear_recent()
    vectors = exported.encode(TEXTS)  # a small call: ONNX Runtime
    assert exported._onnx_session is not None
    np.testing.assert_allclose(vectors, reference, atol=1e-5)
    assert exported.embed_query(TEXTS[0]) == pytest.approx(reference[0].tolist(), abs=1e-5)
    docs = exported.embed_documents(TEXTS[:2])
    np.testing.assert_allclose(np.array(docs), reference[:2], atol=1e-5)


def test_a_damaged_export_is_not_trusted(tmp_path, reference):
    broken = Embedder(cache_dir=tmp_path)
    broken.onnx_path.parent.mkdir(parents=True)
    broken.onnx_path.write_bytes(b"not an onnx model")
    vectors = broken.encode(TEXTS)  # falls back to torch, same vectors
    np.testing.assert_allclose(vectors, reference, atol=1e-5)
    assert broken._onnx_session is None


def test_no_model_is_loaded_to_count_tokens_or_know_the_shape(tmp_path):
    fresh = Embedder(cache_dir=tmp_path)
    assert fresh.count_tokens(["hello world", ""]) == [2, 0]
    assert (fresh.dimension, fresh.max_tokens) == (384, 256)
    loaded = {"_torch_model", "_onnx_session", "_sentence_transformer"} & set(fresh.__dict__)
    assert not loaded


def test_word_piece_batches_cover_every_text_once_with_little_padding(embedder):
    rng = random.Random(0)
    words = ["the", "quick", "brown", "fox", "jumps", "over", "lazy", "Ünïcödé", "🙂", "x**2"]
    texts = [" ".join(rng.choices(words, k=rng.randint(0, 120))) for _ in range(700)]
    seen, real, computed = [], 0, 0
    for rows, ids, mask in embedder.pieces.batches(texts, 64):
        assert len(rows) <= 64 and ids.shape == mask.shape and ids.dtype == np.int64
        assert (np.diff(mask, axis=1) <= 0).all()  # padding only on the right
        seen.extend(rows)
        real, computed = real + int(mask.sum()), computed + mask.size
    assert sorted(seen) == list(range(len(texts)))
    assert computed <= real * 1.1


def test_recent_texts_are_not_embedded_twice_and_results_do_not_alias(exported):
    exported.clear_recent()
    first = exported.encode(TEXTS[:3])
    first[:] = 0  # a caller scribbling on its result must not poison the cache
    again = exported.encode([TEXTS[2], TEXTS[0], TEXTS[2]])
    assert np.abs(again[0] - again[2]).max() == 0
    assert np.linalg.norm(again, axis=1) == pytest.approx([1, 1, 1], abs=1e-5)


def test_another_pooling_goes_through_sentence_transformers(embedder, tmp_path):
    from sentence_transformers import SentenceTransformer

    folder = tmp_path / "cls-model"
    shutil.copytree(embedder.path, folder)
    pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
    pooling.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    cls = Embedder(str(folder), cache_dir=tmp_path / "cache")
    assert not cls._native and not cls.export_onnx()
    want = SentenceTransformer(str(folder), device="cpu", local_files_only=True).encode(
        TEXTS[:3], normalize_embeddings=True
    )
    np.testing.assert_allclose(cls.encode(TEXTS[:3]), want, atol=1e-5)


def test_rebuild_and_undone_edits_embed_nothing(make_corpus, embedder):
    text = "Alpha facts. The alpha project started in 1990 in Oslo. It was led by Kari Nordmann."
    settings = make_corpus({"a.txt": text, "b.txt": "Beta facts. Beta has twelve members."})
    with QA(settings, embedder=embedder) as qa:
        first = qa.ingest()
        assert first.embedded == first.chunks
        assert qa.ingest(rebuild=True).embedded == 0
        (settings.corpus_dir / "a.txt").write_text(text + " Gamma came later.", encoding="utf-8")
        assert qa.ingest().embedded >= 1
        (settings.corpus_dir / "a.txt").write_text(text, encoding="utf-8")
        undone = qa.ingest()
        assert undone.updated == ["a.txt"] and undone.embedded == 0
        assert "1990" in qa.ask("When did the alpha project start?").text


def test_a_cold_question_needs_neither_torch_nor_sentence_transformers(shipped, qa):
    qa.ingest()  # makes sure the query-time export exists for this machine
    code = (
        "import sys; from rag import ask; a = ask('When did the Taliban seize Kabul?'); "
        "print(a.text); print(sorted(m for m in ('torch', 'sentence_transformers', "
        "'transformers') if m in sys.modules))"
    )
    env = {
        **os.environ,
        "RAG_CORPUS_DIR": str(shipped.corpus_dir),
        "RAG_INDEX_DIR": str(shipped.index_dir),
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert "1996" in out[0]
    assert out[1] == "[]"


def test_old_exports_are_cleared(tmp_path):
    folder = tmp_path / "rag"
    (folder / "onnx").mkdir(parents=True)
    for i in range(4):  # exports of models used before, oldest first
        old = folder / "onnx" / f"old{i}.onnx"
        old.write_bytes(b"x")
        os.utime(old, (1000 + i, 1000 + i))
    fresh = Embedder(cache_dir=folder)
    assert fresh.export_onnx()
    left = sorted(p.name for p in (folder / "onnx").glob("*.onnx"))
    assert left == sorted([fresh.onnx_path.name, "old3.onnx", "old2.onnx"])
