"""The query-time runtime: the network and its pooling exported once to ONNX, verified first.

Loading an ONNX Runtime session takes a few hundred milliseconds and no torch import, which is
what makes a cold ``ask()`` fast; a single question embeds in milliseconds instead of tens.
The export (``<cache>/onnx/<fingerprint>.onnx``) is traced from
:func:`rag.embed.torch_runtime.pooled_module` and trusted only if it reproduces the torch runtime's
vectors on a few probe texts. Any failure (no onnx package, a read-only cache, a corrupt file)
leaves the torch runtime in charge; nothing here raises.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.embed.torch_runtime import load_model, pooled_module

if TYPE_CHECKING:
    import numpy as np

    from rag.text.wordpieces import WordPieces

log = logging.getLogger(__name__)

#: Exports kept in the cache folder (other models, reinstalled wheels, copies in tests).
KEEP_EXPORTS = 3
#: An export is trusted only if it reproduces torch's vectors this closely.
EXPORT_TOLERANCE = 1e-4
#: Short and long, code, non-ASCII: what a difference in tokenising or attention would show on.
_PROBES = [
    "What is a PEP?",
    "The Taliban seized Kabul in September 1996 after a long siege of the city.",
    "def f(x):\n    return x ** 2  # squares",
    "Ünïcödé, emoji 🙂 and punctuation -- all tokenised the same way. " * 8,
]

#: A runtime: padded ``(input_ids, attention_mask)`` to float32 unit vectors.
Run = Callable[["np.ndarray", "np.ndarray"], "np.ndarray"]


def default_cache_dir() -> Path:
    """Where derived model files (the ONNX export) are kept: ``$XDG_CACHE_HOME/rag``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rag"


def export_path(cache_dir: Path, fingerprint: str) -> Path:
    """The export of the model with ``fingerprint`` (so it is never used for another model)."""
    return cache_dir / "onnx" / f"{fingerprint}.onnx"


def export_verified(model_path: Path, target: Path, pieces: WordPieces, reference: Run) -> bool:
    """Export the network (pooling included) to ``target`` if it matches ``reference``.

    The export is written aside and renamed into place, so a reader never sees half a file,
    and older exports beyond :data:`KEEP_EXPORTS` are removed. Costs a model load and a few
    seconds, once per machine and model.

    Returns:
        Whether a verified export is now at ``target``.
    """
    tmp = target.with_name(f"{target.stem}.tmp-{os.getpid()}-{threading.get_ident()}.onnx")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _export(model_path, tmp)
        worst = _difference(tmp, pieces, reference)
        if worst > EXPORT_TOLERANCE:
            log.warning("ONNX export differs from torch by %.2g; not used", worst)
            tmp.unlink(missing_ok=True)
            return False
        os.replace(tmp, target)
        forget_old_exports(target.parent, keep=target)
    except Exception as exc:  # noqa: BLE001 - any failure leaves torch in charge
        log.warning("ONNX export failed (%s: %s); queries use torch", type(exc).__name__, exc)
        tmp.unlink(missing_ok=True)
        return False
    return True


def open_session(path: Path) -> Any:
    """An ONNX Runtime session on ``path``, or None if the file cannot be loaded."""
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
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: kept when old exports are cleared
    return session


def session_run(session: Any) -> Run:
    """``session`` as a runtime."""
    return lambda ids, mask: session.run(None, {"input_ids": ids, "attention_mask": mask})[0]


def forget_old_exports(folder: Path, keep: Path, limit: int = KEEP_EXPORTS) -> None:
    """Keep the most recently used exports only (each is about 90 MB)."""
    exports = sorted(folder.glob("*.onnx"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [p for p in exports if p != keep][max(0, limit - 1) :]:
        with contextlib.suppress(OSError):
            old.unlink()


def _export(model_path: Path, target: Path) -> None:
    import warnings

    import torch

    model = load_model(model_path, "float32", eager=True)
    ids = torch.ones(2, 8, dtype=torch.long)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            pooled_module(model),
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


def _difference(onnx_file: Path, pieces: WordPieces, reference: Run) -> float:
    """Largest absolute difference between the export's and ``reference``'s probe vectors."""
    import numpy as np
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    ids, mask = pieces.padded(_PROBES)
    got = session_run(session)(ids, mask)
    return float(np.abs(got - reference(ids, mask)).max())
