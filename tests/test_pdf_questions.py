"""The shared real-world PDFs, indexed together: each answers its question from the right page.

A reading-order, header or hyphenation fault shows up here as a wrong or missing answer, which
is what a user would see; `tests/convert/test_pdf_text.py` checks the cleaned text itself.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag import QA, Settings

PDFS = Path(__file__).resolve().parent / "data" / "pdfs"
FR = "federal-register-2020-17221.pdf"
WARN = "WARN-Report-for-7-1-2015-to-03-25-2016.pdf"


@pytest.fixture(scope="module")
def pdf_corpus(tmp_path_factory: pytest.TempPathFactory, embedder) -> tuple[Settings, object]:
    root = tmp_path_factory.mktemp("pdfs")
    shutil.copytree(PDFS, root / "corpus")
    settings = Settings(corpus_dir=root / "corpus", index_dir=root / "index")
    with QA(settings, embedder=embedder) as qa:
        summary = qa.ingest()
    return settings, summary


def test_every_pdf_is_indexed_or_skipped_for_its_reason(pdf_corpus) -> None:
    _, summary = pdf_corpus
    reasons = {s.path: s.reason for s in summary.skipped}
    assert reasons == {"password-example.pdf": "encrypted PDF (needs a password)"}
    assert len(summary.added) == 7


# What must hold whatever the reader's margin: the question is answered from the right page,
# and ``answer`` is in the cited quote. ``said`` must be in the answer itself only where the
# reader is sure of its span; on the table PDFs it picks a neighbouring cell ("$", "25"), on
# the transcript a date of the same line, and for the WARN report "10th and 25th of each
# month" (right, but not the word "bi-weekly"), so only the quote is asserted there.
@pytest.mark.parametrize(
    ("question", "source", "answer", "page", "said"),
    [
        (
            "How many fatalities resulted from the Ethiopian Airlines Flight 302 accident?",
            FR,
            "157",
            2,
            "157",
        ),
        (
            "At what time did the oral argument begin?",
            "scotus-transcript-p1.pdf",
            "1:01",
            1,
            None,
        ),
        (
            "How much was paid to J Matthew Bain, district director?",
            "senate-expenditures.pdf",
            "37,499.96",
            1,
            None,
        ),
        ("How often is the WARN report updated?", WARN, "25th", 1, None),
        (
            "How many ballots were cast in the precinct?",
            "la-precinct-bulletin-2014-p1.pdf",
            "327",
            1,
            None,
        ),
    ],
)
def test_a_question_per_pdf_is_answered_from_its_page(
    pdf_corpus, embedder, question: str, source: str, answer: str, page: int, said: str | None
) -> None:
    settings, _ = pdf_corpus
    with QA(settings, embedder=embedder) as qa:
        result = qa.ask(question)
    assert not result.abstained, result.passages[:2]
    citation = result.citations[0]
    assert (citation.source, citation.page, citation.location) == (source, page, f"page {page}")
    assert answer in citation.quote
    if said:
        assert said in result.text
