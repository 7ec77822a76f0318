"""The ``rag`` command line: a thin shell over the library.

Each command builds one :class:`~rag.Settings` from its flags (over ``RAG_*`` variables),
calls the library and prints. User errors (:class:`~rag.RagError`) print one line and exit 1;
usage errors exit 2 (click's convention); tracebacks are only for bugs.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError
from rich.markup import escape

from rag.cli.terminal import console, errors, print_answer, print_summary, progress_bars
from rag.errors import RagError
from rag.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


def settings_from(**overrides: Any) -> Settings:
    """Settings from the environment, with command-line flags (those given) on top.

    ``--collection`` is read from the click context, so every command takes it without
    each one passing it along. A bad value (an invalid collection name, say) is a usage error.
    """
    ctx = click.get_current_context(silent=True)
    collection = ctx.meta.get(_COLLECTION_KEY) if ctx is not None else None
    overrides = {"collection": collection, **overrides}
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        why = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        raise click.UsageError(why) from None


_COLLECTION_KEY = "rag.collection"


def _remember_collection(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.meta[_COLLECTION_KEY] = value


def corpus_options(func: F) -> F:
    func = click.option(
        "--collection",
        metavar="NAME",
        expose_value=False,
        callback=_remember_collection,
        help="Document set to use [env RAG_COLLECTION; default: ./corpus and ./index; "
        "another NAME: collections/NAME/corpus and collections/NAME/index].",
    )(func)
    func = click.option(
        "--index",
        "index_dir",
        type=click.Path(path_type=Path),
        help="Index folder [env RAG_INDEX_DIR; default ./index].",
    )(func)
    func = click.option(
        "--corpus",
        "corpus_dir",
        type=click.Path(path_type=Path),
        help="Corpus folder [env RAG_CORPUS_DIR; default ./corpus].",
    )(func)
    return func


def source_option(func: F) -> F:
    return click.option(
        "--source",
        "sources",
        multiple=True,
        metavar="PATTERN",
        help=(
            "Search only this document: a path relative to the corpus folder, a folder or a "
            "glob such as '*.pdf' (repeatable; default: every document; see `rag documents`)."
        ),
    )(func)


def chosen(sources: tuple[str, ...]) -> list[str] | None:
    """``--source`` values as ``QA.ask`` takes them: None (all documents) when not given."""
    return list(sources) if sources else None


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn expected failures into one readable line and a non-zero exit."""
    try:
        yield
    except RagError as exc:
        errors.print(f"[bold red]error:[/] {escape(str(exc))}")
        sys.exit(1)
    except KeyboardInterrupt:
        errors.print("interrupted")
        sys.exit(130)


@click.group()
@click.version_option(package_name="rag-citations")
@click.option("-v", "--verbose", count=True, help="Log progress (-v) or debug details (-vv).")
def main(verbose: int) -> None:
    """Offline question answering over your documents, with citations."""
    # The entry point, not the library, sets the process's environment: every model load
    # passes local_files_only=True anyway; this keeps the hub's progress bars off the terminal.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


@main.command("ingest")
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


@main.command("ask")
@click.argument("question")
@corpus_options
@click.option("--top-k", type=click.IntRange(1, 100), help="Passages to retrieve [env RAG_TOP_K].")
@source_option
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
def ask_command(
    question: str,
    corpus_dir: Path | None,
    index_dir: Path | None,
    top_k: int | None,
    sources: tuple[str, ...],
    as_json: bool,
) -> None:
    """Answer QUESTION from the indexed documents, with numbered sources."""
    from rag.qa import QA

    settings = settings_from(corpus_dir=corpus_dir, index_dir=index_dir, top_k=top_k)
    with user_errors(), QA(settings) as qa:
        answer = qa.ask(question, sources=chosen(sources))
    if as_json:
        click.echo(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
    else:
        print_answer(answer)


@main.command("chat")
@corpus_options
@source_option
@click.option("--resume", "resume", metavar="ID", help="Continue a saved conversation.")
def chat_command(
    corpus_dir: Path | None, index_dir: Path | None, sources: tuple[str, ...], resume: str | None
) -> None:
    """Ask questions in a loop (empty line or Ctrl-D to quit); the conversation is saved."""
    from rag.history import SafeHistory
    from rag.qa import QA

    settings = settings_from(corpus_dir=corpus_dir, index_dir=index_dir)
    with user_errors(), QA(settings) as qa:
        only = chosen(sources)
        if only is not None:  # a pattern that names nothing fails now, not at each question
            names = qa.resolve_sources(only)
            console.print(
                f"Searching only in {len(names)} document(s): " + escape(", ".join(names))
            )
        history = SafeHistory(_history_store(settings))
        conversation = history.get(resume, OWNER) if resume else None
        pairs = [(t.question, t.answer.text) for t in conversation.turns] if conversation else []
        if conversation:
            console.print(
                f"Continuing “{escape(conversation.title)}” ({len(pairs)} earlier turns)."
            )
        console.print("Ask a question about your documents (empty line to quit).")
        while True:
            try:
                question = console.input("[bold]? [/]")
            except EOFError:
                break
            if not question.strip():
                break
            try:
                answer = qa.ask(question, pairs, sources=only)
            except RagError as exc:
                errors.print(f"[bold red]error:[/] {escape(str(exc))}")
                continue
            print_answer(answer)
            pairs.append((question, answer.text))
            conversation = conversation or history.create(OWNER, question)
            history.add_turn(conversation.id, OWNER, question, answer)
            if history.notice:
                errors.print(f"[yellow]{escape(history.notice)}[/]")
        if conversation is not None and history.saved(conversation.id, OWNER):
            console.print(
                f"[dim]Saved as {conversation.id}: `rag chat --resume {conversation.id}`[/]"
            )
        history.close()


#: the terminal's conversations belong to no signed-in user (the web UI's are per user)
OWNER = ""


def _history_store(settings: Settings) -> Any:
    from rag.history import HistoryStore

    return HistoryStore(settings.history_file)


@main.group("history", invoke_without_command=True)
@click.option("--index", "index_dir", type=click.Path(path_type=Path), help="Index folder.")
@click.option(
    "--collection",
    metavar="NAME",
    expose_value=False,
    callback=_remember_collection,
    help="Document set whose conversations to list [env RAG_COLLECTION].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@click.pass_context
def history_command(ctx: click.Context, index_dir: Path | None, as_json: bool) -> None:
    """List saved conversations, newest first (`rag history export ID` writes one out)."""
    ctx.obj = settings_from(index_dir=index_dir)
    if ctx.invoked_subcommand is not None:
        return
    store = _history_store(ctx.obj)
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
    store = _history_store(settings)
    with user_errors():
        try:
            if fmt == "json":
                text = store.export_json(conversation_id, OWNER)
            else:
                text = store.export_markdown(conversation_id, OWNER)
        finally:
            store.close()
    click.echo(text)


@main.command("documents")
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


@main.command("collections")
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


@main.command("eval")
@click.argument("arguments", nargs=-1, metavar="[QUESTIONS]")
@corpus_options
@click.option("--top-k", type=click.IntRange(1, 100), help="Passages to retrieve [env RAG_TOP_K].")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("eval-report"),
    show_default=True,
    help="Folder for report.json, report.md and report.html.",
)
@click.option(
    "--baseline",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="An earlier report.json: print per-metric deltas and the questions that changed.",
)
@click.option(
    "--fail-under",
    multiple=True,
    metavar="METRIC=VALUE",
    help="Exit 3 when METRIC is below VALUE (repeatable), e.g. --fail-under f1=0.3.",
)
@click.option(
    "--calibrate",
    is_flag=True,
    help="Choose the abstention threshold from these questions and store it with the index.",
)
@click.option(
    "--grid",
    "grid_specs",
    multiple=True,
    metavar="NAME=V1,V2 | FILE.yaml",
    help="Compare configurations, e.g. --grid top_k=3,5,8 chunk_size=400,800.",
)
@click.option(
    "--rank-by", default="containment", show_default=True, help="Metric that orders --grid rows."
)
def eval_command(
    arguments: tuple[str, ...],
    corpus_dir: Path | None,
    index_dir: Path | None,
    top_k: int | None,
    out: Path,
    baseline: Path | None,
    fail_under: tuple[str, ...],
    calibrate: bool,
    grid_specs: tuple[str, ...],
    rank_by: str,
) -> None:
    """Score answers to QUESTIONS (JSONL or CSV; default: the shipped example questions).

    Writes report.json, report.md and report.html into --out and prints the metrics.
    """
    from rag import evaluation as ev
    from rag.evaluation import console as tables
    from rag.evaluation import report as rp

    questions, extra = ev.split_arguments(arguments, grid=bool(grid_specs))
    if len(questions) > 1:
        raise click.UsageError(f"give at most one QUESTIONS file, not {' '.join(questions)}")
    settings = settings_from(corpus_dir=corpus_dir, index_dir=index_dir, top_k=top_k)
    with user_errors():
        gates = ev.parse_gates(fail_under)
        source = Path(questions[0]) if questions else ev.default_questions_file()
        if grid_specs:
            grid = ev.parse_grid([*grid_specs, *extra])
            loaded = ev.load_questions(source)
            with progress_bars(enabled=True) as progress:
                result = ev.run_grid(loaded, settings, grid, rank_by=rank_by, progress=progress)
            console.print(tables.grid_table(result))
            out.mkdir(parents=True, exist_ok=True)
            (out / "grid.json").write_text(json.dumps(tables.grid_rows(result), indent=2))
            console.print(f"Wrote {out / 'grid.json'}")
            return
        previous = ev.load_report(baseline) if baseline else None
        with progress_bars(enabled=True) as progress:
            report = ev.evaluate(source, settings, calibrate_threshold=calibrate, progress=progress)
        comparison = ev.compare(report, previous, baseline_file=str(baseline)) if previous else None
        paths = rp.write_reports(report, out, comparison)
    for renderable in tables.console_tables(report, comparison):
        console.print(renderable)
    console.print("Reports: " + ", ".join(escape(str(p)) for p in paths.values()))
    failures = ev.check_gates(report, gates)
    for failure in failures:
        errors.print(f"[bold red]fail-under:[/] {escape(failure)}")
    if failures:
        sys.exit(3)


@main.command("mcp")
@corpus_options
def mcp_command(corpus_dir: Path | None, index_dir: Path | None) -> None:
    """Serve the MCP tools (ask, search, list_documents, read_document) over stdio.

    For desktop assistants that start their tool servers themselves: they write requests
    to its standard input and read replies from its output, so nothing else is printed there
    (logs go to standard error). The web server (`python app.py`) serves the same tools over
    HTTP at /mcp.
    """
    from rag.api.mcp import create_mcp
    from rag.api.service import Service
    from rag.qa import QA

    with user_errors(), QA(settings_from(corpus_dir=corpus_dir, index_dir=index_dir)) as qa:
        create_mcp(Service(qa)).run("stdio")


if __name__ == "__main__":  # pragma: no cover
    main()
