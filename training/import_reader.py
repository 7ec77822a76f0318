"""Turn a shipped reader (``model.onnx``) back into a Hugging Face folder to train from.

    python -m training.import_reader rag/models/reader training/runs/reader-v3/model

Training warm-starts from the reader that ships (issue 19: "warm-start from the shipped
reader"), but ``training/runs`` is git-ignored and a fresh machine has only the repository's
ONNX file. The file holds every weight training changed (fp16, see
:mod:`training.export_reader`) and the runtime takes the frozen word embeddings from the
packaged all-MiniLM-L6-v2, so the weights come back whole, to fp16 precision.

The export names biases and norms after their parameters but calls the large matrices
``onnx::MatMul_N``; each matrix is recognised by the named bias its product is added to, not
by its position in the file. The result is checked against the shipped file's logits as
``rag`` computes them (:class:`rag.read.ReaderModel`, which also checks that the packaged word
embeddings are the ones the reader was trained on).
"""

from __future__ import annotations

import argparse
import logging
import shutil
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from transformers import BertForQuestionAnswering

from rag.embed.model_folder import resolve_model_path
from rag.read import ReaderModel
from rag.read.windows import batch
from rag.settings import DEFAULT_EMBEDDING_MODEL

log = logging.getLogger("import_reader")

#: The ONNX file's prefix on the torch parameter names (the export wraps the model).
_PREFIX = "model."
#: fp16 storage moves logits by about 0.005 (training.export_reader); more is a wrong mapping.
_MAX_DRIFT = 0.05


def onnx_weights(path: Path) -> dict[str, np.ndarray]:
    """The parameters of a shipped reader by their torch names, as fp32 arrays."""
    graph = onnx.load(str(path)).graph
    arrays = {i.name: numpy_helper.to_array(i).astype(np.float32) for i in graph.initializer}
    # the export stores X as X__fp16 with a Cast back to X in front of the graph
    source = {n.output[0]: n.input[0] for n in graph.node if n.op_type == "Cast"}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    weights: dict[str, np.ndarray] = {}
    for name, array in arrays.items():
        if name.startswith(_PREFIX):
            weights[name.removesuffix("__fp16")[len(_PREFIX) :]] = array
    for node in graph.node:
        if node.op_type != "MatMul":
            continue
        matrix = next((source.get(i, i) for i in node.input if source.get(i, i) in arrays), None)
        if matrix is None:
            continue
        adds = [n for n in consumers.get(node.output[0], []) if n.op_type == "Add"]
        bias = next((i for a in adds for i in a.input if i.endswith(".bias")), None)
        if bias is None:
            raise ValueError(f"{path}: no named bias follows the product with {matrix}")
        name = bias.removesuffix(".bias")[len(_PREFIX) :] + ".weight"
        weights[name] = arrays[matrix].T  # MatMul holds (in, out); a Linear holds (out, in)
    return weights


def drift(model: BertForQuestionAnswering, shipped: ReaderModel) -> float:
    """Largest difference between the model's logits and the shipped reader's, on a few windows."""
    passage = (
        "The Durand Line was drawn in 1893 by Mortimer Durand. It runs for about 2,600 km "
        "between Afghanistan and Pakistan, and Afghanistan has never recognised it."
    )
    questions = ["Who drew the line?", "How long is it?", "Who won the cup?"]
    ws = shipped.windows(questions, [passage] * len(questions))
    start, end = shipped.logits(ws)
    inputs = batch(ws)
    with torch.no_grad():
        ref = model(**{k: torch.from_numpy(v) for k, v in inputs.items()})
    mask = inputs["attention_mask"].astype(bool)
    return max(
        float(np.abs(start - ref.start_logits.numpy())[mask].max()),
        float(np.abs(end - ref.end_logits.numpy())[mask].max()),
    )


def import_reader(shipped: Path, out: Path) -> float:
    """Write the reader in ``shipped`` as a Hugging Face folder ``out``; return the logit drift.

    Raises:
        ReaderError: ``shipped`` is not a reader export, or was trained on other word
            embeddings than the packaged ones (which the folder takes).
        ValueError: a weight is missing or left over, or the logits drift from the file's.
    """
    reader = ReaderModel(str(shipped))
    if reader.kind != "onnx":
        raise ValueError(f"{shipped} is already a Hugging Face folder, not a reader export")
    base = resolve_model_path(DEFAULT_EMBEDDING_MODEL)
    model = BertForQuestionAnswering.from_pretrained(str(base)).eval()
    weights = onnx_weights(shipped / "model.onnx")
    state = model.state_dict()
    expected = {k for k in state if k != "bert.embeddings.word_embeddings.weight"}
    expected -= {k for k in state if k.endswith("position_ids")}
    if set(weights) != expected:
        raise ValueError(
            f"weights missing {sorted(expected - set(weights))[:3]}, "
            f"left over {sorted(set(weights) - expected)[:3]}"
        )
    for name, array in weights.items():
        if tuple(state[name].shape) != array.shape:
            raise ValueError(f"{name}: shape {array.shape}, the model's {tuple(state[name].shape)}")
        state[name] = torch.from_numpy(array)
    model.load_state_dict(state)
    moved = drift(model, reader)
    if moved > _MAX_DRIFT:
        raise ValueError(f"the imported model's logits drift {moved:.3f} from the file's")
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    shutil.copy(shipped / "tokenizer.json", out / "tokenizer.json")
    return moved


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("shipped", type=Path, help="a reader folder (model.onnx, reader.json)")
    p.add_argument("out", type=Path, help="the Hugging Face folder to write")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    moved = import_reader(args.shipped, args.out)
    log.info("wrote %s: max logit drift %.4f from %s", args.out, moved, args.shipped / "model.onnx")


if __name__ == "__main__":
    main()
