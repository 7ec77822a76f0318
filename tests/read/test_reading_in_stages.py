"""Reading in stages: the most promising window first, the rest only when it is not sure."""

from __future__ import annotations

import json
import shutil

import pytest

from rag import QA
from rag.read.answerer import ExtractiveAnswerer
from rag.read.model import SHIPPED, ReaderModel

BRIDGE = (
    "The Zephyr Bridge over the Lomar River was opened in 1932 by mayor Helen Crane. "
    "It is 410 metres long and carries two railway tracks."
)
#: Other passages: long enough that each is cut into several windows.
FILLER = [
    " ".join(f"The {kind} fair of year {n} sold {n % 7} tons of grain." for n in range(60))
    for kind in ("spring", "autumn")
]
QUESTION = "Who opened the Zephyr Bridge?"


@pytest.fixture(scope="module")
def model() -> ReaderModel:
    return ReaderModel()


def ranked(model: ReaderModel) -> list:
    texts = [*FILLER, BRIDGE]
    answerer = ExtractiveAnswerer(model, doc_text=lambda _source: "", threshold=0.0)
    return answerer.choose(QUESTION, texts, model.windows(QUESTION, texts))


def test_windows_are_ranked_best_first(model):
    chosen = ranked(model)
    assert len(chosen) == 6
    # the bridge's passage comes last in retrieval order but holds the question's terms
    assert chosen[0].passage == 2
    assert all(w.passage != 2 for w in chosen[1:])


def test_a_sure_first_window_is_read_alone(model):
    chosen = ranked(model)
    everything = model.read(chosen)
    staged = model.read(chosen, stop_margin=everything[0].margin - 1.0)
    assert len(staged) == 1
    assert (staged[0].passage, staged[0].start, staged[0].end) == (
        everything[0].passage,
        everything[0].start,
        everything[0].end,
    )
    assert staged[0].margin == pytest.approx(everything[0].margin, abs=1e-4)
    assert [*FILLER, BRIDGE][2][staged[0].start : staged[0].end] == "mayor Helen Crane"


def test_an_unsure_first_window_reads_the_rest(model):
    chosen = ranked(model)
    everything = model.read(chosen)
    staged = model.read(chosen, stop_margin=everything[0].margin + 1.0)
    assert len(staged) == len(chosen)
    assert [(s.passage, s.start, s.end) for s in staged] == [
        (s.passage, s.start, s.end) for s in everything
    ]


def test_the_stop_margin_is_the_readers_and_a_setting_overrides_it(model, tmp_path):
    stored = json.loads((SHIPPED / "reader.json").read_text())["stop_margin"]
    assert model.stop_margin_given(None) == stored
    assert model.stop_margin_given(3.5) == 3.5
    assert model.stop_margin_given(float("inf")) is None  # RAG_READER_STOP_MARGIN=inf
    bare = tmp_path / "reader"
    shutil.copytree(SHIPPED, bare)
    config = json.loads((bare / "reader.json").read_text())
    del config["stop_margin"]
    (bare / "reader.json").write_text(json.dumps(config))
    assert ReaderModel(str(bare)).stop_margin_given(None) is None  # not calibrated: read all


def test_the_answerer_stops_where_the_reader_is_sure(make_corpus, embedder):
    text = "Zephyr Bridge\n\n" + BRIDGE + "\n\n" + "\n\n".join(FILLER) + "\n"
    settings = make_corpus({"bridge.txt": text})
    with QA(settings, embedder=embedder) as qa:
        passages = qa.retrieve(QUESTION)
        staged = qa.answerer().find(QUESTION, passages, spans_only=True)
        answer = qa.ask(QUESTION)
    whole = settings.model_copy(update={"reader_stop_margin": float("inf")})
    with QA(whole, embedder=embedder) as qa:
        full = qa.answerer().find(QUESTION, passages, spans_only=True)
        answer_read_whole = qa.ask(QUESTION)
    assert len(staged.spans) == 1 and len(full.spans) > 1
    assert staged.span.start == full.span.start and staged.span.end == full.span.end
    assert "Helen Crane" in answer.text and answer.text == answer_read_whole.text
