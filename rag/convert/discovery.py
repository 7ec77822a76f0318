"""Which files in a corpus folder are documents, of what kind, and their bytes.

Discovery decides what an ingest even looks at, so its rules are the corpus's safety rules: no
symlink out of the folder, no hidden files, a size limit checked before a file is read, and
every file left out reported with a reason (a :class:`~rag.results.SkippedFile`).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from rag.errors import SkipFile
from rag.results import SkippedFile

#: The kind of document each file suffix is read as; a suffix not here is not a document.
KINDS = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".rst": "rst",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
    ".pptx": "pptx",
    ".xlsx": "xlsx",
    ".csv": "csv",
    ".tsv": "csv",
    ".epub": "epub",
    ".odt": "odt",
}
#: kinds parsed from markup into plain text: their text has no markup headings left
PARSED_MARKUP = frozenset({"rst", "markdown"})
#: kinds whose text is a table: cleaning keeps every row (no chrome or header detection)
TABULAR = frozenset({"csv", "xlsx"})


def discover(corpus_dir: Path) -> tuple[list[Path], list[SkippedFile]]:
    """List indexable files under ``corpus_dir``, recursively, in a stable order.

    Symlinks that lead outside the corpus are not followed (a corpus must not be able to pull
    in ``/etc``), hidden files are ignored, and other extensions are reported as skipped.
    """
    root = corpus_dir.resolve()
    files: list[Path] = []
    skipped: list[SkippedFile] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(root):
                    skipped.append(SkippedFile(rel, "symlink to outside the corpus, not followed"))
                    continue
            if path.suffix.lower() not in KINDS:
                skipped.append(SkippedFile(rel, f"unsupported file type '{path.suffix or name}'"))
                continue
            files.append(path)
    return files, skipped


def file_digest(path: Path, max_bytes: int) -> tuple[bytes, str]:
    """Read a file (bounded) and return its bytes and SHA-256."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SkipFile(f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit")
        data = path.read_bytes()
    except FileNotFoundError:
        raise SkipFile("file disappeared while the corpus was being read") from None
    except IsADirectoryError:
        raise SkipFile("not a regular file") from None
    except PermissionError:
        raise SkipFile("permission denied") from None
    return data, hashlib.sha256(data).hexdigest()
