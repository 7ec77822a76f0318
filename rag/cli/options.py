"""What every ``rag`` command shares: settings from flags, the corpus options, user errors.

Each command builds one :class:`~rag.Settings` from its flags (over ``RAG_*`` variables).
User errors (:class:`~rag.RagError`) print one line and exit 1; usage errors exit 2 (click's
convention); tracebacks are only for bugs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError
from rich.markup import escape

from rag.cli.terminal import errors
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


def remember_collection(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    """``--collection``'s callback: kept for :func:`settings_from`, not passed to the command."""
    if value is not None:
        ctx.meta[_COLLECTION_KEY] = value


def corpus_options(func: F) -> F:
    """``--corpus``, ``--index`` and ``--collection``: where a command's documents are."""
    func = click.option(
        "--collection",
        metavar="NAME",
        expose_value=False,
        callback=remember_collection,
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
    """``--source``: limit a question to some documents (repeatable)."""
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
