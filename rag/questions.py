"""A question as the system accepts it, and what it says when the documents do not answer.

Both are the user-facing edges of the pipeline, shared by every way in (``QA``, the CLI, the
web UI, the HTTP APIs and the evaluation), so they live apart from the pipeline that
:mod:`rag.qa` runs: a server can validate a question without loading a model.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from rag.errors import QuestionError
from rag.text.words import analyze

_INVISIBLE = {"Cf", "Cc", "Zs", "Zl", "Zp"}


def validate_question(question: Any, max_chars: int) -> str:
    """Normalise a question or raise :class:`QuestionError` saying what is wrong with it.

    The length check runs first, on the raw input, so a huge paste is rejected before any
    other work (and long before anything is embedded).
    """
    if not isinstance(question, str):
        raise QuestionError("the question must be text")
    if len(question) > max_chars:
        raise QuestionError(
            f"the question is too long ({len(question):,} characters; the limit is {max_chars:,})"
        )
    cleaned = "".join(" " if unicodedata.category(ch) in _INVISIBLE else ch for ch in question)
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    if not cleaned:
        raise QuestionError("the question is empty: type a question about your documents")
    if not re.search(r"\w", cleaned):
        raise QuestionError("the question has no words to search for")
    if not analyze(cleaned) and not re.search(r"[^\W\d_]{2,}", cleaned):
        raise QuestionError("the question has no words to search for")
    return cleaned


def abstain_text(sources: Sequence[str]) -> str:
    """The abstention after a search limited to ``sources`` (resolved document paths).

    It differs from :data:`~rag.results.ABSTAIN_TEXT` on purpose: "the documents do not answer"
    would be wrong when most of them were not searched, and the user's next step (widen the
    choice) depends on knowing that.
    """
    if len(sources) == 1:
        return f"The chosen document ({sources[0]}) does not answer this question."
    return f"The {len(sources)} chosen documents do not answer this question."
