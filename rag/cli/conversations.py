"""``rag history``: the saved conversations (``rag chat``'s), listed and exported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from rag.cli.options import remember_collection, settings_from, user_errors
from rag.cli.terminal import console
from rag.settings import Settings

#: the terminal's conversations belong to no signed-in user (the web UI's are per user)
OWNER = ""


def history_store(settings: Settings) -> Any:
    """The collection's conversation store (opened here; the caller closes it)."""
    from rag.history import HistoryStore

    return HistoryStore(settings.history_file)


@click.group("history", invoke_without_command=True)
@click.option("--index", "index_dir", type=click.Path(path_type=Path), help="Index folder.")
@click.option(
    "--collection",
    metavar="NAME",
    expose_value=False,
    callback=remember_collection,
    help="Document set whose conversations to list [env RAG_COLLECTION].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@click.pass_context
def history_command(ctx: click.Context, index_dir: Path | None, as_json: bool) -> None:
    """List saved conversations, newest first (`rag history export ID` writes one out)."""
    ctx.obj = settings_from(index_dir=index_dir)
    if ctx.invoked_subcommand is not None:
        return
    store = history_store(ctx.obj)
    with user_errors():
        try:
            conversations = store.list(OWNER)
        finally:
            store.close()
    if as_json:
        rows = [
            {k: getattr(c, k) for k in ("id", "title", "created", "updated", "turn_count")}
            for c in conversations
        ]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not conversations:
        console.print("No saved conversations yet: `rag chat` starts one.")
    for c in conversations:
        console.print(
            f"{c.id}  {escape(c.updated[:16].replace('T', ' '))}  "
            f"[dim]({c.turn_count} turns)[/]  {escape(c.title)}"
        )


@history_command.command("export")
@click.argument("conversation_id", metavar="ID")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["markdown", "json"]),
    default="markdown",
    show_default=True,
)
@click.pass_obj
def history_export(settings: Settings, conversation_id: str, fmt: str) -> None:
    """Print one conversation as Markdown (sources as footnotes) or JSON."""
    store = history_store(settings)
    with user_errors():
        try:
            if fmt == "json":
                text = store.export_json(conversation_id, OWNER)
            else:
                text = store.export_markdown(conversation_id, OWNER)
        finally:
            store.close()
    click.echo(text)
