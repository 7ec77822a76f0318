"""Follow-up questions: turn "and who was defense minister?" into a standalone query.

Retrieval sees one string, so a follow-up that leans on the conversation ("and when?",
"what did he do next?") must carry what it leans on. Without an LLM we use a rule: when a
question reads as a follow-up, append the previous question's content words that it lacks.
The rewritten query is what is searched for and is reported as ``Answer.query``. The
extractive path tries :func:`rag.retrieve.resolve.resolve` first (the pronoun replaced by
what it points at, a question the reader can read) and uses this rule only for what that
cannot resolve.

With a language model configured, :func:`rewrite_with_llm` asks it for the standalone
question instead (prompt in :mod:`rag.generate.prompts`), and falls back to the rule when the model
fails or returns something that is not a rewrite of the question (an answer, an empty line,
a question about something else).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from langchain_core.language_models import BaseChatModel

from rag.cite.checker import stems_match
from rag.errors import RagError
from rag.generate.prompts import rewrite_messages
from rag.text.words import analyze

log = logging.getLogger(__name__)

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


def conversation(history: Sequence[Any]) -> list[tuple[str, str]]:
    """Earlier ``(question, answer)`` turns, oldest first, from any common history shape."""
    turns: list[tuple[str, str]] = []
    for turn in history:
        if isinstance(turn, (tuple, list)) and turn:
            role, text = "user", turn[0]
            reply = turn[1] if len(turn) > 1 else ""
        elif isinstance(turn, dict):
            role, text, reply = turn.get("role"), turn.get("content"), ""
        else:
            kind = getattr(turn, "type", "")
            role = {"human": "user", "ai": "assistant"}.get(kind, kind)
            text, reply = getattr(turn, "content", None), ""
        if not isinstance(text, str) or not text.strip():
            continue
        if role == "user":
            turns.append((text.strip(), reply.strip() if isinstance(reply, str) else ""))
        elif role == "assistant" and turns and not turns[-1][1]:
            turns[-1] = (turns[-1][0], text.strip())
    return turns


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


def reading_query(question: str, query: str) -> str:
    """What the reader reads for ``question`` searched as ``query``.

    A resolved question ("Who sponsors the Tripartite Commission?") is read as it is; a
    :func:`rewrite` that only appended the last turn's terms in parentheses helped retrieval,
    but is a string the reader never saw in training, and its terms pull the span to the last
    turn's subject: after "Who did Ghani choose as the next interior minister?", "And who was
    defense minister? (Ghani choose next interior)" read the interior minister, the user's
    own words the defense minister. So the reader reads the user's words.
    """
    question = question.rstrip()
    appended = query[len(question) :]
    if query.startswith(question) and appended.startswith(" (") and appended.endswith(")"):
        return question
    return query


#: A rewrite may replace references with what they refer to, but must keep the question's own terms.
_KEEP_SHARE = 0.5
_MAX_GROWTH = 400  # characters a rewrite may add: longer output is an answer, not a question


def rewrite_with_llm(
    model: BaseChatModel,
    question: str,
    history: Sequence[Any],
    *,
    guard: Callable[[], AbstractContextManager[object]] = nullcontext,
) -> str:
    """A standalone query for ``question``, written by ``model``; the rule when that fails.

    With no earlier turns there is nothing to resolve and the model is not called.
    """
    turns = conversation(history)
    if not turns:
        return question
    try:
        with guard():
            reply = model.invoke(rewrite_messages(question, turns))
    except RagError as exc:
        log.warning("follow-up rewrite failed (%s): using the rule-based rewrite", exc)
        return rewrite(question, history)
    content = reply.content if isinstance(reply.content, str) else str(reply.content)
    candidate = clean_rewrite(content)
    if candidate and _keeps_question(question, candidate, turns[-1][0]):
        return candidate
    log.info("discarding the model's rewrite %r of %r: using the rule", content[:200], question)
    return rewrite(question, history)


def clean_rewrite(text: str) -> str:
    """The question in a model's reply: first non-empty line, without labels or quotes."""
    for line in text.strip().splitlines():
        line = re.sub(
            r"^\W*(standalone question|rewritten question|question)\s*:\s*", "", line, flags=re.I
        )
        line = line.strip().strip("\"'“”`*").strip()
        if line:
            return " ".join(line.split())
    return ""


_QUESTION_START = re.compile(
    r"^\W*(who|whom|whose|what|when|where|which|why|how|is|are|was|were|do|does|did|can"
    r"|could|has|have|had|will|would|should|in|on|at|for|from|during|after|before|to|list"
    r"|name|tell|describe|explain)\b",
    re.I,
)


def _keeps_question(question: str, candidate: str, previous: str) -> bool:
    """A rewrite is a question that keeps the follow-up's own terms.

    Most of them (a reference like "that ceremony" may be replaced by what it refers to),
    and at least half of those the previous question lacks: a small model's commonest failure
    is to repeat the previous question, which would search for the old topic again.
    """
    if len(candidate) > len(question) + _MAX_GROWTH:
        return False
    if not candidate.rstrip().endswith("?") and not _QUESTION_START.match(candidate):
        return False  # an answer ("Asadullah Khaleed was defense minister."), not a question
    own = set(analyze(question))
    kept = set(analyze(candidate))
    new = own - set(analyze(previous))
    return _share(own, kept) >= _KEEP_SHARE and _share(new, kept) >= _KEEP_SHARE


def _share(terms: set[str], kept: set[str]) -> float:
    if not terms:
        return 1.0
    return sum(stems_match(t, kept) for t in terms) / len(terms)
