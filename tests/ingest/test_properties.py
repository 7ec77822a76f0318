"""Property-based tests: the chunker's invariants, and incremental indexing as a state machine.

The state machine uses LangChain's DeterministicFakeEmbedding: what is under test is the
bookkeeping of ingest (which chunks are written, moved, deleted), not the embedding model.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from langchain_core.embeddings import DeterministicFakeEmbedding

from rag.ingest.pipeline import ingest
from rag.preprocess.chunking import chunk_text, whitespace_tokens
from rag.settings import Settings
from rag.store.generations import IndexSnapshot

# Text made of words, sentences, paragraphs, headings and stray whitespace.
word = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFG0123456789\u00e9\u2019-", min_size=1, max_size=12
)
sentence = st.lists(word, min_size=1, max_size=30).map(" ".join).map(lambda s: s + ".")
paragraph = st.lists(sentence, min_size=1, max_size=6).map(" ".join)
block = st.one_of(paragraph, word.map(str.title), sentence.map(lambda s: f"# {s[:-1]}"))
document = st.lists(block, min_size=0, max_size=12).flatmap(
    lambda blocks: st.sampled_from(["\n\n", "\n\n\n", "\n \n"]).map(lambda sep: sep.join(blocks))
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=document, size=st.integers(8, 120), overlap_share=st.floats(0, 0.5))
def test_chunks_are_exact_slices_that_cover_the_text(text, size, overlap_share):
    overlap = int(size * overlap_share)
    chunks = chunk_text(text, chunk_size=size, chunk_overlap=overlap)
    covered = np.zeros(len(text), dtype=bool)
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text  # offsets invariant
        assert chunk.text.strip() == chunk.text != ""  # no empty or padded chunks
        assert chunk.tokens <= size or len(chunk.text.split()) == 1
        covered[chunk.start : chunk.end] = True
    for i, ch in enumerate(text):
        assert covered[i] or ch.isspace(), f"character {i} ({ch!r}) is in no chunk"
    starts = [c.start for c in chunks]
    assert starts == sorted(starts)


class FakeEmbedder:
    """The things ingest needs from an embedder, backed by LangChain's fake."""

    model_id = "fake/deterministic-32"
    dimension = 32
    fingerprint = "fake-deterministic-32"  # so ingest caches its vectors like a real model's

    def __init__(self) -> None:
        self._fake = DeterministicFakeEmbedding(size=self.dimension)
        self.embedded = 0

    def count_tokens(self, texts):
        return whitespace_tokens(texts)

    def head(self, texts, tokens):
        return [" ".join(t.split()[:tokens]) if tokens else t for t in texts]

    def encode(self, texts, progress=None):
        self.embedded += len(texts)
        vectors = np.array(self._fake.embed_documents(list(texts)), dtype=np.float32)
        vectors = vectors.reshape(len(texts), self.dimension)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)


NAMES = ["a.txt", "b.md", "sub/c.txt", "sub/deep/d.rst"]
TEXTS = [
    "The harbor opened in 1901. Its keeper counted ships.",
    "The bridge spans the river. It was rebuilt twice.\n\nA second paragraph follows here.",
    "# Title\n\nThe castle stands on a hill. Tourists visit it every summer.",
    "Short note.",
    "The harbor opened in 1901. Its keeper counted ships.",  # same text as another file
]


class IncrementalIndex(RuleBasedStateMachine):
    """Random add/edit/delete/re-ingest sequences keep the index equal to a fresh build."""

    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="rag-state-"))
        self.corpus = self.root / "corpus"
        self.corpus.mkdir()
        self.embedder = FakeEmbedder()
        self.settings = self._settings(self.root / "index")
        self.files: dict[str, str] = {}
        self.dirty = True  # the corpus changed since the last ingest

    def _settings(self, index: Path) -> Settings:
        return Settings(
            corpus_dir=self.corpus,
            index_dir=index,
            chunk_size=16,
            chunk_overlap=4,
            embedding_model=str(Path(__file__).parent),
        )  # never loaded: fake

    @rule(name=st.sampled_from(NAMES), text=st.sampled_from(TEXTS))
    def write(self, name: str, text: str) -> None:
        path = self.corpus / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.files[name] = text
        self.dirty = True

    @rule(name=st.sampled_from(NAMES))
    def delete(self, name: str) -> None:
        if name in self.files:
            (self.corpus / name).unlink()
            del self.files[name]
            self.dirty = True

    @rule()
    def reingest(self) -> None:
        if not self.files:
            return
        summary = ingest(self.settings, self.embedder)  # type: ignore[arg-type]
        again = ingest(self.settings, self.embedder)  # type: ignore[arg-type]
        assert again.written == again.deleted == 0 and not again.changed
        assert summary.chunks == again.chunks
        self.dirty = False

    @invariant()
    def equals_a_fresh_build(self) -> None:
        if self.dirty or not self.files:
            return
        fresh_dir = self.root / f"fresh-{len(list(self.root.iterdir()))}"
        ingest(self._settings(fresh_dir), self.embedder)  # type: ignore[arg-type]
        current, fresh = (self._snapshot(p) for p in (self.settings.index_dir, fresh_dir))
        shutil.rmtree(fresh_dir)
        assert set(current[0]) == set(self.files)
        assert current == fresh

    def _snapshot(self, index: Path) -> tuple[dict, set, list, list]:
        reader = IndexSnapshot.open(
            index, model_id=FakeEmbedder.model_id, chroma_url=None, chroma_token=None
        )
        try:
            files = {
                source: [(c.id, c.start, c.end) for c in entry.chunks]
                for source, entry in reader.manifest.files.items()
            }
            stored = set(reader.vectors.all_ids())
            vectors = reader.vectors.vectors(sorted(stored))
            by_text = sorted(
                (reader.chunk_text(c), tuple(np.round(vectors[c.id], 5))) for c in reader.chunks
            )
            keyword = sorted(reader.chunk_text(c) for c in reader.chunks)
            assert stored == {c.id for c in reader.chunks}
            assert reader.keyword.size == len(reader.chunks)
        finally:
            reader.close()
        return files, stored, keyword, by_text

    def teardown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


TestIncrementalIndex = IncrementalIndex.TestCase
TestIncrementalIndex.settings = settings(
    max_examples=25,
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
