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
no list holds: that is this kind's noise.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable

from training.retyped import plural, put_word, swapped_negatives
from training.squad_data import Example

#: Families of relations; each tuple is one kind, its first word the one a swap writes.
FAMILIES: tuple[tuple[tuple[str, ...], ...], ...] = (
    (("founder", "founded", "founding", "co-founder"),
     ("leader", "head", "chief", "chairman", "chairwoman", "led", "leads", "headed"),
     ("president", "presidency"), ("predecessor", "preceded", "preceding"),
     ("successor", "succeeded", "succession"), ("father",), ("mother",), ("wife", "wives"),
     ("husband",), ("son",), ("daughter",), ("brother",), ("sister",), ("owner", "owned"),
     ("author", "writer", "wrote", "written"), ("architect", "designed", "designer"),
     ("coach",), ("captain",), ("inventor", "invented", "invention"),
     ("teacher", "mentor", "taught"), ("rival", "opponent"), ("spokesman", "spokesperson"),
     ("commander", "commanded")),
    (("founded", "established", "created", "formed", "founder"), ("built", "constructed"),
     ("designed", "architect"), ("wrote", "authored", "written", "author"),
     ("invented", "inventor"), ("discovered", "discovery"),
     ("bought", "purchased", "acquired"), ("sold",), ("married", "marriage"),
     ("killed", "murdered", "assassinated"), ("defeated", "beat", "defeat"),
     ("funded", "financed"), ("attacked", "invaded"), ("painted",), ("composed",),
     ("directed", "director"), ("elected", "election"), ("banned", "prohibited"),
     ("signed",), ("won", "defeated", "beat", "victory"), ("lost", "defeated", "beat")),
    (("leads", "heads", "led", "leader"), ("owns", "owner"), ("funds", "finances"),
     ("controls",), ("governs", "rules"), ("manages", "manager"),
     ("produces", "makes", "manufactures"), ("sells",), ("publishes", "publisher"),
     ("hosts",), ("sponsors", "sponsor")),
    (("population", "inhabitants", "residents"), ("capital",), ("motto",), ("nickname",),
     ("budget",), ("revenue", "revenues"), ("mayor",), ("governor",)),
    (("height", "tall"), ("length", "long"), ("width", "wide"), ("depth", "deep"),
     ("weight", "weighs"), ("diameter",), ("temperature",), ("speed",),
     ("price", "cost", "costs")),
)  # fmt: skip


def _stem(word: str) -> str:
    """A word's start that its other forms share ("predecessor" -> "predecess")."""
    return word if len(word) <= 5 else word[:-2]


#: The words a swap may replace: each kind's first word -> (family, kind). Only the first is
#: replaced, since the others may be another part of speech ("led" among the role nouns).
_FORMS = {kind[0]: (f, k) for f, family in enumerate(FAMILIES) for k, kind in enumerate(family)}
#: Not "leads to" / "led to", which say a cause.
_ASKED = re.compile(r"\b(" + "|".join(sorted(_FORMS, key=len, reverse=True))
                    + r")\b(?!\s+to\b)", re.IGNORECASE)  # fmt: skip


def _pattern(kind: tuple[str, ...]) -> re.Pattern[str]:
    """A word starting with a stem of ``kind`` (a short word: itself or its plural)."""
    short = [w for w in kind if len(w) <= 5]
    long = [_stem(w) for w in kind if len(w) > 5]
    parts = []
    if short:
        parts.append(r"(?:" + "|".join(short + [plural(w) for w in short]) + r")\b")
    if long:
        parts.append(r"(?:" + "|".join(long) + r")")
    return re.compile(r"\b(?:" + "|".join(parts) + r")", re.IGNORECASE)


#: Each kind's pattern, compiled once: a question checks every kind of its family.
_PATTERNS = {kind: _pattern(kind) for family in FAMILIES for kind in family}


def _worded(kind: tuple[str, ...], passage: str) -> bool:
    """Whether some word of ``passage`` starts with a stem of ``kind`` (or is a short word)."""
    return _PATTERNS[kind].search(passage) is not None


def reworded(question: str, passage: str, rng: random.Random) -> str | None:
    """``question`` asking for another relation of its family that ``passage`` never words."""
    found = _ASKED.search(question)
    if found is None:
        return None
    family, kind = _FORMS[found.group(1).lower()]
    if not _worded(FAMILIES[family][kind], passage):
        return None  # the passage leaves the relation to be inferred: no contrast to make
    others = [k for i, k in enumerate(FAMILIES[family]) if i != kind and not _worded(k, passage)]
    if not others:
        return None
    return put_word(question, found, 1, rng.choice(others)[0])


def relation_negatives(examples: Iterable[Example], seed: int = 0) -> list[Example]:
    """Each answerable question with a relation word, reworded, against its own passage."""
    return swapped_negatives(examples, reworded, "relation", seed)
