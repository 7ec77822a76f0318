"""Which indexed documents a ``sources`` filter names: paths, folders or glob patterns.

Kept apart from retrieval: resolving is done once per question, against the manifest, and
retrieval only ever sees exact source paths.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path, PurePosixPath

from rag.errors import SourceError

_GLOB = frozenset("*?[")


def resolve_sources(
    known: Collection[str],
    patterns: str | Iterable[str],
    *,
    corpus_dir: Path | None = None,
) -> tuple[str, ...]:
    """The indexed documents that ``patterns`` name, sorted; every pattern must name one.

    A pattern is a document's path relative to the corpus folder (``policies/leave.pdf``),
    a folder (``policies`` or ``policies/``: everything under it) or an ``fnmatch`` glob
    (``*.pdf``, ``policies/*``, ``report-202?.docx``), matched case-sensitively like the
    paths themselves. As in ``fnmatch``, ``*`` also crosses folders, so ``*.pdf`` means every
    PDF. A single string is one pattern. With ``corpus_dir``, a path that points into the
    corpus folder from elsewhere (``corpus/a.txt`` typed in the project folder, or an
    absolute path, as shell completion gives them) is understood too. ``known`` is the
    indexed paths (the manifest's ``files`` mapping will do); an exact path is a lookup in
    it, so the common case costs nothing however large the index.

    Raises:
        SourceError: no patterns were given (an empty list is refused rather than read as
            "everything": a filter that came out empty should not silently widen to the
            whole corpus), a pattern is not text or is blank, or a pattern matches no
            indexed document (the message names it and suggests close names).
    """
    wanted = [patterns] if isinstance(patterns, str) else list(patterns)
    if not wanted:
        raise SourceError(
            "no sources given: name one or more documents or patterns (like '*.pdf'), "
            "or leave sources out to search every document"
        )
    listing: list[str] = []  # the names as a list, made only when a pattern needs a scan

    def names() -> list[str]:
        if not listing:
            listing.extend(known)
        return listing

    chosen: set[str] = set()
    unmatched: list[str] = []
    for raw in wanted:
        if not isinstance(raw, str):
            raise SourceError(f"sources must be document paths or patterns, got {raw!r}")
        pattern = _normal(raw)
        if not pattern:
            raise SourceError("a source pattern is empty: name a document or a pattern")
        hits = _matching(pattern, known, names)
        if not hits and corpus_dir is not None:
            inside = _inside(raw, corpus_dir)
            if inside:
                hits = _matching(inside, known, names)
        if hits:
            chosen.update(hits)
        else:
            unmatched.append(raw)
    if unmatched:
        raise SourceError(_unmatched_message(unmatched, sorted(names())))
    return tuple(sorted(chosen))


def _normal(pattern: str) -> str:
    pattern = pattern.strip().replace("\\", "/")
    while pattern.startswith("./"):
        pattern = pattern[2:]
    return pattern


def _matching(pattern: str, known: Collection[str], names: Callable[[], list[str]]) -> list[str]:
    """What one normalised pattern names: an exact path, a folder's documents, or a glob's.

    A path that is a document cannot also be a folder, so an exact hit ends the search; a
    pattern with ``*``, ``?`` or ``[`` is a glob (no folder is named like that).
    """
    if pattern in known:
        return [pattern]
    if _GLOB.intersection(pattern):
        match = re.compile(fnmatch.translate(pattern)).match  # fnmatchcase, compiled once
        return sorted(filter(match, names()))
    folder = pattern.rstrip("/") + "/"
    return [name for name in names() if name.startswith(folder)] if folder != "/" else []


def _inside(pattern: str, corpus_dir: Path) -> str:
    """``pattern`` relative to ``corpus_dir`` when it points inside it, else ``""``."""
    try:
        path = Path(pattern.strip()).expanduser().resolve()
        return PurePosixPath(path.relative_to(corpus_dir.expanduser().resolve())).as_posix()
    except (OSError, ValueError):
        return ""


def _unmatched_message(unmatched: Sequence[str], names: Sequence[str]) -> str:
    shown = ", ".join(repr(p) for p in unmatched)
    which = "matches" if len(unmatched) == 1 else "match"
    message = f"no indexed document {which} {shown}"
    close = difflib.get_close_matches(_normal(unmatched[0]), names, n=3, cutoff=0.6)
    if close:
        message += f" (did you mean {' or '.join(repr(c) for c in close)}?)"
    elif not names:
        message += " (the index holds no documents)"
    return (
        f"{message}: sources are paths relative to the corpus folder, folders, or patterns "
        "like '*.pdf'; `rag documents` lists the indexed documents"
    )
