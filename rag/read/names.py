"""The names a question names, and the passages whose document mentions them.

"Who did Obama appoint?" asked of passages that never mention Obama is the other common way
a related passage is silent (besides another year, :mod:`rag.read.years`): the reader, trained
to point at spans, points at whoever the passage says was appointed. So a passage is read
only when its document, as far as the retrieved passages show it, mentions every name the
question names; when none does, the answer is an abstention.

A name is written less faithfully than a year: shortened ("Tesla" for "Nikola Tesla"), turned
into an adjective ("Chinese" for "China") or misspelled in the question ("Bankok"). So a name
counts as mentioned when any one of its words is, by its first four letters or as a close
match (difflib's ratio >= 0.8), and a passage counts with its document's file name and title,
its section heading and the other retrieved passages of its document, since a paragraph often
leaves its subject to the title ("the university"). Measured on the dev splits
(``training.calibrate_reader``, which applies the same check to the gold passage alone): the
check refuses 7 of 762 answerable questions (a name their paragraph leaves to the article's
title, or a demonym: "American" over "the U.S."), and at the same 10% false-refusal budget
abstention on related-but-silent passages goes 0.713 -> 0.864, most of that by construction:
the benchmark's swaps are mostly names (README "A name no passage mentions").

What is not a name: the question's first word (capitalised as the sentence's start: "Yale's
colleges ..." loses a name, "Besides ..." would be one otherwise), question words, and
acronyms ("USSR" is often spelled out in the passage). Passages of table rows always count:
a CSV rarely carries its caption, where the event a question names is ("the 2010 Tour de
France").
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from langchain_core.documents import Document

from rag.read.tables import row_lines

# capitalised words in a row, "of"/"the"/"de" allowed between them ("University of Notre Dame")
_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+(?:of\s+|the\s+|de\s+)?[A-Z][a-z]+)*\b")
_FIRST_WORD = re.compile(r"\W*(\w+)")
_WORD = re.compile(r"[^\W_]+")
_CONNECTIVES = frozenset({"of", "the", "de"})
# capitalised words that start a question rather than a name ("In", "According", "Name")
_QUESTION_WORDS = frozenset({
    "What", "Which", "Who", "Whom", "Whose", "When", "Where", "Why", "How", "In", "On", "At",
    "The", "A", "An", "Of", "For", "By", "To", "From", "During", "After", "Before", "Is", "Was",
    "Are", "Were", "Did", "Do", "Does", "Name", "According", "Along", "With", "As", "If",
})  # fmt: skip
# a word of a name matches a passage's word sharing its first letters, or a close spelling
_PREFIX = 4
_CLOSE = 0.8


def names_in(text: str, *, skip: int = -1) -> list[str]:
    """Every name of ``text`` in order, repeats kept (what ``training`` swaps and pools).

    A name is a run of capitalised words less its leading question words, and less the word
    at offset ``skip``.
    """
    names = []
    for m in _NAME.finditer(text):
        words = m.group(0).split()
        if m.start() == skip:
            words = words[1:]
        while words and words[0] in _QUESTION_WORDS:
            words = words[1:]
        if words:
            names.append(" ".join(words))
    return names


def question_names(question: str) -> list[str]:
    """The names the question names, in order, each once; not its first word (see above)."""
    first = _FIRST_WORD.match(question)
    names = []
    for name in names_in(question, skip=first.start(1) if first else -1):
        words = name.split()
        while words and words[0] in ("the", "of"):  # "In the Name ...": the name is "Name"
            words = words[1:]
        names.append(" ".join(words))
    return list(dict.fromkeys(names))


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def mentions(words: set[str], name: str) -> bool:
    """Whether any word of ``name`` is among ``words`` (lowercase), spelt alike or close."""
    parts = [w for w in _WORD.findall(name.lower()) if w not in _CONNECTIVES and len(w) >= 3]
    if not parts:
        return True
    for part in parts:
        if part in words:
            return True
        if len(part) > _PREFIX:
            if any(w.startswith(part[:_PREFIX]) for w in words):
                return True
            if difflib.get_close_matches(part, words, n=1, cutoff=_CLOSE):
                return True
    return False


def passages_naming(question: str, passages: Sequence[Document]) -> list[Document] | None:
    """The passages whose document mentions every name the question names; None if it names none.

    A document is known by its file name and its retrieved passages, with their titles and
    headings. An empty list means no passage answers the question.
    """
    names = question_names(question)
    if not names:
        return None
    sources = [doc.metadata.get("source", id(doc)) for doc in passages]
    known: dict[object, set[str]] = {}
    for source, doc in zip(sources, passages, strict=True):
        where = (source, doc.metadata.get("title"), doc.metadata.get("heading"), doc.page_content)
        known.setdefault(source, set()).update(_words("\n".join(str(x or "") for x in where)))
    named = {source: all(mentions(words, n) for n in names) for source, words in known.items()}
    return [
        doc
        for source, doc in zip(sources, passages, strict=True)
        if named[source] or row_lines(doc.page_content)
    ]
