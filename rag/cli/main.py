"""The ``rag`` command line: a thin shell over the library, one module per command group.

:mod:`rag.cli.corpus` (ingest, documents, collections), :mod:`rag.cli.asking` (ask, chat),
:mod:`rag.cli.conversations` (history), :mod:`rag.cli.evaluate` (eval),
:mod:`rag.cli.serving` (mcp), :mod:`rag.cli.watching` (watch). What they share (settings from
flags, the corpus options, user errors) is :mod:`rag.cli.options`, and what they print
:mod:`rag.cli.terminal`.
"""

from __future__ import annotations

import logging
import os

import click

from rag.cli import asking, conversations, corpus, evaluate, serving, watching


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


for _command in (
    corpus.ingest_command,
    corpus.documents_command,
    corpus.collections_command,
    asking.ask_command,
    asking.chat_command,
    conversations.history_command,
    evaluate.eval_command,
    serving.mcp_command,
    watching.watch_command,
):
    main.add_command(_command)


if __name__ == "__main__":  # pragma: no cover
    main()
