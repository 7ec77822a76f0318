"""``rag mcp``: the library's tools served to a desktop assistant over stdio.

The web server (``python app.py``) serves the same tools over HTTP; this command is for clients
that start their tool servers themselves.
"""

from __future__ import annotations

from pathlib import Path

import click

from rag.cli.options import corpus_options, settings_from, user_errors


@click.command("mcp")
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
