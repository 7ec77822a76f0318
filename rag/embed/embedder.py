"""Sentence embeddings from the packaged all-MiniLM-L6-v2, offline, through two runtimes.

:class:`Embedder` is what the rest of the system (and LangChain) calls; it decides which
runtime embeds a call and loads each one only when needed:

* **torch** (:mod:`rag.embed.torch_runtime`) for bulk encoding at ingest: the fastest per CPU-second
  for large batches here. Importing torch and transformers costs about 3 s once.
* **ONNX Runtime** (:mod:`rag.embed.onnx_runtime`) for questions: a one-off export of the same
  network and pooling, verified against torch before it is trusted. No torch import, so a cold
  ``ask()`` is fast.

Both compute what the model's ``modules.json`` prescribes (mean pooling of the last hidden
state, then L2 normalisation) on the same word-piece batches (:mod:`rag.text.wordpieces`); the
model folder, its identity and window come from :mod:`rag.embed.model_folder`. A folder with other
modules is run by sentence-transformers itself. The export is made at the end of an ingest
(the model is loaded then anyway) or the first time torch is loaded for a query; when it is
missing or cannot be written, everything uses torch.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.embeddings import Embeddings

from rag.embed import onnx_runtime, torch_runtime
from rag.embed.model_folder import ModelFolder
from rag.protocols import Progress
from rag.settings import DEFAULT_EMBEDDING_MODEL
from rag.text.wordpieces import WordPieces

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

#: Calls with at least this many texts go to torch (bulk); smaller ones to ONNX when ready.
BULK = 1024
#: Vectors of this many recent small-call texts (questions, answer sentences) are kept.
RECENT = 8192


class Embedder(Embeddings):
    """Normalised sentence embeddings (cosine similarity is a dot product).

    Nothing is loaded until it is needed: :meth:`count_tokens` needs only the tokenizer, and a
    question needs only the ONNX session. Thread-safe.

    Args:
        model: the packaged model's name or a local sentence-transformers folder.
        dtype: ``float32`` or ``bfloat16`` (torch only; bfloat16 pays off only on CPUs with
            AMX or AVX-512 BF16 and never uses the ONNX export).
        batch_size: texts per forward pass.
        cache_dir: where the ONNX export lives (default
            :func:`rag.embed.onnx_runtime.default_cache_dir`); ``None`` keeps the default, and
            ``onnx=False`` turns the export off entirely.
        onnx: use (and make) the ONNX export for small calls.
    """

    def __init__(
        self,
        model: str = DEFAULT_EMBEDDING_MODEL,
        *,
        dtype: str = "float32",
        batch_size: int = 64,
        cache_dir: Path | None = None,
        onnx: bool = True,
    ) -> None:
        self.folder = ModelFolder(model)
        self.name = model
        self.path = self.folder.path
        self.dtype = dtype
        self.batch_size = batch_size
        self.cache_dir = cache_dir if cache_dir is not None else onnx_runtime.default_cache_dir()
        self.pieces = WordPieces(self.path, self.folder.max_tokens)
        self._onnx_allowed = onnx and dtype == "float32" and self._native
        self._lock = threading.Lock()
        self._onnx_lock = threading.Lock()
        self._onnx_failed = False
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._recent_lock = threading.Lock()

    # -- identity and shape (from the folder, nothing loaded) ----------------------------------
    @property
    def model_id(self) -> str:
        """The identity recorded in the index; querying with another one is refused."""
        return self.folder.model_id

    @property
    def _native(self) -> bool:
        return self.folder.native

    @property
    def dimension(self) -> int:
        known = self.folder.dimension
        if known is not None:
            return known
        return int(self._sentence_transformer.get_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        """The model's window, special tokens included; longer inputs are truncated."""
        return self.folder.max_tokens

    @property
    def fingerprint(self) -> str:
        """Identifies the weights (names the ONNX export and the ingest's vector cache)."""
        return self.folder.fingerprint

    @property
    def onnx_path(self) -> Path:
        return onnx_runtime.export_path(self.cache_dir, self.fingerprint)

    # -- tokens ----------------------------------------------------------------------------------
    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word-piece counts without special tokens, as the model's window sees them."""
        return self.pieces.count(texts)

    def head(self, texts: Sequence[str], tokens: int) -> list[str]:
        """Each text cut to at most ``tokens`` word pieces (see :meth:`WordPieces.head`)."""
        return self.pieces.head(texts, tokens)

    # -- encoding --------------------------------------------------------------------------------
    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """Embed ``texts`` as float32 unit vectors.

        Small calls (a question and its candidate sentences) go through a cache of recent
        texts and, when the export is ready, ONNX Runtime; bulk calls (ingest) go to torch.
        """
        import numpy as np

        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        if not self._native:
            return self._encode_sentence_transformers(texts, out, progress)
        if len(texts) < BULK:  # a question: its text and its passages' sentences recur
            self._encode_recent(texts, out)
            if progress:
                progress("embedding", len(texts), len(texts))
            return out
        return self._encode_batches(texts, out, progress)

    def clear_recent(self) -> None:
        """Forget the recent-texts cache (benchmarks measure cold questions with it)."""
        with self._recent_lock:
            self._recent.clear()

    def _encode_recent(self, texts: Sequence[str], out: np.ndarray) -> np.ndarray:
        """Small calls through a cache of recent texts, so nothing is embedded twice.

        The retriever and the answerer both embed the question, and popular passages'
        sentences come back with every question about them.
        """
        import numpy as np

        with self._recent_lock:
            missing = []
            for i, text in enumerate(texts):
                vector = self._recent.get(text)
                if vector is None:
                    missing.append(i)
                else:
                    self._recent.move_to_end(text)
                    out[i] = vector
        if missing:
            unique = list(dict.fromkeys(texts[i] for i in missing))
            blank = np.zeros((len(unique), out.shape[1]), dtype=np.float32)
            vectors = self._encode_batches(unique, blank, None)
            fresh = dict(zip(unique, vectors, strict=True))
            for i in missing:
                out[i] = fresh[texts[i]]
            with self._recent_lock:
                self._recent.update(fresh)
                while len(self._recent) > RECENT:
                    self._recent.popitem(last=False)
        return out

    def _encode_batches(
        self, texts: Sequence[str], out: np.ndarray, progress: Progress | None
    ) -> np.ndarray:
        """Forward passes over word-piece batches of similar length, into ``out``."""
        run = self._runtime(len(texts))
        done = 0
        for rows, ids, mask in self.pieces.batches(texts, self.batch_size):
            out[rows] = run(ids, mask)
            done += len(rows)
            if progress:
                progress("embedding", done, len(texts))
        return out

    def _runtime(self, n: int) -> onnx_runtime.Run:
        """ONNX Runtime for a small call when the export is usable, torch otherwise."""
        if n < BULK and self._onnx_allowed and not self._onnx_failed:
            with self._onnx_lock:
                session = self._onnx_session
            if session is not None:
                return onnx_runtime.session_run(session)
        return self._torch_run

    def _torch_run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return torch_runtime.run(self._torch_model, ids, mask)

    def _encode_sentence_transformers(
        self, texts: Sequence[str], out: np.ndarray, progress: Progress | None
    ) -> np.ndarray:
        """A folder we do not reproduce, through ``SentenceTransformer.encode`` in windows."""
        import numpy as np

        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        step = max(self.batch_size * 4, 256)
        for first in range(0, len(order), step):
            idx = order[first : first + step]
            vectors = self._sentence_transformer.encode(
                [texts[i] for i in idx],
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            out[idx] = np.asarray(vectors, dtype=np.float32)
            if progress:
                progress("embedding", min(first + step, len(texts)), len(texts))
        return out

    # -- runtimes (loaded on first use) ---------------------------------------------------------
    @cached_property
    def _torch_model(self) -> Any:
        with self._lock:
            model = torch_runtime.load_model(self.path, self.dtype)
        log.info("loaded embedding model %s with torch (%s)", self.model_id, self.dtype)
        return model

    @cached_property
    def _sentence_transformer(self) -> Any:
        with self._lock:
            return torch_runtime.load_sentence_transformer(self.path, self.dtype)

    @cached_property
    def _onnx_session(self) -> Any:
        """The ONNX Runtime session, exporting the model first if needed (None if unusable)."""
        path = self.onnx_path
        if not path.is_file() and not self.export_onnx():
            return None
        session = onnx_runtime.open_session(path)
        if session is None:
            self._onnx_failed = True
            return None
        log.info("loaded embedding model %s with ONNX Runtime", self.model_id)
        return session

    def export_onnx(self) -> bool:
        """Export the network (pooling included) for ONNX Runtime and verify it; idempotent.

        Returns whether a verified export is in place. Costs a torch load and a few seconds,
        once per machine and model.
        """
        if not self._onnx_allowed:
            return False
        path = self.onnx_path
        if path.is_file():
            return True
        if not onnx_runtime.export_verified(self.path, path, self.pieces, self._torch_run):
            self._onnx_failed = True
            return False
        log.info("exported %s to %s", self.model_id, path)
        return True

    # -- LangChain Embeddings interface -----------------------------------------------------------
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()
