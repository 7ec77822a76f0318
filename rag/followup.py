"""Follow-up questions: turn "and who was defense minister?" into a standalone query.

Retrieval sees one string, so a follow-up that leans on the conversation ("and when?",
"what did he do next?") must carry what it leans on. Without an LLM we use a rule: when a
question reads as a follow-up, append the previous question's content words that it lacks.
The rewritten query is what is searched for and is reported as ``Answer.query``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rag.keyword import analyze

_FOLLOW_UP = re.compile(
    r"^\W*(and|but|also|so|then|what about|how about|and what about|what else|why not|same for)\b"
    r"|\b(he|she|him|her|his|hers|they|them|their|it|its|this|that|these|those|there|then"
    r"|the same|the other|the latter|the former)\b",
    re.I,
)
_CONTENT = re.compile(r"[^\W\d_][\w'\u2019-]*|\d[\d,./-]*")
_WH = {"who", "whom", "whose", "what", "when", "where", "which", "why", "how"}


def user_turns(history: Sequence[Any]) -> list[str]:
    """The user's earlier questions, oldest first, from any common history shape.

    Accepts ``(question, answer)`` pairs, ``{"role", "content"}`` dicts (OpenAI/Gradio
    messages) and LangChain messages.
    """
    questions: list[str] = []
    for turn in history:
        if isinstance(turn, (tuple, list)) and turn:
            text = turn[0]
        elif isinstance(turn, dict):
            text = turn.get("content") if turn.get("role") == "user" else None
        else:
            text = getattr(turn, "content", None) if getattr(turn, "type", "") == "human" else None
        if isinstance(text, str) and text.strip():
            questions.append(text.strip())
    return questions


def is_follow_up(question: str) -> bool:
    """Whether a question depends on the conversation to make sense."""
    words = _CONTENT.findall(question)
    content = [w for w in words if w.lower() not in _WH]
    return bool(_FOLLOW_UP.search(question)) or len(analyze(" ".join(content))) <= 1


def rewrite(question: str, history: Sequence[Any]) -> str:
    """A standalone query for ``question`` given the earlier turns (rule-based)."""
    previous = user_turns(history)
    if not previous or not is_follow_up(question):
        return question
    have = set(analyze(question))
    carried: list[str] = []
    for word in _CONTENT.findall(previous[-1]):
        stems = analyze(word)
        if stems and not set(stems) & have and word.lower() not in _WH:
            carried.append(word)
            have.update(stems)
    if not carried:
        return question
    return f"{question.rstrip()} ({' '.join(carried)})"
