"""Dense vectors of chunk heads (``embed_tokens``): cheaper vectors, nothing lost to BM25."""

from __future__ import annotations

import numpy as np
import pytest

from rag import QA, Settings
from rag.ingest.records import dense_text, keyword_text
from rag.store.generations import IndexDir

TEXTS = [
    "Ünïcödé, emoji 🙂 and punctuation -- tokenised like everything else. " * 5,
    "short",
    "Unbelievably antidisestablishmentarianism reappears here. " * 30,
    "",
]

# A document whose facts sit in the tails of long paragraphs: only BM25 sees them there.
FILLER = (
    "The survey team walked the northern ridge every morning and wrote down what they saw. "
    "Most days the notes were about weather, boots and the state of the paths. "
)
DOC = "Ridge survey\n\n" + "\n\n".join(
    FILLER * 3 + f"On the {day} day the team counted {n} marmots near the cairn."
    for day, n in (("third", 17), ("ninth", 42), ("fourteenth", 91))
)


@pytest.mark.parametrize("tokens", [1, 5, 16, 64])
def test_heads_are_word_aligned_prefixes_within_the_budget(embedder, tokens):
    heads = embedder.head(TEXTS, tokens)
    counts = embedder.count_tokens(heads)
    for text, head, count, whole in zip(
        TEXTS, heads, counts, embedder.count_tokens(TEXTS), strict=True
    ):
        assert text.startswith(head)
        assert count <= max(tokens, 1) or len(head.split()) == 1  # one over-long word
        if whole <= tokens:
            assert head == text
        else:
            assert head and head == head.rstrip()
            rest = text[len(head) :]
            inside_a_word = head[-1].isalnum() and rest[:1].isalnum()
            assert not inside_a_word or len(head.split()) == 1  # only a word too long to fit


def test_zero_keeps_texts_whole(embedder):
    assert embedder.head(TEXTS, 0) == TEXTS


def test_embed_words_thins_the_dense_text_out():
    text = "The PEP-8 rules: the code's style, the 3.14 release and the C++ rules (again)!"

    def dense(words: str, context: bool = True) -> str:
        settings = Settings(embed_words=words, embed_context=context)
        return dense_text("Style", "Rules", text, settings)

    assert dense("all") == keyword_text("Style", "Rules", text)
    assert dense("all", context=False) == text
    assert dense("words") == (
        "Style Rules The PEP-8 rules the code's style the 3.14 release and the C rules again"
    )
    assert dense("distinct") == "Style Rules The PEP-8 code's 3.14 release and C again"
    assert dense("content") == "Style Rules PEP-8 code's 3.14 release C again"
    assert dense("content", context=False) == "PEP-8 rules code's style 3.14 release C again"


def test_dense_vectors_embed_the_head_and_bm25_the_whole_chunk(make_corpus, embedder):
    settings = make_corpus(
        {"survey.txt": DOC},
        embed_tokens=24,
        embed_words="content",
        chunk_size=120,
        chunk_overlap=0,
    )
    with QA(settings, embedder=embedder) as qa:
        qa.ingest()
        reader = qa.snapshot()
        chunks = reader.chunks
        assert len(chunks) >= 3
        title = reader.manifest.files["survey.txt"].title
        want = embedder.head(
            [dense_text(title, c.heading, reader.chunk_text(c), settings) for c in chunks], 24
        )
        assert all(embedder.count_tokens([w])[0] <= 24 for w in want)
        assert any(len(w) < len(reader.chunk_text(c)) for w, c in zip(want, chunks, strict=True))
        stored = reader.vectors.vectors([c.id for c in chunks])
        expected = embedder.encode(want)
        for chunk, vector in zip(chunks, expected, strict=True):
            np.testing.assert_allclose(stored[chunk.id], vector, atol=1e-5)
        # the counts sit past every head, yet each is found and answered from its chunk
        answer = qa.ask("How many marmots did the team count on the ninth day?")
        assert "42" in answer.text and not answer.abstained
        assert "ninth day the team counted 42" in answer.citations[0].passage


def test_changing_what_is_embedded_rebuilds_the_vectors(make_corpus, embedder):
    settings = make_corpus(
        {"survey.txt": DOC}, embed_tokens=0, embed_words="all", chunk_size=120, chunk_overlap=0
    )
    with QA(settings, embedder=embedder) as qa:
        qa.ingest()
        first = qa.snapshot().manifest
    heads = settings.model_copy(update={"embed_tokens": 16})
    with QA(heads, embedder=embedder) as qa:
        summary = qa.ingest()
        reader = qa.snapshot()
        manifest = reader.manifest
        assert manifest.chunking["embed_tokens"] == 16
        assert summary.embedded > 0  # heads are new texts; nothing stale is kept
        assert [c.id for c in manifest.ordered_chunks()] == [c.id for c in first.ordered_chunks()]
        assert {c.hash for c in manifest.ordered_chunks()}.isdisjoint(
            {c.hash for c in first.ordered_chunks()}
        )
    for change in ({"embed_context": False}, {"embed_words": "content"}):
        with QA(heads.model_copy(update=change), embedder=embedder) as qa:
            assert qa.ingest().embedded > 0
            chunking = IndexDir(settings.index_dir).read_manifest(qa.snapshot().gen).chunking
            assert {k: chunking[k] for k in change} == change
