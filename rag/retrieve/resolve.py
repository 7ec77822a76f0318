"""Follow-ups the reader can read: "Who sponsors it?" -> "Who sponsors the Tripartite Commission?".

The reader was trained on standalone questions, so a pronoun that points back into the
conversation leaves it guessing, and a query with the previous turn's keywords appended in
parentheses (:func:`rag.retrieve.followup.rewrite`, good for retrieval) is a string it never
saw. :func:`resolve` puts the referent where the pronoun is, without a language model:

- "What is X?" about a name X ("the Tripartite Commission", "PEP 343"): X;
- when the previous question got a short answer that is not a time, a place, an amount or a
  reason ("Who ...?", "Which PEP ...?", "What is the main arena ...?"), the referent is that
  answer: "Who wrote it?"
  after "Which PEP introduced the walrus operator?" -> "Who wrote Assignment Expressions?";
- otherwise it is the previous question's topic: X of "What is X?", "How many X ...", or the
  subject after the auxiliary ("When did the Taliban seize Kabul?" -> "the Taliban").

Demonstratives ("did that happen?") stay as they are: they point at an event, not a noun, and
no single phrase of the previous turn replaces them well. What was measured is in the README
("Follow-up questions").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rag.cite.markers import strip_markers
from rag.results import ABSTAIN_TEXT
from rag.retrieve.followup import conversation, is_follow_up, rewrite

# questions whose answer is a time, a place, an amount or a reason: not a thing to point at
_NOT_ENTITY = re.compile(r"^\W*(?:when|where|why|how|in\s+what\s+year|in\s+which\s+year)\b", re.I)
_NUMBER_OR_DATE = re.compile(r"^[\W\d]*$|\b(?:1[0-9]|20)\d\d\b")
_WHAT_IS = re.compile(
    r"^\W*(?:what|who)\s+(?:is|are|was|were)\s+(?P<x>.+?)(?:\s+about)?\s*\?*\s*$", re.IGNORECASE
)
_HOW_MANY = re.compile(
    r"^\W*how\s+(?:many|much)\s+(?P<x>.+?)\s+(?:were|was|are|is|did|do|does|have|has|had|will"
    r"|would|could|can)\b",
    re.IGNORECASE,
)
#: A name: capitalised words ("the Tripartite Commission", "the Zen of Python", "PEP 572")
_NAME = r"(?:the\s+)?(?:PEP\s+\d+|[A-Z][\w'’.-]*)(?:\s+(?:PEP\s+\d+|[A-Z][\w'’.-]*|of|\d+))*"
_AUX_SUBJECT = re.compile(
    r"^\W*(?:\w+\s+){0,3}?(?:did|does|do|is|was|were|are|has|have|had|can|could|will|would)\s+"
    rf"(?P<x>{_NAME})",
)
_CAPITALISED = re.compile(rf"(?<!^)(?<![.?!]\s)\b{_NAME}")
_SUBJECT = re.compile(r"\b(he|she|it|they|him|them)\b", re.IGNORECASE)
_POSSESSIVE = re.compile(r"\b(his|her|its|their)\b", re.IGNORECASE)
_LEAD = re.compile(r"^\s*(?:and|but|also|so|then)\s+", re.IGNORECASE)
#: An answer longer than this is a sentence, not a name for the thing a pronoun points at.
_MAX_REFERENT_WORDS = 8


def referent(previous: str, answer: str) -> str:
    """What a pronoun in the next question most likely points at ('' when nothing fits)."""
    answer = strip_markers(answer or "").rstrip(".")
    named = _WHAT_IS.match(previous)
    if named and re.match(_NAME, named.group("x")):  # "What is the Zen of Python?": that
        return named.group("x").strip()
    if (
        answer
        and answer != ABSTAIN_TEXT.rstrip(".")
        and len(answer.split()) <= _MAX_REFERENT_WORDS
        and not _NOT_ENTITY.match(previous)
        and not _NUMBER_OR_DATE.search(answer)
    ):
        return answer
    for pattern in (_WHAT_IS, _HOW_MANY, _AUX_SUBJECT):
        match = pattern.match(previous)
        if match:
            return match.group("x").strip()
    match = _CAPITALISED.search(previous)
    return match.group(0).strip() if match else ""


def standalone_query(question: str, history: Sequence[Any]) -> str:
    """What to search for, and read, when ``question`` is asked within a conversation.

    A pronoun replaced by what it points at reads (and searches) as a question of its own;
    what cannot be resolved carries the last turn's terms instead, which still helps retrieval.
    """
    standalone = resolve(question, history)
    return standalone if standalone != question else rewrite(question, history)


def resolve(question: str, history: Sequence[Any]) -> str:
    """``question`` with its pronouns replaced by what they point at in the last turn.

    A question that does not read as a follow-up, or a conversation with no earlier turn,
    comes back unchanged; so does one whose referent cannot be found.
    """
    turns = conversation(history)
    if not turns or not is_follow_up(question):
        return question
    previous, answer = turns[-1]
    target = referent(previous, answer)
    if not target:
        return question
    resolved = _LEAD.sub("", question)
    resolved = _POSSESSIVE.sub(lambda _m: _possessive(target), resolved, count=1)
    resolved = _SUBJECT.sub(target, resolved, count=1)
    if resolved == _LEAD.sub("", question):
        return question
    return resolved[0].upper() + resolved[1:]


def _possessive(noun: str) -> str:
    return f"{noun}'" if noun.endswith("s") else f"{noun}'s"
