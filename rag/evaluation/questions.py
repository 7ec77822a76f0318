"""Test questions for the evaluation harness, read from JSONL or CSV.

One question per line (JSONL) or row (CSV) with the columns ``question``, ``answer`` (null or
empty when the corpus cannot answer it), ``aliases`` (other correct answers), ``source`` (the
document that holds the answer), ``support`` (a quote of the passage that holds it), ``id`` and
``tags``. Only ``question`` is required. ``source`` and ``support`` may be lists when several
passages are expected; in CSV, list cells are JSON arrays or ``|``-separated text. Other
columns (users' files carry their own: a category, a difficulty, a note) are kept per question
in ``extra`` and reported once as ignored by the scoring.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import RagError

log = logging.getLogger(__name__)

COLUMNS = ("id", "question", "answer", "aliases", "source", "support", "tags")


class QuestionFileError(RagError):
    """The questions file is missing, unreadable, or a row is malformed."""


@dataclass(frozen=True)
class Question:
    """One test question and what a correct system should answer and cite."""

    id: str
    question: str
    answer: str | None = None
    aliases: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    supports: tuple[str, ...] = ()
    tags: tuple[str, ...] = field(default_factory=tuple)
    extra: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def answerable(self) -> bool:
        return bool(self.answer and self.answer.strip())

    @property
    def references(self) -> list[str]:
        """The answer and its aliases (empty for an unanswerable question)."""
        return [self.answer, *self.aliases] if self.answerable else []  # type: ignore[list-item]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "question": self.question,
            "answer": self.answer,
            "aliases": list(self.aliases),
            "source": list(self.sources),
            "support": list(self.supports),
            "tags": list(self.tags),
            **({"extra": dict(self.extra)} if self.extra else {}),
        }

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any], *, default_id: str = "") -> Question:
        """Build from a dict with the file's columns; raises ``ValueError`` on bad values."""
        text = row.get("question")
        if not isinstance(text, str) or not text.strip():
            raise ValueError("'question' is missing or empty")
        answer = row.get("answer")
        if answer is not None and not isinstance(answer, str):
            answer = str(answer)
        return cls(
            id=str(row.get("id") or default_id),
            question=text.strip(),
            answer=answer.strip() if answer and answer.strip() else None,
            aliases=_strings(row.get("aliases"), "aliases"),
            sources=_strings(row.get("source"), "source"),
            supports=_strings(row.get("support"), "support"),
            tags=_strings(row.get("tags"), "tags"),
            extra={k: v for k, v in row.items() if k not in COLUMNS},
        )


def _strings(value: Any, name: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Iterable) and not isinstance(value, Mapping):
        items = list(value)
        if all(isinstance(v, str | int | float) for v in items):
            return tuple(str(v) for v in items if str(v).strip())
    raise ValueError(f"'{name}' must be text or a list of text, not {type(value).__name__}")


def load_questions(path: Path) -> list[Question]:
    """Read a ``.jsonl`` (or ``.json`` list) or ``.csv`` questions file.

    Raises:
        QuestionFileError: the file is missing, empty, not JSONL/CSV, or a row is malformed
            (the message names the line), or two rows share an id.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise QuestionFileError(f"questions file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionFileError(f"cannot read questions file {path}: {exc}") from exc
    if path.suffix.lower() == ".csv":
        rows = _csv_rows(text, path)
    elif path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        rows = _json_rows(text, path)
    else:
        raise QuestionFileError(
            f"questions file {path} must end in .jsonl or .csv (one question per line or row)"
        )
    questions: list[Question] = []
    seen: set[str] = set()
    for line, row in rows:
        try:
            q = Question.from_mapping(row, default_id=f"q{len(questions) + 1}")
        except ValueError as exc:
            raise QuestionFileError(f"{path}, line {line}: {exc}") from None
        if q.id in seen:
            raise QuestionFileError(f"{path}, line {line}: id {q.id!r} is used twice")
        seen.add(q.id)
        questions.append(q)
    if not questions:
        raise QuestionFileError(f"questions file {path} holds no questions")
    ignored = sorted({k for q in questions for k in q.extra})
    if ignored:
        log.warning(
            "%s: column(s) %s are not scored; kept per question in the report",
            path,
            ", ".join(ignored),
        )
    return questions


def _json_rows(text: str, path: Path) -> list[tuple[int, dict[str, Any]]]:
    stripped = text.lstrip()
    if stripped.startswith("["):  # a JSON array of rows is accepted too
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise QuestionFileError(f"{path} is not valid JSON: {exc}") from None
        return [(i, _row(item, path, i)) for i, item in enumerate(data, 1)]
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise QuestionFileError(f"{path}, line {number}: not a JSON object ({exc})") from None
        rows.append((number, _row(item, path, number)))
    return rows


def _row(item: Any, path: Path, number: int) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise QuestionFileError(f"{path}, line {number}: expected a JSON object")
    return item


def _csv_rows(text: str, path: Path) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "question" not in reader.fieldnames:
        raise QuestionFileError(f"{path}: the CSV header must name a 'question' column")
    rows = []
    for number, record in enumerate(reader, 2):
        row: dict[str, Any] = {}
        for key, value in record.items():
            if key is None:
                raise QuestionFileError(f"{path}, line {number}: more cells than columns")
            value = (value or "").strip()
            if key in ("aliases", "source", "support", "tags"):
                row[key] = _csv_list(value)
            else:
                row[key] = value or None
        rows.append((number, row))
    return rows


def _csv_list(cell: str) -> list[str]:
    if cell.startswith("["):
        try:
            value = json.loads(cell)
        except ValueError:
            value = None
        if isinstance(value, list):
            return [str(v) for v in value]
    return [part.strip() for part in cell.split("|") if part.strip()]
