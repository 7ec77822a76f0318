"""The ``rag`` command line: a thin shell over the library, and what it shows in a terminal."""
