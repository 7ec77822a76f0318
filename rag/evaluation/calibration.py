"""Choose the abstention threshold from data: questions with and without an answer.

The answerer abstains when its confidence is below the threshold. Too low, and it answers
questions the documents cannot answer; too high, and it refuses questions it would have got
right. For a threshold ``t`` the objective is::

    J(t) = answered_correctly(t) + abstained(t)
    answered_correctly(t) = #{answerable q : score(q) >= t and q's answer is correct} / #answerable
    abstained(t)          = #{unanswerable q : score(q) < t} / #unanswerable

(Youden's J for "answer correctly" vs "abstain", each side weighted by its own question count,
so a file with few unanswerable questions does not drown them.) Every threshold between two
neighbouring scores gives the same J, so candidates are the midpoints of those gaps plus one
below and one above all scores; among equally good gaps the widest wins (the most margin for
questions not in the file).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from rag.errors import RagError


class CalibrationError(RagError):
    """The questions cannot calibrate a threshold (they need both kinds of question)."""


@dataclass(frozen=True)
class Calibration:
    """The chosen threshold and how well it separates the two kinds of question."""

    threshold: float
    previous: float
    objective: float
    answered_correctly: float
    abstained: float
    answerable: int
    unanswerable: int
    stored: bool = False
    curve: list[tuple[float, float]] = field(default_factory=list)  # (threshold, J)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["curve"] = [list(point) for point in self.curve]
        return data


def calibrate(
    answerable: Sequence[tuple[float, bool]], unanswerable: Sequence[float], *, previous: float
) -> Calibration:
    """Best threshold for ``(score, answer is correct)`` pairs and unanswerable scores.

    Raises:
        CalibrationError: one of the two groups is empty.
    """
    if not answerable or not unanswerable:
        raise CalibrationError(
            "calibration needs answerable and unanswerable questions (answer null or empty) "
            f"in the file; it has {len(answerable)} and {len(unanswerable)}"
        )
    scores = sorted({s for s, _ in answerable} | set(unanswerable))
    lows = [scores[0] - 1.0, *scores]
    highs = [*scores, scores[-1] + 1.0]
    best: tuple[float, float, float, float] | None = None  # (J, gap, threshold, low)
    curve: list[tuple[float, float]] = []
    for low, high in zip(lows, highs, strict=True):
        t = (low + high) / 2
        j = _objective(t, answerable, unanswerable)
        curve.append((round(t, 6), round(j, 6)))
        key = (round(j, 12), high - low, t, low)
        if best is None or key[:2] > best[:2]:
            best = key
    assert best is not None
    _, gap, threshold, low = best
    if low < round(threshold, 4) <= low + gap:  # a readable value, when it is just as good
        threshold = round(threshold, 4)
    correct = sum(1 for s, ok in answerable if ok and s >= threshold) / len(answerable)
    refused = sum(1 for s in unanswerable if s < threshold) / len(unanswerable)
    return Calibration(
        threshold=threshold,
        previous=previous,
        objective=round(correct + refused, 6),
        answered_correctly=round(correct, 6),
        abstained=round(refused, 6),
        answerable=len(answerable),
        unanswerable=len(unanswerable),
        curve=curve,
    )


def _objective(t: float, answerable: Sequence[tuple[float, bool]], unanswerable: Sequence[float]):
    correct = sum(1 for s, ok in answerable if ok and s >= t) / len(answerable)
    refused = sum(1 for s in unanswerable if s < t) / len(unanswerable)
    return correct + refused
