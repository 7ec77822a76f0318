"""The reader's training stream: the no-answer kinds it draws and in what proportions."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from rag.embed import Embedder
from rag.read.shape import asks_which_document
from training.reader_stream import KINDS, parse_mix, pick_negatives, which_document
from training.relations import relation_negatives, reworded
from training.retyped import FAMILIES, retyped, retyped_negatives
from training.squad_data import Example, dense_negatives

_QUESTION = Example(
    "q1", "Normans", "In what year did the Normans conquer England?",
    "The Norman conquest of England began in 1066 under William the Conqueror.",
    ("1066",), "answerable", (37,), "squad-train",
)  # fmt: skip
_ARTICLES = [
    {"title": "Normans", "paragraphs": [
        {"context": _QUESTION.passage},
        {"context": "The Normans raided the coasts of England and France for a century."},
    ]},
    {"title": "Anglo-Saxons", "paragraphs": [
        {"context": "England was ruled by Anglo-Saxon kings until the Norman invasion, "
                    "which ended their line at Hastings in 1066."},
        {"context": "Anglo-Saxon England was conquered by Danish invaders in the ninth century."},
    ]},
    {"title": "Baking", "paragraphs": [
        {"context": "Bread dough rises when yeast ferments the sugars in flour."},
    ]},
]  # fmt: skip


@pytest.fixture(scope="module")
def encode():
    embedder = Embedder()
    return lambda texts: embedder.encode(list(texts))


def test_dense_negative_is_the_closest_other_article_paragraph_without_the_answer(encode):
    found = dense_negatives([_QUESTION], _ARTICLES, encode)
    assert [e.kind for e in found] == ["dense"]
    negative = found[0]
    # not its own article, not the paragraph that says 1066, not the unrelated one
    assert (
        negative.passage
        == "Anglo-Saxon England was conquered by Danish invaders in the ninth century."
    )
    assert negative.answers == () and not negative.answerable
    assert negative.question == _QUESTION.question and negative.source == "squad-train"


def test_no_dense_negative_when_every_other_paragraph_holds_the_answer(encode):
    own_and_answers = [
        _ARTICLES[0],
        {"title": "Anglo-Saxons", "paragraphs": _ARTICLES[1]["paragraphs"][:1]},
    ]
    assert dense_negatives([_QUESTION], own_and_answers, encode) == []


def test_negative_shares_are_kept_and_unknown_kinds_refused():
    shares = parse_mix("silent=0.5,dense=0.25,removed=0.125,retyped=0.125", KINDS)
    pools = {k: [Example(f"{k}{i}", "a", "q", "p", (), k) for i in range(50)] for k in KINDS}
    picked = pick_negatives(pools, shares, 40, random.Random(0))
    counts = {k: sum(e.kind == k for e in picked) for k in KINDS}
    assert counts == {"silent": 20, "entity": 0, "same-article": 0, "other-article": 0,
                      "removed": 5, "dense": 10, "retyped": 5, "relation": 0}  # fmt: skip
    with pytest.raises(SystemExit, match="retrieved"):
        parse_mix("silent=0.5,retrieved=0.5", KINDS)


def test_which_document_examples_are_answered_by_the_title_or_not_at_all():
    questions = [replace(_QUESTION, qid=f"q{i}") for i in range(40)]
    made = which_document(questions, {"squad-train": _ARTICLES}, 40, random.Random(3))
    answered = [e for e in made if e.answers]
    refused = [e for e in made if not e.answers]
    assert answered and refused
    for e in made:  # the answerer reads these questions over titled passages
        assert asks_which_document(e.question), e.question
    for e in answered:
        assert e.answers == ("Normans",) and e.starts == (0,)
        assert e.passage == f"Normans\n\n{_QUESTION.passage}"
    for e in refused:  # another article's paragraph, under its own title, without "1066"
        assert e.passage.startswith("Baking\n\n") or e.passage.startswith("Anglo-Saxons\n\n")
        assert "1066" not in e.passage


def test_which_document_skips_sources_without_titles():
    # the same 40 questions made examples above; from an untitled source, none
    amazon = [replace(_QUESTION, qid=f"q{i}", source="amazon") for i in range(40)]
    assert which_document(amazon, {"amazon": _ARTICLES}, 40, random.Random(3)) == []


_CITY = Example(
    "q2", "Games", "Which city hosted the 1908 games?",
    "The 1908 games were held in London, on the river Thames, by the British Olympic Council.",
    ("London",), "answerable", (28,), "squad-train",
)  # fmt: skip


def test_a_retyped_question_asks_for_another_kind_the_passage_never_names():
    place_kinds = {kind[0] for kind in FAMILIES[0]} - {"city", "river"}
    asked = set()
    for seed in range(40):
        (e,) = retyped_negatives([_CITY], seed)
        assert e.kind == "retyped" and not e.answers and e.passage == _CITY.passage
        head, kind, rest = e.question.split(" ", 2)
        assert (head, rest) == ("Which", "hosted the 1908 games?")
        asked.add(kind)
    assert asked <= place_kinds and len(asked) > 3  # never the city again, nor the named river


def test_only_which_kind_questions_are_retyped_and_plurals_stay_plural():
    assert retyped(_QUESTION.question, _QUESTION.passage, random.Random(0)) is None
    rng = random.Random(3)
    plural = retyped("What companies built the line?", "It opened in 1902.", rng)
    assert plural is not None and plural.split()[1].endswith("s")
    assert plural.split()[1] not in {"companies", "firms", "corporations", "businesses"}


_WIFE = Example(
    "q3", "Apollo", "Who was the wife of Phlegyas?",
    "Phlegyas, king of the Lapiths, was the father of Coronis, whose son Asclepius was "
    "raised by the centaur Chiron; his wife was Cleophema.",
    ("Cleophema",), "answerable", (129,), "squad-train",
)  # fmt: skip


def test_a_reworded_question_asks_for_a_relation_its_passage_never_words():
    worded = {"wife", "father", "son", "king"}
    asked = set()
    for seed in range(40):
        (e,) = relation_negatives([_WIFE], seed)
        assert e.kind == "relation" and not e.answers and e.passage == _WIFE.passage
        who, was, the, role, rest = e.question.split(" ", 4)
        assert (who, was, the, rest) == ("Who", "was", "the", "of Phlegyas?")
        asked.add(role)
    assert not asked & worded and len(asked) > 5


def test_only_a_relation_word_of_a_family_is_reworded():
    rng = random.Random(0)
    assert reworded("What reasoning leads to a proof?", "Deduction leads to a proof.", rng) is None
    assert reworded("When did the war end?", "It ended in 1945.", rng) is None
    assert reworded("What is the author picky about?", "I am picky about knives.", rng) is None
    built = reworded("Who built the bridge?", "Brunel built the bridge in 1864.", rng)
    assert built is not None and built.split()[1] not in {"built", "constructed"}


def test_words_that_describe_the_kind_may_come_between_and_verbs_may_not():
    rng = random.Random(0)
    passage = "The Inter-Services Intelligence agency was accused by Kabul."
    described = retyped("Which Pakistani intelligence agency was accused?", passage, rng)
    assert described is not None and described.split()[:3] == ["Which", "Pakistani", "intelligence"]
    assert described.split()[3] not in {"agency", "agencies"}
    assert retyped("What did the company build?", "The firm built a dam.", rng) is None
    assert retyped("Which founded company built it?", "The firm built a dam.", rng) is None
