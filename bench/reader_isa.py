"""Does the reader give the same answers on AVX2 and AVX-512 CPUs? One script, three steps.

    python -m bench.reader_isa pairs /tmp/isa/pairs.json          # native: questions + passages
    python -m bench.reader_isa read /tmp/isa/pairs.json /tmp/isa/avx512.json
    qemu-x86_64 -cpu Haswell .venv/bin/python -m bench.reader_isa read \\
        /tmp/isa/pairs.json /tmp/isa/avx2.json                    # an AVX2-only CPU, emulated
    python -m bench.reader_isa compare /tmp/isa/avx512.json /tmp/isa/avx2.json

``pairs`` writes (question, passages) pairs: the shipped and holdout questions with the
passages ``rag`` retrieves for them from the shipped page, and dev-split questions (Kenya,
Chloroplast: never the evaluation articles) with their gold paragraph and with a
related-but-silent swap of the question. ``read`` runs only the reader over them (so the
emulated run needs no retrieval) and records each pair's best span and margin; ``compare``
reports how many answers differ (span, or answered/abstained at the reader's threshold) and
the largest margin difference. Debian's ``qemu-user`` emulates a Haswell (AVX2, FMA, no
AVX-512) on any x86-64 machine; a run under it takes minutes, not seconds.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_pairs(out: Path, dev_n: int) -> None:
    from rag import QA, Settings
    from training.squad_data import answerable, load_articles, silent, split

    pairs = []
    with QA(Settings(corpus_dir=ROOT / "corpus", index_dir=out.parent / "index")) as qa:
        if not (out.parent / "index" / "CURRENT").exists():
            qa.ingest()
        for name in ("questions.jsonl", "holdout.jsonl"):
            for line in (ROOT / "tests" / "data" / name).read_text().splitlines():
                q = json.loads(line)["question"]
                pairs.append({"id": name + ":" + q, "question": q,
                              "passages": [d.page_content for d in qa.retrieve(q)]})  # fmt: skip
    _, dev, _ = split(load_articles())
    rng = random.Random(3)
    questions = list(answerable(dev))
    negatives = list(silent(dev, 3))
    for e in rng.sample(questions, dev_n) + rng.sample(negatives, dev_n // 2):
        pairs.append({"id": e.qid, "question": e.question, "passages": [e.passage]})
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(pairs))


def read(pairs_file: Path, out: Path, reader: str | None) -> None:
    from rag.read.model import ReaderModel

    model = ReaderModel(reader)
    rows = []
    for p in json.loads(pairs_file.read_text()):
        spans = model.read(model.windows(p["question"], p["passages"]))
        best = max(spans, key=lambda s: s.margin)
        text = p["passages"][best.passage][best.start : best.end]
        rows.append({"id": p["id"], "text": text, "margin": best.margin,
                     "answered": best.margin >= model.threshold})  # fmt: skip
    out.write_text(json.dumps({"reader": model.model_id, "threshold": model.threshold,
                               "rows": rows}, indent=0))  # fmt: skip


def compare(a: Path, b: Path) -> dict:
    ra, rb = json.loads(a.read_text()), json.loads(b.read_text())
    pairs = list(zip(ra["rows"], rb["rows"], strict=True))
    report = {
        "reader": ra["reader"],
        "pairs": len(pairs),
        "span_differs": sum(x["text"] != y["text"] for x, y in pairs),
        "decision_differs": sum(x["answered"] != y["answered"] for x, y in pairs),
        "max_margin_diff": max(abs(x["margin"] - y["margin"]) for x, y in pairs),
        "closest_to_threshold": min(abs(x["margin"] - ra["threshold"]) for x in ra["rows"]),
    }
    print(json.dumps(report, indent=1))
    return report


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="step", required=True)
    s = sub.add_parser("pairs")
    s.add_argument("out", type=Path)
    s.add_argument("--dev", type=int, default=60, help="dev questions (and half as many silent)")
    s = sub.add_parser("read")
    s.add_argument("pairs", type=Path)
    s.add_argument("out", type=Path)
    s.add_argument("--reader", default=None, help="a reader folder (default: the shipped one)")
    s = sub.add_parser("compare")
    s.add_argument("a", type=Path)
    s.add_argument("b", type=Path)
    args = p.parse_args()
    if args.step == "pairs":
        make_pairs(args.out, args.dev)
    elif args.step == "read":
        read(args.pairs, args.out, args.reader)
    else:
        compare(args.a, args.b)


if __name__ == "__main__":
    main()
