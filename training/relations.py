"""No-answer questions that ask for another relation than the one their passage states.

"Who was Zardari's *predecessor*?" over a passage that names Zardari and Karzai, "who *leads*
the Haqqani Network?" over one that calls it a Taliban faction: the shipped reader answers
with a name of the right kind, since the passage is about the entity the question names.
SQuAD 2.0's writers made such questions by hand (an attribute of an entity the passage
mentions but does not give). Here an answerable question whose relation word is one of a
family ("founder", "successor", "wife"; "built", "invented"; "population"; "length") has that
word swapped for another of its family that the passage never words, and is paired with its
own passage: the entity is still there, the relation is not. Only questions whose passage
words their own relation are swapped (since reader v10's run): "what is the *author* picky
about?" over a review that never says "author" contrasts nothing.

Words of one family share their grammar and what they can be said of (role nouns, past verbs,
present verbs, a place's attributes, measures), so the swapped question reads as a question.
Words that say the same relation ("leader", "head", "chief") are one kind, and a kind counts
as worded when a passage word starts with one of its stems, so a swap never asks what the
passage says in other words it lists. The passage can still imply the new relation in words
no list holds: that is this kind's noise. The lexicon is :mod:`rag.read.relations`', which
the answerer also holds against its answers.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from rag.read import RELATION_FORMS, RELATION_WORD, RELATIONS, worded
from training.retyped import put_word, swapped_negatives
from training.squad_data import Example


def reworded(question: str, passage: str, rng: random.Random) -> str | None:
    """``question`` asking for another relation of its family that ``passage`` never words."""
    found = RELATION_WORD.search(question)
    if found is None:
        return None
    family, kind = RELATION_FORMS[found.group(1).lower()]
    if not worded(RELATIONS[family][kind], passage):
        return None  # the passage leaves the relation to be inferred: no contrast to make
    others = [k for i, k in enumerate(RELATIONS[family]) if i != kind and not worded(k, passage)]
    if not others:
        return None
    return put_word(question, found, 1, rng.choice(others)[0])


def relation_negatives(examples: Iterable[Example], seed: int = 0) -> list[Example]:
    """Each answerable question with a relation word, reworded, against its own passage."""
    return swapped_negatives(examples, reworded, "relation", seed)
