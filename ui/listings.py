"""The Documents tab's and the History panel's lists: their tables, plain text rows, Markdown.

Cells are plain text (Gradio's Dataframe escapes them); what becomes Markdown goes through
:func:`ui.present.markdown_literal`, so a file or conversation named ``<script>`` stays text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import gradio as gr

from rag.results import DocumentInfo, IngestSummary
from ui.present import Turn, markdown_literal


def table(headers: list[str], label: str, elem_id: str) -> gr.Dataframe:
    """A list's read-only table: Gradio escapes the plain-text cells, long ones wrap."""
    return gr.Dataframe(headers=headers, interactive=False, wrap=True, label=label, elem_id=elem_id)


def when(stamp: str) -> str:
    """A stored UTC timestamp (:mod:`rag.clock`) as "2026-01-31 14:05": minutes are enough."""
    return stamp[:16].replace("T", " ")


# -- documents tab ------------------------------------------------------------------------------
DOCUMENT_COLUMNS = ["document", "title", "type", "size", "chunks", "last ingested (UTC)"]


def document_rows(documents: Iterable[DocumentInfo]) -> list[list[Any]]:
    """Rows for the documents table (plain text cells, never rendered as HTML)."""
    return [
        [d.source, d.title, d.kind, _size(d.size), d.chunks, when(d.ingested)] for d in documents
    ]


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def ingest_report(summary: IngestSummary, *, rejected: Sequence[tuple[str, str]] = ()) -> str:
    """What an ingest did, as Markdown: counts, then every file that was not indexed and why."""
    lines = [
        f"**Index {'updated' if summary.changed else 'already up to date'}:** "
        f"{len(summary.added)} added, {len(summary.updated)} updated, "
        f"{len(summary.removed)} removed, {len(summary.unchanged)} unchanged; "
        f"{summary.chunks} chunks in {summary.seconds:.1f} s."
    ]
    problems = [*rejected, *((s.path, s.reason) for s in summary.skipped)]
    if problems:
        lines.append("")
        lines.append("**Not indexed:**")
        lines.extend(
            f"- {markdown_literal(name)}: {markdown_literal(why)}" for name, why in problems
        )
    return "\n".join(lines)


# -- conversation history ---------------------------------------------------------------------
HISTORY_COLUMNS = ["conversation", "last updated (UTC)", "turns"]


def restored_turns(stored: Iterable[Any]) -> list[Turn]:
    """Chat turns rebuilt from saved ones (anything with ``question`` and ``answer``).

    The stored :class:`Answer` is complete, so the reopened chat shows the same text, links
    and source cards as when it was asked.
    """
    return [Turn(question=t.question, answer=t.answer) for t in stored]


def history_rows(conversations: Iterable[Any]) -> list[list[Any]]:
    """Rows for the history table: title, last update, turn count (plain text cells)."""
    return [
        [c.title or "Untitled conversation", when(c.updated), c.turn_count] for c in conversations
    ]


def history_choices(conversations: Iterable[Any]) -> list[tuple[str, str]]:
    """``(label, id)`` pairs for the conversation picker, in the listing's order."""
    return [
        (
            f"{c.title or 'Untitled conversation'} · {when(c.updated)} · "
            f"{c.turn_count} turn{'s' if c.turn_count != 1 else ''}",
            c.id,
        )
        for c in conversations
    ]


def export_name(title: str, suffix: str) -> str:
    """A safe file name for an exported conversation: letters, digits and dashes only."""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-")[:60].strip("-").lower()
    return f"{stem or 'conversation'}{suffix}"
