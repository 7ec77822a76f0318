"""Result types returned by the public API.

They are frozen dataclasses: an :class:`Answer` is a record of what the system said and why,
and nothing downstream (UI, evaluation) should be able to edit it after the fact.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

ABSTAIN_TEXT = "The documents do not answer this question."


def _json_ready(data: Any) -> Any:
    """Tuples (a citation's boxes) as lists: what ``to_dict`` gives equals its JSON read back."""
    if isinstance(data, dict):
        return {key: _json_ready(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [_json_ready(value) for value in data]
    return data


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk, with where it sits in its document and how it was ranked."""

    chunk_id: str
    source: str
    text: str
    start: int
    end: int
    score: float
    title: str = ""
    heading: str = ""
    page: int | None = None
    #: where the passage starts in the original file: "page 3", "slide 2", "sheet S, row 9"
    location: str = ""
    dense_score: float | None = None
    bm25_score: float | None = None
    dense_rank: int | None = None
    bm25_rank: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data, as the CLI's ``--json`` and the history store write it."""
        return asdict(self)


@dataclass(frozen=True)
class Citation:
    """Evidence for a claim: ``quote == document_text[start:end]`` of ``source``.

    ``n`` is the number used by the ``[n]`` marker in :attr:`Answer.text`.
    """

    n: int
    source: str
    quote: str
    start: int
    end: int
    passage: str
    score: float
    title: str = ""
    page: int | None = None
    chunk_id: str = ""
    passage_start: int = 0
    #: where the quote is in the original file: "page 3", "slide 2", "sheet S, row 9", ...
    location: str = ""
    #: PDFs: the page the quote is marked on (where it starts; 1-based) and one rectangle per
    #: line of the quote, ``(left, bottom, right, top)`` in PDF points with the origin at the
    #: page's bottom left (its user space, before ``/Rotate``); None and empty for other files
    box_page: int | None = None
    boxes: tuple[tuple[float, float, float, float], ...] = ()

    def __post_init__(self) -> None:
        # JSON (history, API clients) gives lists: the same citation compares equal either way
        if not isinstance(self.boxes, tuple) or any(not isinstance(b, tuple) for b in self.boxes):
            boxes = tuple(tuple(float(v) for v in box) for box in self.boxes)
            object.__setattr__(self, "boxes", boxes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data, as the CLI's ``--json`` and the history store write it."""
        return _json_ready(asdict(self))


@dataclass(frozen=True)
class Answer:
    """What the system answers to one question.

    ``text`` carries ``[n]`` markers that refer to ``citations[n-1]``. When the documents do not
    hold the answer, ``abstained`` is true, ``text`` says so and ``citations`` is empty;
    ``passages`` still lists what was retrieved, so a UI can offer "related, but not an answer".
    """

    text: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    question: str = ""
    query: str = ""
    score: float = 0.0
    supported: bool = True
    answerer: str = "extractive"
    #: the answer's sentences that no retrieved passage supports (generative answers only)
    unsupported: list[str] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    #: P(the answer is right), calibrated on the reader's dev split from its margin
    #: (:mod:`rag.read.confidence`); None for an abstention, a generative answer, or a reader
    #: without a calibrated map
    confidence: float | None = None
    #: the same in words ("likely right", "uncertain", ...; :data:`rag.read.confidence.LABELS`)
    confidence_label: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data, as the CLI's ``--json`` and the history store write it."""
        return _json_ready(asdict(self))


@dataclass(frozen=True)
class DocumentInfo:
    """An indexed document, as listed for a user managing the corpus."""

    source: str
    title: str
    kind: str
    size: int
    chunks: int
    ingested: str
    metadata: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data, as the CLI's ``--json`` and the history store write it."""
        return asdict(self)


@dataclass(frozen=True)
class SkippedFile:
    """A corpus file that was not indexed, and the specific reason."""

    path: str
    reason: str


@dataclass(frozen=True)
class IngestSummary:
    """What one ingest run changed. ``written``/``deleted`` count chunks in the vector store."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    chunks: int = 0
    written: int = 0
    deleted: int = 0
    embedded: int = 0
    seconds: float = 0.0
    index_path: str = ""

    @property
    def changed(self) -> bool:
        """Whether the run added, updated or removed any document."""
        return bool(self.added or self.updated or self.removed)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data, with ``changed`` spelled out for readers of the JSON."""
        data = asdict(self)
        data["changed"] = self.changed
        return data
