"""How sure an answer is: the reader's margin turned into P(the answer is right), and words for it.

A margin (span score minus no-answer score) means little to a reader of the answer: "4.67"
says neither "right" nor "wrong". ``training/calibrate_reader.py --write`` fits an isotonic
(monotone) map from margin to the share of answers that were right on the reader's dev
split and stores it in the reader's ``reader.json`` as a short list of ``(margin,
probability)`` points; here it is read back and interpolated with numpy. A reader without
those points (a Hugging Face folder, an old export) gives no confidence (None), never a
guess.

The words shown for a confidence come from :data:`LABELS`, the one place that cuts the
probability into bands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: (lowest confidence, words): the first band whose bound the confidence reaches names it.
LABELS: tuple[tuple[float, str], ...] = (
    (0.75, "likely right"),
    (0.5, "probably right"),
    (0.25, "uncertain"),
    (0.0, "unlikely to be right"),
)


def confidence_label(confidence: float | None) -> str:
    """The words for a confidence ("likely right", "uncertain", ...); "" for None."""
    if confidence is None:
        return ""
    for bound, words in LABELS:
        if confidence >= bound:
            return words
    return LABELS[-1][1]


@dataclass(frozen=True)
class ConfidenceMap:
    """A monotone map from reader margin to the probability that the answer is right.

    ``margins`` ascend; between two points the probability is interpolated linearly, and
    outside them it is the nearest end's value (isotonic regression's own convention).
    """

    margins: tuple[float, ...]
    probabilities: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.margins) != len(self.probabilities) or not self.margins:
            raise ValueError("a confidence map needs as many probabilities as margins (>= 1)")
        if any(b < a for a, b in zip(self.margins, self.margins[1:], strict=False)):
            raise ValueError("a confidence map's margins must ascend")
        if any(not 0.0 <= p <= 1.0 for p in self.probabilities):
            raise ValueError("a confidence map's probabilities must lie in [0, 1]")

    @classmethod
    def from_points(cls, points: Sequence[Sequence[float]]) -> ConfidenceMap:
        """From ``[(margin, probability), ...]`` as ``reader.json`` stores them."""
        pairs = sorted((float(m), float(p)) for m, p in points)
        return cls(tuple(m for m, _ in pairs), tuple(p for _, p in pairs))

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ConfidenceMap | None:
        """The map in a reader's settings (``confidence.points``), or None when it has none.

        Raises:
            ValueError: the points are there but malformed.
        """
        section = config.get("confidence")
        if not isinstance(section, dict) or not section.get("points"):
            return None
        return cls.from_points(section["points"])

    def points(self) -> list[list[float]]:
        return [[m, p] for m, p in zip(self.margins, self.probabilities, strict=True)]

    def __call__(self, margin: float) -> float:
        """P(right) of an answer with this margin, rounded to three decimals."""
        value = np.interp(margin, self.margins, self.probabilities)
        return round(float(value), 3)
