"""The shape of an answer (issue 20): a span, evidence sentences, both parts, a resolved
follow-up, a table cell cited by its row. Real weights: the shipped reader and classifier."""

from __future__ import annotations

import hashlib
import re

import pytest

from rag import QA
from rag.read.shape import SHIPPED, ShapeModel, asks_for_a_name, split_two_part
from rag.read.tables import cell_span
from rag.retrieve.resolve import resolve

MARKER = re.compile(r"\s*\[\d+\]")


def words(text: str) -> list[str]:
    return MARKER.sub("", text).split()


def assert_quotes_exact(qa: QA, answer) -> None:
    """Every citation is its document's text at its offsets; the text is made of them."""
    for c in answer.citations:
        assert qa.document_text(c.source)[c.start : c.end] == c.quote
        assert f"[{c.n}]" in answer.text


def test_a_descriptive_question_gets_its_evidence_sentences(qa):
    answer = qa.ask("Why is cooperation between Afghanistan and Pakistan difficult?")
    assert not answer.abstained
    assert 1 <= len(answer.citations) <= 3
    assert "Pervasive mistrust, long-standing tensions" in answer.text
    assert_quotes_exact(qa, answer)
    # a list of quotes: the text is the cited sentences, nothing else
    quoted = " ".join(" ".join(c.quote.split()) for c in answer.citations)
    assert " ".join(words(answer.text)) == quoted
    assert len(words(answer.text)) >= 12


def test_a_factoid_question_gets_a_short_span(qa):
    answer = qa.ask("When did the Taliban seize Kabul?")
    assert not answer.abstained
    assert len(words(answer.text)) <= 4 and "1996" in answer.text
    assert "seized Kabul in September, 1996" in answer.citations[0].quote


def test_a_two_part_question_gets_both_parts(qa):
    answer = qa.ask("Who did Ghani announce as the next interior minister, and when?")
    assert not answer.abstained
    assert "Amrullah Saleh" in answer.text and "23 December 2018" in answer.text
    # both parts are in one sentence here: quoted once, not twice
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    assert len({c.quote for c in answer.citations}) == len(answer.citations)
    assert_quotes_exact(qa, answer)
    # two parts in two sentences: both quoted, each cited
    answer = qa.ask("When did the Taliban seize Kabul, and when did Pakistan recognize them?")
    assert "1996" in answer.text and "1997" in answer.text
    assert len(answer.citations) == 2
    assert_quotes_exact(qa, answer)


def test_two_part_questions_are_split():
    assert split_two_part("Who wrote PEP 572, and which Python version was it for?") == [
        "Who wrote PEP 572?",
        "Which Python version was it for?",
    ]
    assert split_two_part("Who did Ghani name as interior minister, and when?") == [
        "Who did Ghani name as interior minister?",
        "When did Ghani name as interior minister?",
    ]
    assert split_two_part("What are the costs and benefits?") == [
        "What are the costs and benefits?"
    ]


def test_a_follow_up_is_resolved_into_a_standalone_question(qa):
    # the example: "Who funds it?" after "What is the border commission?"
    first = "What is the Tripartite Commission?"
    previous = qa.ask(first)
    assert resolve("Who sponsors it?", [(first, previous.text)]) == (
        "Who sponsors the Tripartite Commission?"
    )
    answer = qa.ask("Who sponsors it?", history=[(first, previous.text)])
    assert "United States" in answer.text
    assert answer.query == "Who sponsors the Tripartite Commission?"  # what was searched
    # a short answer to the last question is what "he" or "it" points at
    assert (
        resolve("When was his appointment announced?", [("Who is the new minister?", "Saleh [1]")])
        == "When was Saleh's appointment announced?"
    )
    previous_q = "When did the Taliban seize Kabul?"
    assert (
        resolve("When did they first defeat local warlords?", [(previous_q, "September, 1996")])
        == "When did the Taliban first defeat local warlords?"
    )


def test_the_classifier_tells_why_from_when():
    from rag.embed.embedder import Embedder

    model = ShapeModel.load()
    vectors = Embedder().encode(
        ["Why have relations between the two countries been strained?", "When was PEP 8 created?"]
    )
    assert model.probability(vectors[0]) > 0.5 > model.probability(vectors[1])


@pytest.mark.parametrize(
    "question",
    [
        "What is the name of the magazine Sand wrote for?",
        "what was the official name of the treaty",
        "What are the names of the two avenues?",
        "Which is the name of the river?",
        "What are male chickens called?",
        "What is the Christian Democratic Party also known as?",
    ],
)
def test_a_question_for_a_name_wants_a_span(question: str):
    assert asks_for_a_name(question)


@pytest.mark.parametrize(
    "question",
    [
        "Name the three bilateral issues.",
        "What is in a name?",
        "Why is it named so?",
        "Who is known as the father of the nation?",
        "What was named after him in 1990?",
    ],
)
def test_other_questions_are_not_questions_for_a_name(question: str):
    assert not asks_for_a_name(question)


def test_a_question_for_a_name_is_never_answered_with_sentences(qa):
    """A span is read whatever the classifier says (it gave this one P(sentences) = 0.50).

    There is no such name on the page, so the span's margin is below the bar for a span and
    the answer is a refusal, where the lower bar for sentences quoted an unrelated sentence.
    """
    from dataclasses import replace

    from rag.read.answerer import ExtractiveAnswerer

    question = "What is the name of the disputed boundary line separating Afghanistan and Pakistan?"
    # a classifier that wants sentences for every question: the name still gets a span
    always = replace(qa.shape_model, cut=0.0)
    answerer = ExtractiveAnswerer(
        qa.reader_model,
        qa.document_text,
        qa.reader_model.threshold,
        shape=always,
        embed=qa.embedder.encode,
    )
    assert answerer.wants_sentences("Why is cooperation difficult?")
    assert not answerer.wants_sentences(question)
    assert qa.ask(question).abstained
    answer = qa.ask("What is the name of the militant network sheltered in North Waziristan?")
    assert not answer.abstained
    assert len(words(answer.text)) <= 4 and "Haqqani" in answer.text


def test_the_classifier_file_is_small_and_named_in_its_card():
    card = (SHIPPED.parent / "MODEL_CARD.md").read_text(encoding="utf-8")
    digest = hashlib.sha256(SHIPPED.read_bytes()).hexdigest()
    assert digest in card and "training/answer_shape.py" in card
    assert SHIPPED.stat().st_size < 16 * 1024


TRAINS = "Route,Departure,Platform\nDublin to Cork,08:15,4\nDublin to Sligo,09:40,7\n"


def test_a_cell_question_is_answered_with_the_cell_cited_by_its_row(make_corpus, embedder):
    with QA(make_corpus({"trains.csv": TRAINS}), embedder=embedder) as qa:
        answer = qa.ask("What time does the train to Sligo depart?")
        assert not answer.abstained
        assert words(answer.text) == ["09:40"]
        c = answer.citations[0]
        assert c.location == "row 3"
        assert c.quote == "Route: Dublin to Sligo; Departure: 09:40; Platform: 7."
        assert_quotes_exact(qa, answer)


@pytest.mark.parametrize(
    ("span", "cell"),
    [("Departure: 09:40", "09:40"), ("09:40; Platform: 7", "09:40"), ("Sligo", "Sligo")],
)
def test_a_span_in_a_row_is_cut_to_one_cell(span: str, cell: str):
    row = "Route: Dublin to Sligo; Departure: 09:40; Platform: 7."
    start = row.index(span)
    s, e = cell_span(row, start, start + len(span))
    assert row[s:e] == cell


def test_a_cell_holding_a_semicolon_is_cut_whole():
    # "; " separates cells only before a header, as rag.read.tables.row_lines reads a row
    row = "Edition: 1st; Accessits: Moreno ; Río; Prize: Castro."
    start = row.index("Moreno")
    s, e = cell_span(row, start, start + len("Moreno ; Río; Prize"))
    assert row[s:e] == "Moreno ; Río"


def test_a_pdf_table_span_does_not_start_in_the_header_row():
    text = "Month Permits Handgun\n2015-11 1,234 567"
    s, e = cell_span(text, 0, len(text))
    assert text[s:e] == "2015-11 1,234 567"


def test_a_header_line_is_its_own_unit_and_prose_leads():
    from rag.read.evidence import is_prose, sentence_of

    text = (
        "PEP: 557\nTitle: Data Classes\nAuthor: Eric V. Smith\nStatus: Final\n\nThis PEP adds them."
    )
    at = text.index("Eric")
    start, end = sentence_of(text, at, at + 5)
    assert text[start:end] == "Author: Eric V. Smith"
    assert not is_prose(text[start:end]) and is_prose("This PEP describes an addition here.")


def test_a_heading_the_span_crosses_is_not_quoted():
    from rag.read.evidence import sentence_of

    text = "Motivation\n\nAbstract\n\nThis PEP proposes two things. Both are new.\n\nSpecification"
    # the reader's span runs from the heading into the sentence, or from it into the next
    start, end = sentence_of(text, text.index("Abstract"), text.index("proposes"))
    assert text[start:end] == "This PEP proposes two things."
    start, end = sentence_of(text, text.index("Both"), len(text))
    assert text[start:end] == "Both are new."
    start, end = sentence_of(text, text.index("Abstract"), text.index("Abstract") + 3)
    assert text[start:end] == "Abstract"  # a span inside the heading alone keeps it
    # a short sentence of its own that ends in a full stop is prose, not a heading
    text = "Yes.\n\nThe reason follows."
    assert text[slice(*sentence_of(text, 0, len(text)))] == text


def test_a_pdf_heading_line_joined_to_its_sentence_is_not_quoted():
    from rag.read.evidence import next_sentence, sentence_of

    # a column of the Federal Register PDF: headings on lines of their own, no blank lines
    text = (
        "comment process.\nProposed Design Changes\nThe FAA proposes mandating the\n"
        "following changes.\nBackground\nOn October 29, 2018, a Boeing Model\n737 crashed.\n"
        "approved by the FAA, was published on\nApril 10, 2020."
    )
    at = text.index("mandating")
    assert text[slice(*sentence_of(text, at, at + 5))].startswith("The FAA proposes")
    assert text[slice(*next_sentence(text, text.index("changes.") + 8))].startswith("On October")
    at = text.index("Design")  # the reader's span in the heading keeps it
    assert text[slice(*sentence_of(text, at, at + 5))].startswith("Proposed Design Changes")
    at = text.index("April")  # a wrapped line of prose is not a heading
    assert text[slice(*sentence_of(text, at, at + 5))].startswith("approved by the FAA")


def test_a_list_items_marker_is_not_quoted():
    from rag.read.evidence import sentence_of

    text = "Semantics\n\n1. A generator expression is lazy. More.\n- Capture patterns bind names.\n"
    text += "2.4 is the version."
    for word, quote in [
        ("generator", "A generator expression is lazy."),
        ("Capture", "Capture patterns bind names."),
        ("version", "2.4 is the version."),  # a number, not a marker
    ]:
        at = text.index(word)
        assert text[slice(*sentence_of(text, at, at + 3))] == quote
    at = text.index("1.")  # the reader's span on the marker keeps it
    assert text[slice(*sentence_of(text, at, at + 1))].startswith("1. A generator")


def test_headings_are_found_and_records_are_not():
    from rag.read.evidence import headings

    text = (
        "Afghanistan - Pakistan Relations\n\nPakistan trained the Taliban.\n\n"
        "Motivation\n\nCountry: Chad; Capital: N'Djamena\n\nYes.\n\nA closing line"
    )
    found = [text[a:b] for a, b in headings(text)]
    # a row (": ") and a sentence are not headings; neither is a last line with nothing after
    assert found == ["Afghanistan - Pakistan Relations", "Motivation"]


def test_the_classifier_refuses_vectors_of_another_model():
    import numpy as np

    from rag.read.shape import ShapeModelError

    with pytest.raises(ShapeModelError, match="384-dimensional"):
        ShapeModel.load().probability(np.zeros(768, dtype=np.float32))
