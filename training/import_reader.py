"""Turn a shipped reader (``model.onnx``) back into a Hugging Face folder to train from.

    python -m training.import_reader rag/models/reader training/runs/reader-v3/model

Training warm-starts from the reader that ships (issue 19: "warm-start from the shipped
reader"), but ``training/runs`` is git-ignored and a fresh machine has only the repository's
ONNX file. The file holds every weight training changed (fp16, see
:mod:`training.export_reader`) and the runtime takes the frozen word embeddings from the
packaged all-MiniLM-L6-v2, so the weights come back whole, to fp16 precision.

The export names biases and norms after their parameters but calls the large matrices
``onnx::MatMul_N``; each matrix is recognised by the named bias its product is added to, not
by its position in the file, and the result is checked against the ONNX file's own logits.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper
from tokenizers import Tokenizer
from transformers import BertForQuestionAnswering

from rag.embed.model_folder import resolve_model_path
from rag.read.model import matrix_sha256, packaged_word_embeddings
from rag.read.windows import batch, configure, windows
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


def drift(model: BertForQuestionAnswering, onnx_file: Path, tokenizer: Path) -> float:
    """Largest difference between the model's logits and the ONNX file's, on a few windows."""
    record = json.loads((onnx_file.parent / "reader.json").read_text(encoding="utf-8"))
    tok = configure(Tokenizer.from_file(str(tokenizer)), record["max_len"], record["stride"])
    passage = (
        "The Durand Line was drawn in 1893 by Mortimer Durand. It runs for about 2,600 km "
        "between Afghanistan and Pakistan, and Afghanistan has never recognised it."
    )
    ws = [w for q in ("Who drew the line?", "How long is it?", "Who won the cup?")
          for w in windows(tok, q, [passage])]  # fmt: skip
    inputs = batch(ws)
    embeddings = packaged_word_embeddings()
    session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    start, end = session.run(None, {
        "inputs_embeds": embeddings[inputs["input_ids"]],
        "attention_mask": inputs["attention_mask"],
        "token_type_ids": inputs["token_type_ids"],
    })  # fmt: skip
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
        ValueError: a weight is missing or left over, or the logits drift from the file's.
    """
    base = resolve_model_path(DEFAULT_EMBEDDING_MODEL)
    model = BertForQuestionAnswering.from_pretrained(str(base)).eval()
    record = json.loads((shipped / "reader.json").read_text(encoding="utf-8"))
    embeddings = packaged_word_embeddings()
    if record["word_embeddings"]["sha256"] != matrix_sha256(embeddings):
        raise ValueError("the packaged word embeddings are not the ones this reader was trained on")
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
    moved = drift(model, shipped / "model.onnx", shipped / "tokenizer.json")
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
