"""What the CLI shows in a terminal: answers with their sources, ingest summaries, progress.

Output goes through rich (escaped: a document's text is never read as markup); progress bars
go to stderr so that ``--json`` output on stdout stays clean.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape

from rag.protocols import Progress
from rag.results import Answer, IngestSummary

console = Console()
errors = Console(stderr=True)


def print_answer(answer: Answer) -> None:
    """Human output: the answer, then each numbered source with its quote."""
    console.print(escape(answer.text), style="bold" if not answer.abstained else "yellow")
    if answer.abstained:
        if answer.passages:
            console.print("\nClosest passages (related, but not an answer):", style="dim")
            for p in answer.passages[:3]:
                console.print(f"  - {escape(p.source)} [{p.start}:{p.end}]", style="dim")
        return
    if not answer.supported:
        console.print(
            "(not supported by the documents: no passage says this; check the sources)",
            style="yellow",
        )
    if answer.confidence is not None:
        console.print(
            f"confidence: {escape(answer.confidence_label)} ({answer.confidence:.0%})", style="dim"
        )
    console.print()
    for c in answer.citations:
        place = c.location or (f"page {c.page}" if c.page else "")
        where = c.source + (f", {place}" if place else "") + f" [{c.start}:{c.end}]"
        console.print(f"[bold cyan][{c.n}][/] {escape(where)}")
        console.print(f"    \u201c{escape(c.quote)}\u201d", style="italic")


def print_summary(summary: IngestSummary) -> None:
    state = "updated" if summary.changed else "already up to date"
    console.print(
        f"Index {state}: {len(summary.added)} added, {len(summary.updated)} updated, "
        f"{len(summary.removed)} removed, {len(summary.unchanged)} unchanged, "
        f"{len(summary.skipped)} skipped; {summary.chunks} chunks "
        f"({summary.written} written, {summary.deleted} deleted, {summary.embedded} embedded) "
        f"in {summary.seconds:.1f} s"
    )
    for skipped in summary.skipped:
        console.print(f"  skipped {escape(skipped.path)}: {escape(skipped.reason)}", style="yellow")


@contextmanager
def progress_bars(enabled: bool) -> Iterator[Progress | None]:
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    tasks: dict[str, Any] = {}
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
    ) as bar:

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage.capitalize(), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update
