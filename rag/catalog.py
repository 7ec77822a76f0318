"""The collections one process serves: a :class:`~rag.QA` per collection, models loaded once.

A server (the web UI) lets each chat pick its collection. Every collection has its own corpus
folder, index and history file (see :meth:`Settings.for_collection`), but the embedding model
and the span reader are the same objects for all of them: a second collection costs an open
index, not another 100 MB of models. Collections are found on disk (a folder under
``settings.collections_dir`` holding ``corpus/`` or ``index/``), so a collection made by
``rag ingest --collection NAME`` shows up without a restart.
"""

from __future__ import annotations

import logging
import threading

from pydantic import ValidationError

from rag.errors import RagError
from rag.qa import QA
from rag.settings import Settings, collection_folders

log = logging.getLogger(__name__)

DEFAULT = "default"


class CollectionError(RagError):
    """A collection that does not exist, or a name that cannot be one."""


class Catalog:
    """The named document sets next to the one the process started with.

    Args:
        qa: the started collection's ``QA``; its settings are the template for the others
            and its models are shared with them.
    """

    def __init__(self, qa: QA) -> None:
        self.base = qa
        self._qas: dict[str, QA] = {qa.settings.collection: qa}
        self._lock = threading.Lock()

    @property
    def settings(self) -> Settings:
        return self.base.settings

    def names(self) -> list[str]:
        """Every collection on disk: the started one first, then the default, then A-Z."""
        return collection_names(self.settings)

    def get(self, name: str | None) -> QA:
        """The ``QA`` of an existing collection (``None`` or ``""``: the started one).

        Raises:
            CollectionError: no collection of that name exists (the known ones are named).
        """
        if not name:
            return self.base
        with self._lock:
            if name in self._qas:
                return self._qas[name]
        known = self.names()
        if name not in known:
            raise CollectionError(
                f"no collection named {name[:40]!r} (collections: {', '.join(known)})"
            )
        return self._open(name)

    def create(self, name: str) -> QA:
        """Make a new, empty collection (its corpus folder) and return its ``QA``.

        Raises:
            CollectionError: the name is invalid or already taken.
        """
        settings = self._settings(name)
        if name in self.names():
            raise CollectionError(f"a collection named {name!r} already exists")
        try:
            settings.corpus_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CollectionError(
                f"cannot create {settings.corpus_dir}: {exc.strerror or exc}"
            ) from None
        log.info("created collection %s in %s", name, settings.corpus_dir.parent)
        return self._open(name)

    def _settings(self, name: str) -> Settings:
        try:
            return self.settings.for_collection(name)
        except ValidationError as exc:
            reason = exc.errors()[0].get("msg", "invalid").removeprefix("Value error, ")
            raise CollectionError(reason) from None

    def _open(self, name: str) -> QA:
        with self._lock:
            if name not in self._qas:
                base = self.base
                self._qas[name] = QA(
                    self._settings(name),
                    embedder=base.embedder,
                    reader_model=base.reader_model,
                )
            return self._qas[name]

    def close(self) -> None:
        """Close every collection's index (the started one included)."""
        with self._lock:
            for qa in self._qas.values():
                qa.close()


def collection_names(settings: Settings) -> list[str]:
    """The collections on disk beside ``settings``: its own first, then the default, then A-Z.

    A collection exists when its folder under ``settings.collections_dir`` holds ``corpus/``
    or ``index/``; the default when its folders exist (or it is the one ``settings`` names).
    """
    s = settings
    found: set[str] = set()
    default = s.for_collection(DEFAULT)
    if s.collection == DEFAULT or default.corpus_dir.is_dir() or default.index_dir.is_dir():
        found.add(DEFAULT)
    try:
        children = list(s.collections_dir.iterdir())
    except OSError:  # no collections folder yet: only the default (and the started one)
        children = []
    for child in children:
        if any(f.is_dir() for f in collection_folders(s.collections_dir, child.name).values()):
            try:
                found.add(s.for_collection(child.name).collection)
            except ValidationError:  # a folder whose name cannot be a collection
                log.debug("ignoring %s: not a collection name", child)
    rest = sorted(found - {s.collection, DEFAULT}, key=str.lower)
    head = [s.collection] + ([DEFAULT] if s.collection != DEFAULT and DEFAULT in found else [])
    return head + rest
