"""An answer's confidence on its way out: the answer, the UI payload, and rag eval's report."""

from __future__ import annotations

import json

import pytest

from rag.evaluation.questions import load_questions
from rag.evaluation.report import write_reports
from rag.evaluation.runner import default_questions_file, evaluate
from rag.read.confidence import confidence_label
from ui.present import citation_payload


# -- answers, the UI payload and rag eval -------------------------------------------------------
@pytest.mark.slow
def test_an_answer_carries_its_confidence_and_an_abstention_none(qa):
    answer = qa.ask("When did the Taliban seize Kabul?")
    assert not answer.abstained and answer.confidence is not None
    assert 0.0 <= answer.confidence <= 1.0
    assert answer.confidence == qa.reader_model.confidence(answer.score)
    assert answer.confidence_label == confidence_label(answer.confidence)
    data = answer.to_dict()  # what `rag ask --json` prints and the APIs serialise
    assert data["confidence"] == answer.confidence and data["confidence_label"]
    payload = citation_payload(answer)
    assert payload["confidence"] == answer.confidence
    refused = qa.ask("What is the boiling point of liquid nitrogen on Neptune?")
    assert refused.abstained and refused.confidence is None and refused.confidence_label == ""


@pytest.mark.slow
def test_rag_eval_reports_a_reliability_diagram(shipped, embedder, tmp_path):
    questions = load_questions(default_questions_file())[:16]
    report = evaluate(questions, shipped, embedder=embedder, ks=[3], ingest=False)
    answered = [q for q in report.questions if not q.abstained]
    assert answered and all(q.confidence is not None for q in answered)
    paths = write_reports(report, tmp_path)
    data = json.loads(paths["json"].read_text())
    rel = data["reliability"]
    assert rel["count"] == sum(1 for q in answered if not q.answerable or "f1" in q.passed)
    assert sum(b["count"] for b in rel["bins"]) == rel["count"] and rel["ece"] is not None
    assert "## Confidence: predicted vs observed accuracy" in paths["md"].read_text()
    page = paths["html"].read_text()
    assert 'aria-label="reliability diagram"' in page and "ECE" in page
