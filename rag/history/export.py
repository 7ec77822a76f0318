"""Conversations as files: JSON (every field, read back exactly) and Markdown (for people).

Document text is escaped in the Markdown so a quoted file cannot inject links, images or HTML
into whatever renders the export.
"""

from __future__ import annotations

import json
import re
from dataclasses import fields
from typing import Any

from rag.history.records import SCHEMA_VERSION, Conversation, Turn
from rag.results import Answer, Citation, Passage
from rag.text.whitespace import one_line

_MARKER = re.compile(r"\[(\d{1,3})\]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>~])")


def answer_from_dict(data: dict[str, Any]) -> Answer:
    """Rebuild an :class:`Answer` from :meth:`Answer.to_dict` output, nested objects included.

    Unknown keys are dropped so history written by a newer version still opens.

    Raises:
        ValueError: ``data`` is not a stored answer.
    """
    try:
        values = _known(Answer, data)
        values["citations"] = [Citation(**_known(Citation, c)) for c in data.get("citations", [])]
        values["passages"] = [Passage(**_known(Passage, p)) for p in data.get("passages", [])]
        return Answer(**values)
    except (TypeError, AttributeError) as error:
        raise ValueError(f"not a stored answer: {error}") from error


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def conversation_json(conversation: Conversation) -> str:
    """The JSON export: metadata and each turn's full answer dict, nothing rounded or dropped."""
    data = {
        "format": "rag-conversation",
        "version": SCHEMA_VERSION,
        **{k: getattr(conversation, k) for k in ("id", "owner", "title", "created", "updated")},
        "turns": [
            {"question": t.question, "asked": t.asked, "answer": t.answer.to_dict()}
            for t in conversation.turns
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False)


def conversation_from_json(text: str) -> Conversation:
    """Read back :func:`conversation_json` output (a backup, or a test of the export)."""
    data = json.loads(text)
    turns = tuple(
        Turn(t["question"], answer_from_dict(t["answer"]), t["asked"]) for t in data["turns"]
    )
    meta = {k: data[k] for k in ("id", "owner", "title", "created", "updated")}
    return Conversation(**meta, turns=turns, turn_count=len(turns))


def conversation_markdown(conversation: Conversation) -> str:
    """The Markdown export: sources become footnotes numbered ``[^turn-n]``.

    Footnote labels carry the turn so two answers' ``[1]`` stay distinct in one document.
    Document text is escaped (links, images, HTML, emphasis) so a quoted file cannot inject
    markup into whatever renders the export.
    """
    out = [f"# {_literal(one_line(conversation.title) or 'Untitled conversation')}", ""]
    for number, turn in enumerate(conversation.turns, 1):
        answer = turn.answer
        cited = {c.n for c in answer.citations}

        def footref(match: re.Match[str], number: int = number, cited: set[int] = cited) -> str:
            n = int(match.group(1))
            return f"[^{number}-{n}]" if n in cited else match.group(0)

        pieces, last = [], 0
        for match in _MARKER.finditer(answer.text):
            pieces += [_literal(answer.text[last : match.start()]), footref(match)]
            last = match.end()
        pieces.append(_literal(answer.text[last:]))
        out += [f"## {_literal(one_line(turn.question))}", "", "".join(pieces), ""]
        if not answer.supported and answer.unsupported:
            claims = "; ".join(f'"{_literal(one_line(s))}"' for s in answer.unsupported)
            out += [f"_Not supported by the documents: {claims}_", ""]
        if answer.query and answer.query != answer.question:
            out += [f"_Searched for: {_literal(one_line(answer.query))}_", ""]
        for c in answer.citations:
            out.append(f'[^{number}-{c.n}]: {_source_line(c)}: "{_literal(one_line(c.quote))}"')
        if answer.citations:
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _source_line(c: Citation) -> str:
    name = f"{c.title} ({c.source})" if c.title and c.title != c.source else c.source
    place = c.location or (f"page {c.page}" if c.page is not None else "")
    parts = [_literal(name), _literal(place), f"characters {c.start:,}–{c.end:,}"]
    return ", ".join(p for p in parts if p)


def _literal(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)
