"""What shape of answer a question wants: a short span, evidence sentences, or two answers.

"When did the Taliban seize Kabul?" wants a date; "Why is cooperation difficult?" wants the
sentence(s) that explain it, and a two-word span there reads as a non-answer. The choice is a
logistic regression over the question's embedding (the packaged all-MiniLM-L6-v2 vector that
retrieval computes anyway), trained on extractive QA questions labelled by the length of their
reference answers: short answers (a name, a date, a number) against whole clauses
(``training/answer_shape.py``; data, command and held-out accuracy in the folder's
``MODEL_CARD.md``). Measured rather than a hand-written list of question openings, so it
covers "What did Zardari tell Karzai?" as well as "Explain ...".

A two-part question ("Who ..., and when?") is cut by :func:`split_two_part` into two
questions the reader can each answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from rag.cite.markers import CLEAN_MARKER
from rag.errors import RagError
from rag.read.confidence import confidence_label
from rag.results import Answer, Citation

#: The shipped classifier.
SHIPPED = Path(__file__).resolve().parents[1] / "models" / "answer_shape" / "weights.json"
#: Probability of "sentences" above which the evidence sentences are the answer.
DEFAULT_CUT = 0.5

#: Questions answered with the whole evidence sentence rather than the span.
_EXPLAIN = re.compile(
    r"^\s*(?:why\b|how\s+(?:does|do|did|is|are|was|were|can|could|would|should|has|have)\b"
    r"|explain\b|describe\b|what\s+(?:is|was|are|were)\s+the\s+(?:purpose|reason|role|effect|"
    r"impact|difference|significance|idea|point)\b)",
    re.IGNORECASE,
)
#: "Which PEP ...", "What document ...": the answer is a document, named by its title.
_WHICH_DOCUMENT = re.compile(
    r"^\s*(?:which|what|in\s+which|in\s+what)\s+(?:pep|document|file|report|paper|article|"
    r"page|proposal|rfc|memo|policy|manual|guide|chapter|transcript|notice|bulletin|spec|"
    r"specification|standard)s?\b",
    re.IGNORECASE,
)

_WH = r"who|whom|whose|when|where|what|which|why|how(?:\s+(?:many|much|long|old|far))?"
# "<question>, and when?" / "<question> and where did ...?" (the first part a wh-question)
_TWO_PART = re.compile(
    rf"^\s*(?P<first>(?:{_WH}|in\s+(?:what|which))\b.+?),?\s+and\s+(?P<wh>{_WH})\b"
    r"(?P<rest>[^?]*)\?*\s*$",
    re.IGNORECASE,
)
_LEADING_WH = re.compile(rf"^\s*(?:in\s+)?(?:{_WH})\b\s*", re.IGNORECASE)
_PRONOUN_ONLY = re.compile(
    r"^\s*(?:(?:is|was|were|are|did|does|do|has|had)\s+)?(?:it|that|this|they|he|she|so)?\s*$",
    re.IGNORECASE,
)


#: "What is the name of ...?", "What are male chickens called?": a name (or a list of names),
#: never a clause. The classifier reads the question's meaning, not its frame, and sent 9% of
#: 400 "name of" and 19% of 400 "called / known as" SQuAD train questions to sentences,
#: although their reference answers average about two words (README "Answer shape").
_ASKS_FOR_A_NAME = re.compile(
    r"^\s*(?:what|which)\s+(?:is|was|are|were)\s+(?:(?:the\s+)?(?:\w+\s+)?names?\s+of\b"
    r"|.*\b(?:called|known\s+as|named)\s*\??\s*$)",
    re.IGNORECASE,
)


def asks_for_a_name(question: str) -> bool:
    """Whether ``question`` asks what something is called (the answer is a span, always).

    Whatever the classifier says, so that such an answer is held to the span's bar, not the
    lower one of sentences.
    """
    return bool(_ASKS_FOR_A_NAME.match(question))


def asks_which_document(question: str) -> bool:
    return bool(_WHICH_DOCUMENT.match(question))


def asks_to_explain(question: str) -> bool:
    return bool(_EXPLAIN.match(question))


class ShapeModelError(RagError):
    """The answer-shape classifier's weights are missing or unreadable."""


@dataclass(frozen=True)
class ShapeModel:
    """Logistic regression: probability that a question wants sentences rather than a span."""

    weights: np.ndarray
    bias: float
    cut: float = DEFAULT_CUT

    @classmethod
    def load(cls, path: Path = SHIPPED, cut: float = DEFAULT_CUT) -> ShapeModel:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            weights = np.asarray(record["weights"], dtype=np.float32)
            bias = float(record["bias"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ShapeModelError(
                f"answer-shape weights {path} are missing or damaged ({exc}); reinstall the package"
            ) from exc
        return cls(weights, bias, cut)

    def probability(self, vector: np.ndarray) -> float:
        """P(sentences) for one question embedding (a unit vector of the packaged model)."""
        if vector.shape != self.weights.shape:
            raise ShapeModelError(
                f"the answer-shape classifier reads {self.weights.shape[0]}-dimensional "
                f"question vectors of all-MiniLM-L6-v2, not {vector.shape[0]}-dimensional ones"
            )
        z = float(vector @ self.weights) + self.bias
        return float(1.0 / (1.0 + np.exp(-z)))

    def wants_sentences(self, vector: np.ndarray) -> bool:
        return self.probability(vector) >= self.cut


def split_two_part(question: str) -> list[str]:
    """The parts of "Who ..., and when?" as questions of their own; one part otherwise.

    An elliptic second part ("and when?", "and when was it?") borrows the first part's body:
    "Who did Ghani name, and when?" -> ["Who did Ghani name?", "When did Ghani name?"], which
    is not grammar but carries the terms the reader matches.
    """
    match = _TWO_PART.match(question)
    if not match:
        return [question]
    first = match.group("first").strip().rstrip(",;")
    wh = match.group("wh")
    rest = match.group("rest").strip()
    body = _LEADING_WH.sub("", first)
    second = f"{wh} {body}" if _PRONOUN_ONLY.match(rest) else f"{wh} {rest}"
    if not body or len(first.split()) < 3:
        return [question]
    return [f"{first}?", f"{second[0].upper()}{second[1:]}?"]


def joined(answers: Sequence[Answer]) -> Answer:
    """The answers to the parts of one question as one answer, citations numbered on."""
    texts: list[str] = []
    citations: list[Citation] = []
    for answer in answers:
        quoted = {(c.source, c.start, c.end) for c in citations}
        if answer.citations and all((c.source, c.start, c.end) in quoted for c in answer.citations):
            continue  # "Who ..., and when?" answered by one sentence: quote it once
        offset = len(citations)
        texts.append(CLEAN_MARKER.sub(lambda m, k=offset: f"[{int(m.group(1)) + k}]", answer.text))
        citations += [replace(c, n=c.n + offset) for c in answer.citations]
    sure = [a.confidence for a in answers]
    confidence = None if None in sure else min(sure)  # as sure as its least sure part
    return replace(
        answers[0],
        text="; ".join(texts),
        citations=citations,
        score=min(a.score for a in answers),
        confidence=confidence,
        confidence_label=confidence_label(confidence),
    )
