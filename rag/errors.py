"""Errors a user can act on.

Every error the library raises on bad input or a bad state derives from :class:`RagError` and
carries a message that says what to do. The CLI and the UI print ``str(error)`` and nothing
else, so messages must stand on their own.
"""

from __future__ import annotations


class RagError(Exception):
    """Base class: an expected failure with a message meant for the user."""


class QuestionError(RagError, ValueError):
    """The question is empty, too long or otherwise unusable."""


class CorpusError(RagError):
    """The corpus folder is missing or holds nothing that can be indexed."""


class IndexMissingError(RagError):
    """No index has been built yet."""


class IndexMismatchError(RagError):
    """The index was built with another embedding model or format."""


class IndexBusyError(RagError):
    """Another process is writing the index."""


class IndexDamagedError(RagError):
    """The index files are unreadable or inconsistent."""


class BackendError(RagError):
    """A configured LLM or vector server cannot be used."""


class SkipFile(Exception):
    """Raised by a loader when a file cannot be indexed; the message is the reason.

    Not a :class:`RagError`: it never reaches a user as an error, it becomes one line of the
    ingest summary while the rest of the corpus is indexed.
    """


class SourceError(RagError, ValueError):
    """A ``sources`` filter names no indexed document (or is empty)."""
