"""Chunks are exact slices of the document, follow its structure and respect the size."""

from __future__ import annotations

import itertools
import re

import pytest

from rag.convert.loaders import RawDocument
from rag.preprocess.chunking import chunk_text
from rag.preprocess.cleaning import clean
from tests.conftest import CORPUS, SEED


def covered(text: str, chunks) -> bool:
    mask = [False] * len(text)
    for c in chunks:
        for i in range(c.start, c.end):
            mask[i] = True
    return all(mask[i] for i, ch in enumerate(text) if not ch.isspace())


@pytest.mark.parametrize(("size", "overlap"), [(40, 0), (60, 15), (200, 40), (400, 80)])
def test_offsets_invariant_and_coverage_on_the_seed(size, overlap, embedder):
    text = (CORPUS / SEED).read_text(encoding="utf-8")
    doc = clean(RawDocument(SEED, "text", [(text, None)], "x", 1, 0))
    chunks = chunk_text(
        doc.text, chunk_size=size, chunk_overlap=overlap, count_tokens=embedder.count_tokens
    )
    assert chunks
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text
        assert c.text.strip() == c.text and c.text
        assert c.tokens <= size or len(c.text.split()) == 1
    assert covered(doc.text, chunks)


def test_a_heading_starts_a_new_chunk_and_names_it():
    text = "Intro\n\nFirst para is here.\n\nSecond Section\n==============\n\nBody of two."
    chunks = chunk_text(text, chunk_size=100, chunk_overlap=0)
    assert [c.text.split("\n")[0] for c in chunks] == ["Intro", "Second Section"]
    assert chunks[1].heading == "Second Section"


def test_overlap_repeats_whole_sentences_inside_a_paragraph():
    sentences = [f"Sentence number {i} is here." for i in range(30)]
    text = " ".join(sentences)
    chunks = chunk_text(text, chunk_size=25, chunk_overlap=6)
    assert len(chunks) > 3
    for a, b in itertools.pairwise(chunks):
        assert b.start < a.end  # overlapping
        assert re.match(r"Sentence number \d+", b.text)


def test_a_giant_sentence_is_cut_into_windows():
    text = "word " * 1000
    chunks = chunk_text(text.strip(), chunk_size=100, chunk_overlap=10)
    assert all(c.tokens <= 100 for c in chunks)
    assert covered(text.strip(), chunks)


def test_overlap_must_be_smaller_than_size():
    with pytest.raises(ValueError):
        chunk_text("a b c", chunk_size=10, chunk_overlap=10)


def test_chunks_start_and_end_where_the_fast_sentence_splitter_cuts():
    """Chunking takes its sentences from rag.text.sentences (fast mode), not its own splitter."""
    from rag.text.sentences import fast_sentence_spans

    text = " ".join(f"Mr. Lund built bridge {i} in 19{i:02d}. It still stands." for i in range(40))
    spans = fast_sentence_spans(text)
    chunks = chunk_text(text, chunk_size=30, chunk_overlap=8)
    assert len(chunks) > 3
    assert {c.start for c in chunks} <= {s for s, _ in spans}
    assert {c.end for c in chunks} <= {e for _, e in spans}
