"""The ``rag`` command line: a thin shell over the library, and what it shows in a terminal.

One module per command group (ask and chat, history, ingest and documents, eval, mcp, watch),
wired in :mod:`rag.cli.main`, whose ``main`` is the ``rag`` script's entry point. Nothing else
imports from the command line, so it offers no names here (``rag.cli.main`` is reached through
its module, whose name it shares).
"""

__all__: list[str] = []
