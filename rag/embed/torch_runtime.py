"""The torch runtime: the network on word-piece batches, pooled as the model folder says.

For a native folder (Transformer, mean pooling, Normalize; see
:attr:`rag.embed.model_folder.ModelFolder.native`) the forward pass is
``transformers.AutoModel`` and the pooling is :func:`mean_normalise`, the ten lines of
sentence-transformers' Pooling and Normalize modules that apply. The same function is traced into
the ONNX export, so the two
runtimes share one definition of a sentence vector. Other folders are run by
sentence-transformers itself (:func:`load_sentence_transformer`).

Why ingest does not call ``SentenceTransformer.encode`` for native folders: measured with
sentence-transformers 6.2.0 and torch 2.13 (CPU) on ingest chunks of the PEPs in
``../shared/corpora`` (default settings, 67 word pieces on average), both paths in one
process, interleaved, on 2 cores shared with other work:

* The vectors are the same: on 500 chunks the largest absolute difference is 1.0e-07 and
  the smallest cosine 0.9999998.
* ``encode`` is slower. In three runs of 500 chunks it cost 7%, 14% and 17% more CPU per
  chunk (49.7 against 53.1 ms and 53.8 against 61.6 ms with 2 threads, 37.4 against 43.7 ms
  with one), and its throughput was 0.93 and 0.76 of ours (18.4 against 19.8 and 11.2
  against 14.8 chunks/s). The cause is padding: it cuts batches from texts sorted by
  characters and runs 44,168 tokens for these chunks, against 36,594 for batches grouped by
  word pieces (34,398 real ones; see :meth:`rag.text.wordpieces.WordPieces.batches`). Importing
  it also takes 11 s against 5 s for torch and transformers on the loaded machine.
* The query path needs the word-piece batches anyway (the ONNX export takes ids and a
  mask), so ``encode`` at ingest would not remove them, only add a second way to batch.
* With ``RAG_EMBEDDING_DTYPE=bfloat16`` it returns bfloat16 vectors where
  :func:`mean_normalise` keeps the float32 pooled one: on 200 chunks the two differ by up
  to 1.6e-03 (smallest cosine 0.998). That is the size of bfloat16's own noise (a text's
  vector moves by 1.2e-03 between batches here), not an error, but switching would still
  change the vectors of bfloat16 caches under an unchanged fingerprint.

``python -m bench.st_encode --chunks 500 --rounds 6`` repeats the comparison (300 chunks and
4 rounds at this commit: 48.6 against 52.6 CPU ms per chunk, 22,267 against 24,888 padded
tokens, max abs diff 1.2e-07).

``tests/embed/test_embeddings.py`` holds this runtime (and the export) to sentence-transformers'
vectors within 1e-5.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)


def load_model(path: Path, dtype: str, *, eager: bool = False) -> Any:
    """``transformers.AutoModel`` from the local folder, in eval mode (never a hub lookup).

    Args:
        path: the model folder.
        dtype: ``float32`` or ``bfloat16``.
        eager: plain attention instead of SDPA; it traces into plain ONNX ops, and its
            vectors equal SDPA's.
    """
    import torch
    from transformers import AutoModel

    kwargs: dict[str, Any] = {"attn_implementation": "eager"} if eager else {}
    model = AutoModel.from_pretrained(
        str(path),
        local_files_only=True,
        dtype=torch.bfloat16 if dtype == "bfloat16" else torch.float32,
        **kwargs,
    )
    return model.eval()


def run(model: Any, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Float32 unit vectors of one padded batch (``int64`` ids and attention mask)."""
    import torch

    with torch.inference_mode():
        ids_t, mask_t = torch.from_numpy(ids), torch.from_numpy(mask)
        hidden = model(
            input_ids=ids_t, attention_mask=mask_t, token_type_ids=torch.zeros_like(ids_t)
        ).last_hidden_state
        return mean_normalise(hidden, mask_t).numpy()


def mean_normalise(hidden: Any, mask: Any) -> Any:
    """Sentence-transformers' mean pooling and Normalize modules, in float32 whatever the dtype.

    Padding is masked out of the mean, so a text's vector does not depend on its batch.
    """
    import torch

    hidden = hidden.float()
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    summed = (hidden * weights).sum(dim=1)
    pooled = summed / weights.sum(dim=1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, p=2, dim=1)


def pooled_module(model: Any) -> Any:
    """``model`` with :func:`mean_normalise` on top, as one module (what the export traces)."""
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
            return mean_normalise(hidden, attention_mask)

    return Pooled()


def load_sentence_transformer(path: Path, dtype: str) -> Any:
    """sentence-transformers' own model, for folders whose modules we do not reproduce."""
    import torch
    from sentence_transformers import SentenceTransformer

    kwargs: dict[str, Any] = {}
    if dtype == "bfloat16":
        kwargs["model_kwargs"] = {"dtype": torch.bfloat16}
    model = SentenceTransformer(str(path), device="cpu", local_files_only=True, **kwargs)
    return model.eval()
