"""Work done in child processes (fresh interpreters, so imports, model loads and RSS count)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any


def ours_ingest(
    corpus: str,
    index: str,
    model_cache: str,
    vector_cache: str,
    overrides: dict[str, Any] | None = None,
    quantize: str = "",
) -> dict[str, Any]:
    """Our ingest with the default settings (or ``overrides``), counting the tokens embedded.

    ``quantize`` ("all" or "attention") swaps in torch's dynamic int8 quantisation of those
    Linear layers for the bulk forward passes: a lever measured, not a setting.
    """
    started = time.perf_counter()
    from rag.embed.embedder import Embedder
    from rag.ingest.pipeline import ingest
    from rag.settings import Settings

    embedder = Embedder(cache_dir=Path(model_cache))
    settings = Settings(corpus_dir=Path(corpus), index_dir=Path(index), **(overrides or {}))
    if quantize:
        embedder.__dict__["_torch_model"] = quantized(embedder._torch_model, quantize)
    tokens = 0
    encode = embedder.encode

    def counting(texts: Any, progress: Any = None) -> Any:
        nonlocal tokens
        tokens += sum(min(n + 2, embedder.max_tokens) for n in embedder.count_tokens(texts))
        return encode(texts, progress)

    embedder.encode = counting  # type: ignore[method-assign]
    summary = ingest(settings, embedder, cache_dir=Path(vector_cache))
    return {
        "seconds": time.perf_counter() - started,
        "ingest_call_seconds": summary.seconds,
        "chunks": summary.chunks,
        "embedded": summary.embedded,
        "embedded_tokens": tokens,
        "written": summary.written,
    }


def quantized(model: Any, which: str) -> Any:
    """``model`` with dynamic int8 (per-channel) ``Linear`` layers: all, or attention only."""
    import warnings

    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    spec: Any = {
        name: per_channel_dynamic_qconfig
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and (which == "all" or ".attention." in name)
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization is deprecated for torchao
        return quantize_dynamic(model, spec, dtype=torch.qint8)


def baseline_ingest(corpus: str, persist: str) -> dict[str, Any]:
    started = time.perf_counter()
    from bench import baseline

    _store, info = baseline.build(Path(corpus), Path(persist))
    return {"seconds": time.perf_counter() - started, "chunks": info["chunks"]}


def levers(corpus: str, model_cache: str, n: int) -> dict[str, Any]:
    """Embedding runtimes on the same chunks: CPU seconds per chunk (1 thread) and agreement.

    CPU time, not wall time, so that other work on a shared machine does not decide it.
    """
    import numpy as np
    import torch

    from rag.convert.discovery import file_digest
    from rag.convert.loaders import load
    from rag.embed.embedder import Embedder
    from rag.ingest.records import keyword_text
    from rag.preprocess.chunking import chunk_text
    from rag.preprocess.cleaning import clean

    torch.set_num_threads(1)
    base = Embedder(cache_dir=Path(model_cache))
    texts: list[str] = []
    for path in sorted(Path(corpus).iterdir()):
        data, sha = file_digest(path, 10**9)
        doc = clean(load(path, path.name, data, sha))
        for c in chunk_text(
            doc.text, chunk_size=200, chunk_overlap=40, count_tokens=base.count_tokens
        ):
            texts.append(keyword_text(doc.title, c.heading, c.text))
    texts = texts[:: max(1, len(texts) // n)][:n]

    def timed(fn: Any) -> tuple[float, Any]:
        fn(texts[:4])
        started = time.process_time()
        out = fn(texts)
        return (time.process_time() - started) / len(texts), out

    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(base.onnx_path), options, providers=["CPUExecutionProvider"])
    results: dict[str, Any] = {"chunks": len(texts)}
    ref_cost, ref = timed(lambda t: base._encode_batches(t, np.zeros((len(t), 384), "f4"), None))
    runs = {"torch fp32 (ingest)": (ref_cost, ref)}

    def onnx(t: list[str]) -> Any:
        saved = base._runtime
        base._runtime = lambda n: (
            lambda ids, mask: session.run(  # type: ignore[method-assign]
                None, {"input_ids": ids, "attention_mask": mask}
            )[0]
        )
        try:
            return base._encode_batches(t, np.zeros((len(t), 384), "f4"), None)
        finally:
            base._runtime = saved  # type: ignore[method-assign]

    runs["onnx fp32 (questions)"] = timed(onnx)
    bf16 = Embedder(dtype="bfloat16", onnx=False, cache_dir=Path(model_cache))
    runs["torch bf16"] = timed(
        lambda t: bf16._encode_batches(t, np.zeros((len(t), 384), "f4"), None)
    )
    sims = ref @ ref.T
    np.fill_diagonal(sims, -1)
    top1 = sims.argmax(1)
    for name, (cost, vectors) in runs.items():
        s = vectors @ vectors.T
        np.fill_diagonal(s, -1)
        results[name] = {
            "cpu_ms_per_chunk": cost * 1000,
            "speed_vs_fp32": ref_cost / cost,
            "min_cosine_to_fp32": float((vectors * ref).sum(1).min()),
            "top1_neighbour_agreement": float((s.argmax(1) == top1).mean()),
        }
    return results
