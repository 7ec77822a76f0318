"""Train the answer-shape classifier: does a question want a short span or sentences?

The label comes from the length of the reference answer in extractive QA training data
(``../shared/corpora/qa-train``): a question whose reference answer is a whole clause or
sentence (``--long`` words or more) wants the evidence sentence(s); one whose answer is a
name, date, number or short phrase (``--short`` words or fewer) wants the span. Lengths in
between are left out (they are both). Sources: SQuAD v1.1 train (CC BY-SA 4.0), SQuADShifts
New-Wiki and Amazon reviews (CC BY 4.0).

The model is a logistic regression over the packaged all-MiniLM-L6-v2 question embedding
(the vector retrieval computes anyway), written as a small JSON file of 384 weights and a
bias that :mod:`rag.read.shape` reads with numpy. Usage::

    .venv/bin/python -m training.answer_shape --out rag/models/answer_shape/weights.json
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
from pathlib import Path

import numpy as np

QA_TRAIN = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpora" / "qa-train"
SOURCES = (
    "squad-v1.1-train.json.gz",
    "squadshifts-new-wiki.json.gz",
    "squadshifts-amazon-reviews.json.gz",
)


def labelled(folder: Path, short: int, long: int) -> tuple[list[str], list[int]]:
    """Every distinct question with a short (0) or long (1) reference answer."""
    seen: dict[str, int] = {}
    for name in SOURCES:
        with gzip.open(folder / name, "rt", encoding="utf-8") as f:
            data = json.load(f)
        for article in data["data"]:
            for paragraph in article["paragraphs"]:
                for qa in paragraph["qas"]:
                    answers = [a["text"] for a in qa.get("answers", []) if a.get("text")]
                    question = " ".join(qa["question"].split())
                    if not answers or not question:
                        continue
                    words = sorted(len(a.split()) for a in answers)[len(answers) // 2]
                    if words <= short:
                        seen.setdefault(question, 0)
                    elif words >= long:
                        seen.setdefault(question, 1)
    questions = list(seen)
    return questions, [seen[q] for q in questions]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=QA_TRAIN)
    parser.add_argument("--out", type=Path, default=Path("rag/models/answer_shape/weights.json"))
    parser.add_argument("--short", type=int, default=3)
    parser.add_argument("--long", type=int, default=8)
    parser.add_argument("--per-class", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    from rag.embed.embedder import Embedder
    from rag.settings import DEFAULT_EMBEDDING_MODEL

    questions, labels = labelled(args.data, args.short, args.long)
    rng = random.Random(args.seed)
    by_class = {c: [q for q, y in zip(questions, labels, strict=True) if y == c] for c in (0, 1)}
    picked = {c: rng.sample(qs, min(args.per_class, len(qs))) for c, qs in by_class.items()}
    texts = picked[0] + picked[1]
    y = np.array([0] * len(picked[0]) + [1] * len(picked[1]))
    order = list(range(len(texts)))
    rng.shuffle(order)
    texts = [texts[i] for i in order]
    y = y[order]
    x = Embedder(DEFAULT_EMBEDDING_MODEL).encode(texts)
    cut = len(texts) * 4 // 5
    model = LogisticRegression(C=1.0, max_iter=2000).fit(x[:cut], y[:cut])
    auc = float(roc_auc_score(y[cut:], model.predict_proba(x[cut:])[:, 1]))
    accuracy = float(model.score(x[cut:], y[cut:]))
    model = LogisticRegression(C=1.0, max_iter=2000).fit(x, y)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "kind": "logistic-regression over the all-MiniLM-L6-v2 question embedding",
        "label": "1 = reference answer of >= long words (sentences), 0 = <= short words (span)",
        "embedding": DEFAULT_EMBEDDING_MODEL,
        "sources": list(SOURCES),
        "short": args.short,
        "long": args.long,
        "per_class": {"span": len(picked[0]), "sentences": len(picked[1])},
        "heldout": {"auc": round(auc, 4), "accuracy": round(accuracy, 4), "n": len(texts) - cut},
        "bias": round(float(model.intercept_[0]), 6),
        "weights": [round(float(w), 6) for w in model.coef_[0]],
    }
    args.out.write_text(json.dumps(record) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in record.items() if k != "weights"}, indent=1))


if __name__ == "__main__":
    main()
