"""``python -m rag`` is the ``rag`` command."""

from rag.cli.main import main

main()
