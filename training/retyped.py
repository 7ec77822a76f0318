"""No-answer questions that ask for another kind of thing than the passage's answer is.

"Which *river* flows along the border?" over a passage that names the Arabian Sea, "in which
*city* ...?" over one that names only the country: the shipped reader reads the sea and the
country with confidence, since the passage answers a question of the same shape about the
same things. SQuAD 2.0's writers made such questions by hand; here an answerable question that
asks "which/what <kind>" has that kind swapped for another of the same family that the
passage never names ("which city" -> "which river", "what company" -> "what university"),
and is paired with its own passage, which now holds an answer of the wrong kind. Up to three
words describing the kind may stand between ("which Pakistani intelligence *agency*"), but no
verb or function word ("what did the *company* build?" asks for a thing, not a company);
readers up to v9 were trained on the kind right after the question word only.

Kinds are grouped by family, and words that name the same kind ("country", "nation") are one
kind, so a swap never asks for what the answer already is. A passage can still name a river
without the word "river": such questions are answerable by a reader who knows rivers, and are
the noise of this kind.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable

from rag.read import plural
from rag.text import LIGHT_WORDS, QUESTION_WORDS, STOP_WORDS
from training.squad_data import Example

#: Families of kinds; each tuple is one kind, its first word the one a swap writes.
FAMILIES: tuple[tuple[tuple[str, ...], ...], ...] = (
    (("city", "town", "village", "capital"), ("country", "nation"), ("river",), ("lake",),
     ("sea", "ocean"), ("mountain", "peak"), ("island",), ("continent",),
     ("province", "state", "region", "county", "district")),
    (("company", "firm", "corporation", "business"), ("team", "club"),
     ("university", "college", "school"), ("party",), ("band", "group"),
     ("newspaper", "magazine"), ("agency",), ("network", "channel")),
    (("language",), ("religion",), ("currency",), ("sport",), ("instrument",),
     ("animal",), ("disease",), ("element",)),
)  # fmt: skip


#: Each kind's word and its plural -> (family, kind, whether plural).
_FORMS = {form: (f, k, form != word) for f, family in enumerate(FAMILIES)
          for k, kind in enumerate(family) for word in kind
          for form in (word, plural(word))}  # fmt: skip
#: "which city", "what companies", "which Pakistani intelligence agency": the kind after the
#: question word, past up to three words that describe it.
_ASKED = re.compile(r"\b(?:which|what)\s+((?:[\w'-]+\s+){0,3}?)("
                    + "|".join(sorted(_FORMS, key=len, reverse=True)) + r")\b",
                    re.IGNORECASE)  # fmt: skip
#: Words that say the kind is no longer the thing asked for ("what did the *company* build?").
_NOT_DESCRIBING = STOP_WORDS | QUESTION_WORDS | LIGHT_WORDS


def _asked_kind(question: str) -> re.Match[str] | None:
    """The match whose second group is the kind ``question`` asks for, if it asks for one."""
    found = _ASKED.search(question)
    if found is None:
        return None
    between = found.group(1).lower().split()
    if any(w in _NOT_DESCRIBING or w.endswith("ed") for w in between):
        return None  # a verb or a function word: the kind is a subject or an object
    return found


def retyped(question: str, passage: str, rng: random.Random) -> str | None:
    """``question`` asking for another kind of its family that ``passage`` never names."""
    found = _asked_kind(question)
    if found is None:
        return None
    family, kind, plural_asked = _FORMS[found.group(2).lower()]
    low = passage.lower()
    others = [
        k
        for i, k in enumerate(FAMILIES[family])
        if i != kind and not any(re.search(rf"\b(?:{w}|{plural(w)})\b", low) for w in k)
    ]
    if not others:
        return None
    word = rng.choice(others)[0]
    return put_word(question, found, 2, plural(word) if plural_asked else word)


def put_word(question: str, found: re.Match[str], group: int, word: str) -> str:
    """``question`` with ``found``'s ``group`` replaced by ``word``, capitalised as it was."""
    if found.group(group)[0].isupper():
        word = word.capitalize()
    start, end = found.span(group)
    return question[:start] + word + question[end:]


def retyped_negatives(examples: Iterable[Example], seed: int = 0) -> list[Example]:
    """Each answerable question asking "which <kind>", retyped, against its own passage."""
    return swapped_negatives(examples, retyped, "retyped", seed)


def swapped_negatives(
    examples: Iterable[Example],
    swap: Callable[[str, str, random.Random], str | None],
    kind: str,
    seed: int = 0,
) -> list[Example]:
    """Each answerable question that ``swap`` rewrites, as a ``kind`` against its own passage."""
    rng = random.Random(seed)
    out = []
    for e in examples:
        new = swap(e.question, e.passage, rng) if e.answerable else None
        if new:
            out.append(Example(f"{e.qid}-{kind}", e.article, new, e.passage, (), kind, (),
                               e.source))  # fmt: skip
    return out
