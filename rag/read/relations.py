"""A relation the question asks for that the answer's sentence never words.

"Who was Zardari's *predecessor*?" over a passage where Karzai witnesses Zardari's
swearing-in, "who *leads* the Haqqani Network?" over one that lists it beside the Taliban:
SQuAD 2.0's writers called these an attribute of an entity the passage mentions but does not
give. The reader, trained on such questions (``training.relations`` makes them from the
lexicon here), still reads a name of the right kind there with confidence (Karzai at margin
4.26), since the passage is about the entity the question names. So once the reader has found
its span, an answer whose sentence never words the relation the question asks for is an
abstention (:data:`RELATION_ABSTAINER`).

Only "who" questions, and only relations a text words in few ways: roles ("founder",
"predecessor", "wife", "coach"), what someone does now ("leads", "owns"), and offices of a
place ("mayor", "governor"); words of one kind count for each other ("leader", "head",
"chief"), and a word counts by its stem ("preceded", "predecessors"). Not events ("won",
"built", "killed": written as "beat", "put up", "died in"), not "author" (a review's author is
its writer, whom it never names), not a relation word right after "which"/"what" ("which
*rival* country": the kind of the answer) nor one before a capitalised name ("*President*
Truman": a title). Measured over each source's training questions with the sentence cited for
their answer (``python -m bench.name_check``), the check refuses at most 1.0% of answerable
questions (QED's search queries: "who played the *sister* in Back to the Future" over a cast
list), 0.1% or less elsewhere.
"""

from __future__ import annotations

import re

from rag.read.tables import row_lines

#: ``Answer.answerer`` of an abstention because the answer's sentences never word the relation
#: the question asks for: its score is the reader's, which the threshold did not decide.
RELATION_ABSTAINER = "extractive:relation"

# fmt: off
#: Families of relations; each tuple is one kind, its first word the one a question is matched
#: by (and the one ``training.relations`` writes into a swapped question).
RELATIONS: tuple[tuple[tuple[str, ...], ...], ...] = (
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
)
# fmt: on
#: The families the answerer holds against an answer's sentence: roles, what someone does
#: now, offices and attributes. (Events and measures are worded too many ways.)
CHECKED = (0, 2, 3)
#: Kinds never held against a passage: the author of a review is its writer.
_UNCHECKED = frozenset(["author"])
#: A relation word right after "which"/"what" says what the answer is, not how it relates.
_NAMING = re.compile(r"\b(?:which|what|whose)\s+$", re.IGNORECASE)
#: A relation word followed by a capitalised word is a title ("President Truman").
_TITLE = re.compile(r"\s+[A-Z]")
#: The questions held to it: "who", "whom", "whose".
_WHO = re.compile(r"\bwho(?:m|se)?\b", re.IGNORECASE)


def plural(word: str) -> str:
    """The plural of a noun of the lexicons ("city" -> "cities", "business" -> "businesses")."""
    if word.endswith("y"):
        return word[:-1] + "ies"
    return word + ("es" if word.endswith(("s", "ch")) else "s")


def _stem(word: str) -> str:
    """A word's start that its other forms share ("predecessor" -> "predecess")."""
    return word if len(word) <= 5 else word[:-2]


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


#: Each kind's pattern, compiled once.
_PATTERNS = {kind: _pattern(kind) for family in RELATIONS for kind in family}
#: The words a question is matched by: each kind's first word -> (family, kind). Only the
#: first, since the others may be another part of speech ("led" among the role nouns).
RELATION_FORMS = {
    kind[0]: (f, k) for f, family in enumerate(RELATIONS) for k, kind in enumerate(family)
}
#: Not "leads to" / "led to", which say a cause.
RELATION_WORD = re.compile(r"\b(" + "|".join(sorted(RELATION_FORMS, key=len, reverse=True))
                   + r")\b(?!\s+to\b)", re.IGNORECASE)  # fmt: skip


def worded(kind: tuple[str, ...], text: str) -> bool:
    """Whether some word of ``text`` starts with a stem of ``kind`` (a short word: is one)."""
    return _PATTERNS[kind].search(text) is not None


def asked_relation(question: str) -> tuple[str, ...] | None:
    """The kind of relation a "who" question asks for, of the families held against an answer.

    Only "who" questions: in "what does the reviewer's brother love?" the relation word names
    someone the question is about, and a "what" question asks for its own kind of thing.
    """
    if not _WHO.search(question):
        return None  # "what does the reviewer's *brother* love?": a relation, not the one asked
    found = RELATION_WORD.search(question)
    if found is None or _NAMING.search(question[: found.start()]):
        return None  # "which *rival* country ...?": the kind of the answer, not a relation
    if _TITLE.match(question, found.end()):
        return None  # "appointed by *President* Truman": a title before a name
    family, kind = RELATION_FORMS[found.group(1).lower()]
    words = RELATIONS[family][kind]
    return words if family in CHECKED and words[0] not in _UNCHECKED else None


def words_relation(question: str, passage: str, sentence: tuple[int, int]) -> bool:
    """Whether ``passage[slice(*sentence)]``, the answer's sentence, words the relation asked.

    The sentence is the one the answer cites (:func:`rag.read.evidence.sentence_of`). True when
    the question asks for none, and for a passage of table rows. Its neighbours do not count:
    "who *leads* the Haqqani Network?" is not answered by the sentence naming it beside the
    Taliban because the next one speaks of Pakistan's *leadership*.
    """
    kind = asked_relation(question)
    if kind is None or row_lines(passage):  # a table row words its relations in its headers
        return True
    return worded(kind, passage[sentence[0] : sentence[1]])
