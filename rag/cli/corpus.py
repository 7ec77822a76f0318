"""``rag ingest``, ``rag documents``, ``rag collections``: build the index and see what it holds."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.markup import escape

from rag.cli.options import corpus_options, settings_from, user_errors
from rag.cli.terminal import console, print_summary, progress_bars


@click.command("ingest")
@corpus_options
@click.option("--rebuild", is_flag=True, help="Ignore the existing index and rebuild it.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def ingest_command(
    corpus_dir: Path | None, index_dir: Path | None, rebuild: bool, as_json: bool
) -> None:
    """Index the corpus folder (incremental: only changed files are redone)."""
    from rag.qa import QA

    with user_errors():
        qa = QA(settings_from(corpus_dir=corpus_dir, index_dir=index_dir))
        with progress_bars(enabled=not as_json) as progress:
            summary = qa.ingest(rebuild=rebuild, progress=progress)
        qa.close()
    if as_json:
        click.echo(json.dumps(summary.to_dict(), indent=2))
    else:
        print_summary(summary)


@click.command("documents")
@corpus_options
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def documents_command(corpus_dir: Path | None, index_dir: Path | None, as_json: bool) -> None:
    """List the indexed documents: the names --source takes."""
    from rag.qa import QA

    with user_errors(), QA(settings_from(corpus_dir=corpus_dir, index_dir=index_dir)) as qa:
        documents = qa.documents()
    if as_json:
        click.echo(json.dumps([d.to_dict() for d in documents], indent=2, ensure_ascii=False))
        return
    for d in documents:
        title = f"  {d.title}" if d.title and d.title != d.source else ""
        console.print(f"{escape(d.source)}  [dim]({d.chunks} chunks){escape(title)}[/]")


@click.command("collections")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def collections_command(as_json: bool) -> None:
    """List the collections on disk: the names --collection takes."""
    from rag.catalog import collection_names

    settings = settings_from()
    rows = []
    for name in collection_names(settings):
        s = settings.for_collection(name)
        indexed = (s.index_dir / "CURRENT").is_file()
        rows.append({"name": name, "corpus_dir": str(s.corpus_dir), "indexed": indexed})
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for row in rows:
        state = "" if row["indexed"] else "  [dim](not indexed yet)[/]"
        console.print(f"{escape(row['name'])}  [dim]{escape(row['corpus_dir'])}[/]{state}")
