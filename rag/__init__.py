"""Offline, citation-first question answering over a folder of documents.

    >>> from rag import ask
    >>> answer = ask("When did the Taliban seize Kabul?")
    >>> answer.text, answer.citations[0].quote

``ask`` is one-shot; :class:`QA` keeps the model and index open for many questions. The names
are imported on first use, so ``import rag.text.words`` (or any one module) does not load the
pipeline, and neither does ``import rag`` until a name is used.
"""

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from rag import results


def _front_door(
    package: str, where: Mapping[str, Iterable[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """A package's public names, each imported from its module on first use (PEP 562).

    Every stage's ``__init__`` lists what it offers without importing it: importing one module
    of a stage (``rag.text.words``) then loads that module, not the stage, cold start stays fast,
    and no ``__init__`` can close an import circle between stages.

    Args:
        package: The package's ``__name__`` (it is being imported, so it is in ``sys.modules``).
        where: Its modules, relative to it, and the public names each one defines.

    Returns:
        The package's module-level ``__getattr__``, ``__dir__`` and ``__all__`` (the names of
        ``where``, so each name is written once), as in Scientific Python's SPEC 1.
    """
    homes = {name: f"{package}.{module}" for module, names in where.items() for name in names}
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        namespace[name] = value  # found once: later lookups do not come here
        return value

    def __dir__() -> list[str]:
        return sorted(namespace.keys() | homes.keys())

    return __getattr__, __dir__, sorted(homes)


# ``rag.types`` was the results' module before it was renamed (it shadowed the standard
# library's ``types``); programs that import ``from rag.types import Answer`` keep working.
sys.modules.setdefault("rag.types", results)


__getattr__, __dir__, __all__ = _front_door(
    __name__,
    {
        "errors": (
            "BackendError",
            "CorpusError",
            "IndexBusyError",
            "IndexDamagedError",
            "IndexMismatchError",
            "IndexMissingError",
            "QuestionError",
            "RagError",
            "SourceError",
        ),
        "evaluation": ("EvalReport", "evaluate"),
        "qa": ("QA", "ask"),
        "results": (
            "Answer",
            "Citation",
            "DocumentInfo",
            "IngestSummary",
            "Passage",
            "SkippedFile",
        ),
        "settings": ("Settings",),
    },
)
