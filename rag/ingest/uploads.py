"""Adding and removing corpus files on behalf of a user who cannot see the file system.

A web upload carries a file name chosen by the client; it must never decide where a file is
written. Names are reduced to one plain component inside the corpus folder, and a deletion is
refused unless the path stays inside the corpus folder. The ingest that follows waits for one
already running (:func:`when_free`).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TypeVar

from rag.convert.discovery import KINDS
from rag.errors import IndexBusyError, RagError

T = TypeVar("T")

#: What the upload form accepts: every format the loaders read.
UPLOAD_SUFFIXES = tuple(KINDS)
_UNSAFE = re.compile(r"[^\w.\- ()+,]+")
_MAX_NAME = 120
#: Seconds a user's ingest (after an upload or a deletion) waits for a running one to end.
WAIT_FOR_INGEST = 60.0


class UploadError(RagError):
    """An uploaded file cannot be added, or a document cannot be removed."""


def safe_filename(name: str) -> str:
    """A file name that can only mean one file directly inside the corpus folder.

    Drops any directory part (POSIX or Windows), control and reserved characters, leading
    dots (no ``..``, no hidden files) and over-long stems; keeps the suffix.

    Raises:
        UploadError: nothing usable is left, or the type is not one the form accepts.
    """
    name = unicodedata.normalize("NFKC", name or "")
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = PureWindowsPath(PurePosixPath(name).name).name
    name = _UNSAFE.sub("_", name).strip(" ._")
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem.strip(" ._"):
        raise UploadError("no usable file name: rename the file (e.g. notes.txt) and retry")
    suffix = "." + suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise UploadError(
            f"{suffix} files are not accepted; upload {', '.join(UPLOAD_SUFFIXES)} files"
        )
    stem = stem.strip(" ._")[: _MAX_NAME - len(suffix)]
    return stem + suffix


@dataclass(frozen=True)
class UploadResult:
    """Which uploads were stored (by corpus name) and which were refused, with the reason."""

    saved: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)


def add_uploads(files: Iterable[str | Path], corpus_dir: Path, *, max_mb: float) -> UploadResult:
    """Copy uploaded files into ``corpus_dir`` under safe names, atomically, one by one.

    A file that is too big or of the wrong type is refused on its own; the others are kept.
    A file with the name of an existing document replaces it (an updated version).
    """
    corpus_dir.mkdir(parents=True, exist_ok=True)
    saved: list[str] = []
    replaced: list[str] = []
    rejected: list[tuple[str, str]] = []
    limit = int(max_mb * 1024 * 1024)
    for item in files:
        src = Path(item)
        try:
            name = safe_filename(src.name)
            size = src.stat().st_size
            if size > limit:
                raise UploadError(f"{size / 1024 / 1024:.1f} MB is over the {max_mb:g} MB limit")
            if size == 0:
                raise UploadError("the file is empty")
            target = corpus_dir / name
            existed = target.exists()
            _copy_atomic(src, target)
        except (UploadError, OSError) as exc:
            rejected.append((src.name, str(exc) if isinstance(exc, UploadError) else "unreadable"))
            continue
        (replaced if existed else saved).append(name)
    return UploadResult(saved, replaced, rejected)


def _copy_atomic(src: Path, target: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-", suffix=".part")
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def corpus_path(corpus_dir: Path, source: str) -> Path:
    """The file behind an indexed ``source``, refusing anything outside ``corpus_dir``."""
    root = corpus_dir.resolve()
    path = (root / source).resolve()
    if not source or not path.is_relative_to(root) or path == root:
        raise UploadError(f"{source!r} is not a document in the corpus folder")
    return path


def remove_document(corpus_dir: Path, source: str) -> None:
    """Delete the corpus file of ``source`` (the next ingest drops it from the index)."""
    path = corpus_path(corpus_dir, source)
    try:
        path.unlink()
    except FileNotFoundError:
        pass  # already gone: the ingest that follows removes it from the index
    except OSError as exc:
        raise UploadError(f"cannot delete {source}: {exc.strerror or exc}") from exc


def when_free(run: Callable[[], T], wait: float = WAIT_FOR_INGEST) -> T:
    """``run()`` (an ingest), retried while another ingest holds the index, for ``wait`` s.

    An ingest fails fast when the index is busy, which is right for ``rag ingest`` (its user
    can run it again) but not for a user who has just uploaded files: a new collection's
    first catch-up ingest, or the watcher's, can hold the index at that moment, and the
    upload would be reported busy with its files left unindexed.

    Raises:
        IndexBusyError: the index was still busy after ``wait`` seconds.
    """
    deadline = time.monotonic() + wait
    while True:
        try:
            return run()
        except IndexBusyError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.2)
