"""``rag ask`` (one question) and ``rag chat`` (a saved conversation in the terminal)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.markup import escape

from rag.cli.conversations import OWNER, history_store
from rag.cli.options import chosen, corpus_options, settings_from, source_option, user_errors
from rag.cli.terminal import console, errors, print_answer
from rag.errors import RagError


@click.command("ask")
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


@click.command("chat")
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
        history = SafeHistory(history_store(settings))
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
