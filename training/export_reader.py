"""Export a trained reader to the ONNX file the runtime ships, with its card.

    python -m training.export_reader training/runs/reader-v2/model

writes ``rag/models/reader/{model.onnx,tokenizer.json,reader.json}`` and fills the checksums
into ``rag/models/reader/MODEL_CARD.md``. ``--graph-only rag/models/reader`` only takes the
attention's NaN guards out of a reader exported before they were (:func:`drop_nan_guards`).

The shipped file holds only the weights training changed, stored in fp16 and computed in fp32:

* The word embeddings were frozen, so they are not shipped: the graph takes ``inputs_embeds``
  and the runtime looks the ids up in the packaged all-MiniLM-L6-v2's own matrix (checked by
  its SHA-256, recorded in ``reader.json``). That is half of the model's 22.7 M parameters.
* Every other weight is stored as fp16 with a ``Cast`` to fp32 in front of it, which
  onnxruntime folds into an fp32 constant when the session opens: the file is 22 MB, under
  the repository's 30 MB limit, and the arithmetic is fp32.

Why not int8 (the first reader shipped dynamically quantised int8): onnxruntime's u8s8 matrix
product runs on different kernels on AVX2 and on AVX-512 VNNI CPUs, and the AVX2 one
saturates int16 sums, so the same question got different margins (and, near the threshold,
different answers) on different CPUs of the same kind. fp32 arithmetic differs across
instruction sets only in the last bits. The script reports how far the exported model's
logits move from the torch model's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer
from transformers import BertForQuestionAnswering

from rag.read.model import matrix_sha256, packaged_word_embeddings
from rag.read.windows import batch, configure, windows
from training.squad_data import answerable, load_articles, split

SHIP = Path(__file__).resolve().parents[1] / "rag" / "models" / "reader"
#: Initializers this small stay fp32 (biases and norms: a few kB, and exact).
_KEEP_FP32_BELOW = 4096
#: fp16 storage moves logits by about 0.005; more than this is a broken export.
_MAX_DRIFT = 0.05


class _Head(torch.nn.Module):
    """The QA model called with looked-up word vectors instead of ids."""

    def __init__(self, model: BertForQuestionAnswering) -> None:
        super().__init__()
        self.model = model

    def forward(self, inputs_embeds, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
        out = self.model(
            inputs_embeds=inputs_embeds,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
        )
        return out.start_logits, out.end_logits


def fp16_weights(path: Path) -> None:
    """Store every large fp32 initializer as fp16, cast back to fp32 inside the graph."""
    model = onnx.load(str(path))
    graph = model.graph
    casts, kept = [], []
    for init in graph.initializer:
        array = numpy_helper.to_array(init)
        if init.data_type != TensorProto.FLOAT or array.size < _KEEP_FP32_BELOW:
            kept.append(init)
            continue
        half = numpy_helper.from_array(array.astype(np.float16), init.name + "__fp16")
        kept.append(half)
        casts.append(helper.make_node("Cast", [half.name], [init.name], to=TensorProto.FLOAT))
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend(casts + nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def drop_nan_guards(path: Path) -> int:
    """Take out the ``Where(IsNaN(softmax), 0, softmax)`` after each attention softmax.

    torch's attention puts it there for a row whose every key is masked, which a reader's
    window never has (it always attends its ``[CLS]``). On 2 AVX2 cores the guards cost about
    7% of a window's time; without them the logits are the same to the bit (README
    "Performance"). Returns how many nodes went.
    """
    model = onnx.load(str(path))
    graph = model.graph
    made_by = {out: node for node in graph.node for out in node.output}
    bypass: dict[str, str] = {}  # a guard's output -> the softmax it guarded
    zeros: set[str] = set()
    gone: set[int] = set()
    for node in graph.node:
        guard = made_by.get(node.input[0]) if node.op_type == "Where" else None
        if guard is not None and guard.op_type == "IsNaN" and guard.input[0] == node.input[2]:
            bypass[node.output[0]] = node.input[2]
            zeros.add(node.input[1])
            gone |= {id(node), id(guard)}
    kept = [node for node in graph.node if id(node) not in gone]
    for node in kept:
        node.input[:] = [bypass.get(name, name) for name in node.input]
    read = {name for node in kept for name in node.input} | {o.name for o in graph.output}
    unread = zeros - read  # the guards' zeros, unless something else reads them too
    gone |= {id(node) for node in kept if node.op_type == "Constant" and node.output[0] in unread}
    kept = [node for node in kept if id(node) not in gone]
    del graph.node[:]
    graph.node.extend(kept)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return len(gone)


def export(model_dir: Path, out: Path, max_len: int, stride: int) -> Path:
    model = BertForQuestionAnswering.from_pretrained(str(model_dir)).eval()
    embeddings = packaged_word_embeddings()
    trained = model.bert.embeddings.word_embeddings.weight.detach().numpy()
    if not np.array_equal(trained, embeddings):
        raise SystemExit("the model's word embeddings differ from the packaged ones: not frozen")
    tok = configure(Tokenizer.from_file(str(model_dir / "tokenizer.json")), max_len, stride)
    _, dev, _ = split(load_articles())
    examples = list(answerable(dev))[:32]
    ws = [w for e in examples for w in windows(tok, e.question, [e.passage])]
    inputs = batch(ws)
    feed = {
        "inputs_embeds": embeddings[inputs["input_ids"]],
        "attention_mask": inputs["attention_mask"],
        "token_type_ids": inputs["token_type_ids"],
    }
    with torch.no_grad():  # before the export, which leaves the module traced
        ref = model(**{k: torch.from_numpy(v) for k, v in inputs.items()})
    out.mkdir(parents=True, exist_ok=True)
    target = out / "model.onnx"
    tmp = Path(tempfile.mkdtemp()) / "model.onnx"
    names = list(feed)
    torch.onnx.export(
        _Head(model),
        tuple(torch.from_numpy(feed[n][:2]) for n in names),
        str(tmp),
        input_names=names,
        output_names=["start_logits", "end_logits"],
        dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "start_logits", "end_logits"]},
        opset_version=17,
        dynamo=False,
    )
    fp16_weights(tmp)
    drop_nan_guards(tmp)
    shutil.copy(tmp, target)
    shutil.rmtree(tmp.parent)
    sess = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    start, end = sess.run(None, feed)
    mask = inputs["attention_mask"].astype(bool)
    drift = max(
        float(np.abs(start - ref.start_logits.numpy())[mask].max()),
        float(np.abs(end - ref.end_logits.numpy())[mask].max()),
    )
    print(f"{target.name}: {target.stat().st_size / 1e6:.1f} MB, max logit drift {drift:.4f}")
    if drift > _MAX_DRIFT:
        raise SystemExit(f"the export's logits drift {drift:.3f} from the model's: not shipped")
    shutil.copy(model_dir / "tokenizer.json", out / "tokenizer.json")
    settings = {
        "max_len": max_len,
        "stride": stride,
        "base": "all-MiniLM-L6-v2",
        "word_embeddings": {"from": "packaged", "sha256": matrix_sha256(embeddings)},
    }
    (out / "reader.json").write_text(json.dumps(settings, indent=1) + "\n")
    return target


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def stamp_card(card: Path, files: list[Path]) -> None:
    """Write each shipped file's SHA-256 into the card's checksum table."""
    text = card.read_text(encoding="utf-8")
    for f in files:
        text = re.sub(
            rf"(\| `{re.escape(f.name)}` \| )[0-9a-f]{{64}}|(\| `{re.escape(f.name)}` \| )TBD",
            lambda m, f=f: (m.group(1) or m.group(2)) + sha256(f),
            text,
        )
    card.write_text(text, encoding="utf-8")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("model_dir", type=Path)
    p.add_argument("--out", type=Path, default=SHIP)
    p.add_argument("--max-len", type=int, default=192)
    p.add_argument("--stride", type=int, default=64)
    p.add_argument(
        "--graph-only",
        action="store_true",
        help="MODEL_DIR is an exported reader folder: only drop its NaN guards, in place",
    )
    args = p.parse_args()
    if args.graph_only:  # a reader exported before drop_nan_guards: the same weights, faster
        target = args.model_dir / "model.onnx"
        print(f"{target}: {drop_nan_guards(target)} nodes dropped")
        stamp_card(args.model_dir / "MODEL_CARD.md", [target])
        return
    target = export(args.model_dir, args.out, args.max_len, args.stride)
    card = args.out / "MODEL_CARD.md"
    if card.exists():
        stamp_card(card, [target, args.out / "tokenizer.json"])


if __name__ == "__main__":
    main()
