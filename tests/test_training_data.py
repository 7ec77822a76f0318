"""The reader's training data: every source, and never a paragraph of the evaluation articles."""

from __future__ import annotations

import json
import re

import pytest

from training.qa_sources import QA_TRAIN, SOURCES, load_source
from training.squad_data import DEV_FILE, answerable, removed_negatives

pytestmark = pytest.mark.skipif(
    not (QA_TRAIN.is_dir() and DEV_FILE.is_file()),
    reason="../shared/corpora (qa-train, squad-v1.1-dev) not present",
)

# The evaluation articles, read here on their own (not through the module under test).
_TRAIN13 = {
    "Super_Bowl_50", "Nikola_Tesla", "Teacher", "Martin_Luther", "Apollo_program",
    "Newcastle_upon_Tyne", "Victoria_and_Albert_Museum", "American_Broadcasting_Company",
    "Genghis_Khan", "Doctor_Who", "Kenya", "Chloroplast", "United_Methodist_Church",
}  # fmt: skip


def _norm(text: str) -> str:
    return " ".join(text.split())


def _sentences(text: str) -> set[str]:
    return {s for s in (_norm(x) for x in re.split(r"(?<=[.!?])\s+", text)) if len(s) >= 60}


@pytest.fixture(scope="module")
def evaluation() -> tuple[set[str], set[str], set[str]]:
    data = json.loads(DEV_FILE.read_text(encoding="utf-8"))["data"]
    held = [a for a in data if a["title"] not in _TRAIN13]
    assert len(held) == 35
    paragraphs = {_norm(p["context"]) for a in held for p in a["paragraphs"]}
    sentences = {s for p in paragraphs for s in _sentences(p)}
    return {a["title"] for a in held}, paragraphs, sentences


@pytest.mark.slow
@pytest.mark.parametrize("source", SOURCES)
def test_no_training_passage_is_or_quotes_an_evaluation_paragraph(source, evaluation):
    """The whole source, train and dev splits, and the no-answer passages made from it."""
    titles, paragraphs, sentences = evaluation
    train, dev = load_source(source)
    assert train and dev
    examples = list(answerable(train + dev, source))
    passages = {e.passage for e in examples} | {e.passage for e in removed_negatives(examples)}
    assert not {a["title"] for a in train + dev} & titles
    for passage in passages:
        assert _norm(passage) not in paragraphs
        assert not _sentences(passage) & sentences, passage[:80]


@pytest.mark.slow
def test_no_dev_title_is_trained_on_in_any_source():
    """QED quotes SQuAD's articles: a dev title must be held out of every source's train."""
    from training.qa_sources import title_key

    splits = {s: load_source(s) for s in SOURCES}
    dev = {title_key(a["title"]) for _, d in splits.values() for a in d}
    trained = {title_key(a["title"]) for t, _ in splits.values() for a in t}
    assert dev and not dev & trained


def test_every_answer_is_a_span_of_its_passage_and_a_whole_cell_in_a_table():
    for source in ("wtq", "tatqa", "qed", "squad-dev13"):
        train, dev = load_source(source)
        for e in answerable(train + dev, source):
            start = e.starts[0]
            assert e.passage[start : start + len(e.answers[0])] == e.answers[0]
            if source == "wtq":  # a cell: after "Header: " or " | ", up to "; ", " |" or "."
                before, after = e.passage[:start], e.passage[start + len(e.answers[0]) :]
                assert before.endswith((": ", "| ", "\n")) or not before, e.qid
                assert after.startswith(("; ", " |", ".\n", "\n")) or after in ("", "."), e.qid


def test_table_rows_are_the_csv_loaders_own_lines():
    """WTQ passages are ``rag.convert.office.load_csv``'s lines: training reads what a user's CSV
    becomes, and a change to the renderer changes the training text with it."""
    from rag.convert.office import load_csv
    from training.qa_sources import wtq_tables

    tables = wtq_tables()
    train, dev = load_source("wtq")
    for article in (train + dev)[::50]:
        lines = [text for text, _ in load_csv(tables[article["title"]]).parts]
        passages = [p["context"] for p in article["paragraphs"]]
        assert "\n".join(passages) == "\n".join(lines)
