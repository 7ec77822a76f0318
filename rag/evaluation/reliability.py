"""Is the stated confidence honest? Predicted against observed accuracy, per confidence bin.

An answer's confidence claims "this is right with probability p". Grouping answers by p
(equal-width bins) and comparing each bin's mean p with the share of its answers that were
right shows whether the claim holds: the reliability diagram. The expected calibration
error (ECE) sums the gaps, each weighted by its bin's share of the answers. ``rag eval``
reports both (JSON, Markdown, an inline SVG in the HTML page), and the reader's calibration
(``training/calibrate_reader.py``) checks its fit with the same function on held-out
articles.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from html import escape
from typing import Any

#: Equal-width bins over [0, 1]: few enough that each holds a useful number of answers.
BINS = 5


@dataclass(frozen=True)
class Bin:
    """The answers whose confidence lies in ``[low, high)`` (the last bin includes 1)."""

    low: float
    high: float
    count: int
    confidence: float | None  # mean predicted confidence
    accuracy: float | None  # share right

    @property
    def gap(self) -> float | None:
        if self.confidence is None or self.accuracy is None:
            return None
        return abs(self.confidence - self.accuracy)


@dataclass(frozen=True)
class Reliability:
    """Reliability of a set of (confidence, right) pairs."""

    bins: list[Bin] = field(default_factory=list)
    count: int = 0
    ece: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "ece": self.ece,
            "bins": [asdict(b) for b in self.bins],
        }


def reliability(pairs: Iterable[tuple[float, bool]], bins: int = BINS) -> Reliability:
    """Bin ``(confidence, right)`` pairs and measure the gap between claim and outcome."""
    items = [(min(max(float(c), 0.0), 1.0), bool(r)) for c, r in pairs]
    groups: list[list[tuple[float, bool]]] = [[] for _ in range(bins)]
    for c, r in items:
        groups[min(int(c * bins), bins - 1)].append((c, r))
    out: list[Bin] = []
    ece = 0.0
    for i, group in enumerate(groups):
        low, high = round(i / bins, 4), round((i + 1) / bins, 4)
        if not group:
            out.append(Bin(low, high, 0, None, None))
            continue
        conf = sum(c for c, _ in group) / len(group)
        acc = sum(r for _, r in group) / len(group)
        ece += len(group) / len(items) * abs(conf - acc)
        out.append(Bin(low, high, len(group), round(conf, 4), round(acc, 4)))
    return Reliability(out, len(items), round(ece, 4) if items else None)


def to_markdown(rel: Reliability) -> str:
    """A table: each bin's count, mean confidence and observed accuracy."""
    if not rel.count:
        return "No answer carried a confidence.\n"
    lines = [
        f"{rel.count} answers with a confidence; expected calibration error (ECE) {rel.ece:.3f}.",
        "",
        "| confidence bin | answers | mean confidence | observed accuracy |",
        "| --- | ---: | ---: | ---: |",
    ]
    for b in rel.bins:
        conf = "" if b.confidence is None else f"{b.confidence:.3f}"
        acc = "" if b.accuracy is None else f"{b.accuracy:.3f}"
        lines.append(f"| {b.low:.1f}-{b.high:.1f} | {b.count} | {conf} | {acc} |")
    return "\n".join(lines) + "\n"


def to_svg(rel: Reliability, size: int = 240) -> str:
    """The reliability diagram as inline SVG: bars of observed accuracy, the diagonal, dots.

    A bar reaching the diagonal is a bin whose confidence was honest; a bar below it, one
    that claimed too much. The dot is the bin's mean confidence; the number at a bar's foot is
    how many answers it holds.
    """
    pad = 28
    inner = size - 2 * pad
    n = len(rel.bins) or BINS

    def x(v: float) -> float:
        return pad + v * inner

    def y(v: float) -> float:
        return size - pad - v * inner

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}" role="img" aria-label="reliability diagram">',
        f"<title>Reliability: predicted confidence vs observed accuracy (ECE "
        f"{'n/a' if rel.ece is None else f'{rel.ece:.3f}'})</title>",
        f'<rect x="{pad}" y="{pad}" width="{inner}" height="{inner}" fill="none" stroke="#999"/>',
        f'<line x1="{x(0)}" y1="{y(0)}" x2="{x(1)}" y2="{y(1)}" stroke="#999" '
        'stroke-dasharray="4 3"/>',
    ]
    width = inner / n
    for b in rel.bins:
        if b.accuracy is None or b.confidence is None:
            continue
        left = x(b.low) + 2
        parts.append(
            f'<rect x="{left:.1f}" y="{y(b.accuracy):.1f}" width="{width - 4:.1f}" '
            f'height="{y(0) - y(b.accuracy):.1f}" fill="#4c78a8" fill-opacity="0.7">'
            f"<title>{escape(f'{b.low:.1f}-{b.high:.1f}')}: {b.count} answers, "
            f"confidence {b.confidence:.2f}, accuracy {b.accuracy:.2f}</title></rect>"
        )
        parts.append(
            f'<circle cx="{x(b.confidence):.1f}" cy="{y(b.confidence):.1f}" r="3" fill="#e45756"/>'
        )
        parts.append(
            f'<text x="{left + (width - 4) / 2:.1f}" y="{y(0) - 4:.1f}" font-size="9" '
            f'text-anchor="middle" fill="#fff">{b.count}</text>'
        )
    parts.append(
        f'<text x="{size / 2}" y="{size - 6}" font-size="10" text-anchor="middle">'
        "predicted confidence</text>"
    )
    parts.append(
        f'<text x="10" y="{size / 2}" font-size="10" text-anchor="middle" '
        f'transform="rotate(-90 10 {size / 2})">observed accuracy</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


# -- in rag eval's reports -------------------------------------------------------------------
def answered_pairs(questions: Iterable[Any]) -> list[tuple[float, bool]]:
    """(confidence, right) of every evaluated answer that carries a confidence.

    ``questions`` are :class:`~rag.evaluation.results.QuestionResult`. An answer to an
    unanswerable question is wrong; one to an answerable question is right when its F1 with
    the reference passed (``passed["f1"]``). Abstentions state no confidence; answerable
    questions without a reference answer cannot be judged and are left out.
    """
    pairs: list[tuple[float, bool]] = []
    for q in questions:
        confidence = getattr(q, "confidence", None)
        if confidence is None or q.abstained or q.error:
            continue
        if not q.answerable:
            pairs.append((confidence, False))
        elif "f1" in q.passed:
            pairs.append((confidence, bool(q.passed["f1"])))
    return pairs


def report_reliability(questions: Iterable[Any]) -> Reliability:
    """The reliability of an evaluation's answers (see :func:`answered_pairs`)."""
    return reliability(answered_pairs(questions))


def markdown_section(questions: Iterable[Any]) -> list[str]:
    """The report's "Confidence" section as Markdown lines (none without a confidence)."""
    rel = report_reliability(questions)
    if not rel.count:
        return []
    return ["", "## Confidence: predicted vs observed accuracy", "", to_markdown(rel).rstrip()]


def html_section(questions: Iterable[Any]) -> str:
    """The same as HTML: the reliability diagram inline (SVG) beside its table."""
    rel = report_reliability(questions)
    if not rel.count:
        return ""
    rows = "".join(
        f"<tr><td>{b.low:.1f}-{b.high:.1f}</td><td class='n'>{b.count}</td>"
        f"<td class='n'>{'' if b.confidence is None else f'{b.confidence:.3f}'}</td>"
        f"<td class='n'>{'' if b.accuracy is None else f'{b.accuracy:.3f}'}</td></tr>"
        for b in rel.bins
    )
    return (
        "<h2>Confidence: predicted vs observed accuracy</h2>"
        f"<p>{rel.count} answers with a confidence; expected calibration error (ECE) "
        f"<b>{rel.ece:.3f}</b>. Bars: the share of each bin's answers that were right; "
        "dots: the confidence they were given; on the dashed diagonal the two agree.</p>"
        f'<div class="plots">{to_svg(rel)}<table><tr><th>confidence</th><th>answers</th>'
        f"<th>mean confidence</th><th>observed accuracy</th></tr>{rows}</table></div>"
    )
