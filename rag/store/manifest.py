"""What a generation's ``manifest.json`` holds: its files, their chunks, how they were made.

The manifest is the index's table of contents: every source file with its hashes, title,
metadata, page and location starts, and chunk records (id, offsets, heading, hash of the
embedded text), plus the embedding model and chunking settings that built it. An ingest
compares the corpus with it; a reader checks the vector store against it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from rag.errors import IndexMismatchError

#: the manifest's format; another one is refused with "rebuild"
FORMAT = 1


@dataclass(frozen=True)
class ChunkRecord:
    """Where a chunk sits: ``doc_text(source)[start:end]`` is its text."""

    id: str
    source: str
    start: int
    end: int
    heading: str
    hash: str  # of the text that was embedded, to reuse vectors across runs


@dataclass(frozen=True)
class FileEntry:
    """One indexed file as of its last ingest."""

    sha256: str
    size: int
    mtime_ns: int
    kind: str
    title: str
    doc: str  # key of docs/<doc>.txt
    ingested: str
    metadata: dict[str, str] = field(default_factory=dict)
    pages: list[tuple[int, int]] = field(default_factory=list)
    chunks: list[ChunkRecord] = field(default_factory=list)
    #: (start offset, label) where each location ("slide 2", "sheet S, row 9") starts
    locations: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Manifest:
    """Everything needed to read a generation and to decide what a re-ingest must redo."""

    embedding: dict[str, Any]
    chunking: dict[str, Any]
    vectors: dict[str, Any]
    files: dict[str, FileEntry]
    created: str = ""
    format: int = FORMAT

    @property
    def chunk_count(self) -> int:
        return sum(len(entry.chunks) for entry in self.files.values())

    def ordered_chunks(self) -> list[ChunkRecord]:
        """All chunks in keyword-index order (by source, then position)."""
        return [chunk for source in sorted(self.files) for chunk in self.files[source].chunks]

    def to_json(self) -> str:
        data = asdict(self)
        for entry in data["files"].values():
            entry["chunks"] = [
                [c["id"], c["start"], c["end"], c["heading"], c["hash"]] for c in entry["chunks"]
            ]
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise IndexMismatchError(
                f"the index has format {data.get('format')}, this version reads {FORMAT}: "
                "run `rag ingest --rebuild`"
            )
        files = {}
        for source, entry in data["files"].items():
            chunks = [ChunkRecord(c[0], source, c[1], c[2], c[3], c[4]) for c in entry["chunks"]]
            pages = [(int(a), int(b)) for a, b in entry.get("pages", [])]
            locations = [(int(a), str(b)) for a, b in entry.get("locations", [])]
            files[source] = FileEntry(
                **{**entry, "chunks": chunks, "pages": pages, "locations": locations}
            )
        return cls(
            embedding=data["embedding"],
            chunking=data["chunking"],
            vectors=data["vectors"],
            files=files,
            created=data.get("created", ""),
        )
