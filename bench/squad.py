"""SQuAD v1.1 dev as a retrieval and answering benchmark for the whole system (not a test).

    python -m bench.squad                      # all 10,570 questions; answers for a 1,000 sample
    python -m bench.squad --limit 500          # quick: a seeded sample of 500 questions
    python -m bench.squad --answers all        # answer every question too (hours on 2 cores)
    python -m bench.squad --tune               # redo the fusion tuning (articles 0-23)

The 2,067 paragraphs become one ``.txt`` document each (first line: the article title) in a
corpus folder, which is ingested exactly as a user's corpus would be. Each question's relevant
passage is its paragraph: paragraph recall@k is the share of questions with a chunk of their
paragraph among the top k retrieved chunks, MRR@10 the mean of 1/rank of the first one.
Retrieval is compared, on the same index and in the same run, for BM25 alone, MiniLM alone,
plain reciprocal rank fusion (the untuned hybrid) and our tuned fusion. The tuning used only
articles 0-23; the "held-out" columns are articles 24-47, which it never saw.

SQuAD is CC BY-SA 4.0 (Rajpurkar et al., 2016); the corpus written here is derived from it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from rag import Settings, evaluate
from rag.embed.embedder import Embedder
from rag.evaluation import EvalReport, Question
from rag.evaluation.metrics import mean
from rag.retrieve.hybrid import DEFAULT_FUSION, PLAIN_RRF, Fusion

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / ".." / "shared" / "corpora" / "squad-v1.1-dev" / "dev-v1.1.json"
TUNE_ARTICLES = range(24)  # tuning saw only these; 24-47 are held out
KS = (1, 5, 10)

MODES: dict[str, Fusion] = {
    "BM25 alone": Fusion(method="bm25", drop_question_words=False),
    "BM25, no question words": Fusion(method="bm25"),
    "MiniLM alone": Fusion(method="dense"),
    "plain RRF (untuned hybrid)": PLAIN_RRF,
    "ours (tuned fusion)": DEFAULT_FUSION,
}


class CachedEmbedder(Embedder):
    """Embeds each query once across the retrieval modes (the answerer's batches pass through)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cache: dict[str, Any] = {}

    def prefill(self, questions: Sequence[str], max_chars: int) -> None:
        """Embed all queries in batches up front (the retriever then finds them cached).

        Batched vectors differ from one-at-a-time ones only by float rounding (~1e-7).
        """
        from rag.questions import validate_question

        queries = list(dict.fromkeys(validate_question(q, max_chars) for q in questions))
        started = time.perf_counter()
        vectors = super().encode(queries)
        self._cache.update({q: vectors[i : i + 1] for i, q in enumerate(queries)})
        print(f"embedded {len(queries)} queries in {time.perf_counter() - started:.0f} s")

    def encode(self, texts, progress=None):  # type: ignore[override]
        if len(texts) != 1:
            return super().encode(texts, progress)
        text = texts[0]
        if text not in self._cache:
            self._cache[text] = super().encode([text])
        return self._cache[text]


def load_dev(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))["data"]


def write_corpus(articles: list[dict[str, Any]], corpus: Path) -> int:
    """One document per paragraph, ``AA-PPP.txt``; unchanged files are left untouched."""
    corpus.mkdir(parents=True, exist_ok=True)
    count = 0
    for i, article in enumerate(articles):
        title = article["title"].replace("_", " ")
        for j, paragraph in enumerate(article["paragraphs"]):
            path = corpus / f"{i:02d}-{j:03d}.txt"
            text = f"{title}\n\n{paragraph['context']}\n"
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
            count += 1
    return count


def squad_questions(articles: list[dict[str, Any]]) -> list[Question]:
    out = []
    for i, article in enumerate(articles):
        for j, paragraph in enumerate(article["paragraphs"]):
            for qa in paragraph["qas"]:
                answers = list(dict.fromkeys(a["text"] for a in qa["answers"]))
                out.append(
                    Question(
                        id=qa["id"],
                        question=qa["question"],
                        answer=answers[0],
                        aliases=tuple(answers[1:]),
                        sources=(f"{i:02d}-{j:03d}.txt",),
                        tags=(f"article-{i:02d}", article["title"]),
                    )
                )
    return out


def article_of(q: Any) -> int:
    return int(q.sources[0][:2])


def subset_metrics(report: EvalReport, held_out: bool | None) -> dict[str, float | None]:
    """Mean of each per-question metric over all questions, or the held-out / tuning half."""
    chosen = [
        q
        for q in report.questions
        if held_out is None or (article_of(q) not in TUNE_ARTICLES) == held_out
    ]
    names = dict.fromkeys(n for q in chosen for n in q.metrics)
    return {n: mean(q.metrics.get(n) for q in chosen) for n in names}


def retrieval_table(rows: list[tuple[str, EvalReport]]) -> str:
    head = (
        "| retrieval | recall@1 | recall@5 | recall@10 | MRR@10 "
        "| held-out recall@1 | held-out recall@5 | held-out MRR@10 |"
    )
    lines = [head, "| --- |" + " ---: |" * 7]
    for name, report in rows:
        a, h = subset_metrics(report, None), subset_metrics(report, True)
        cells = [a["hit@1"], a["hit@5"], a["hit@10"], a["mrr@10"], h["hit@1"], h["hit@5"]]
        cells.append(h["mrr@10"])
        lines.append(f"| {name} | " + " | ".join(f"{v:.3f}" for v in cells) + " |")
    return "\n".join(lines)


def answer_table(report: EvalReport) -> str:
    a = subset_metrics(report, None)
    n = len(report.questions)
    lines = [
        "| answers (ours, extractive) | questions | containment | EM | F1 "
        "| answered | latency p50 | latency p95 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| all | {n} | {a['containment']:.3f} | {100 * a['exact_match']:.2f} "
        f"| {100 * a['f1']:.2f} | {1 - report.metrics['false_refusal_rate']:.3f} "
        f"| {report.metrics['latency_p50'] * 1000:.0f} ms "
        f"| {report.metrics['latency_p95'] * 1000:.0f} ms |",
    ]
    return "\n".join(lines)


def progress(stage: str, done: int, total: int) -> None:
    if done % 1000 == 0 or done == total:
        print(f"    {stage} {done}/{total}", flush=True)


def sample(questions: list[Question], n: int | None, seed: int) -> list[Question]:
    if n is None or n >= len(questions):
        return questions
    return sorted(random.Random(seed).sample(questions, n), key=questions.index)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--squad", type=Path, default=DEV, help="dev-v1.1.json")
    parser.add_argument("--limit", type=int, help="a seeded sample of N questions")
    parser.add_argument(
        "--answers",
        default="1000",
        help="how many of them to answer too (a seeded sample; 'all' or 0 for none)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, help="keep corpus and index here (reused)")
    parser.add_argument("--tune", action="store_true", help="rerun the fusion tuning first")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    if not args.squad.is_file():
        print(f"SQuAD dev file not found: {args.squad}", file=sys.stderr)
        return 1
    work = args.workdir or Path(tempfile.mkdtemp(prefix="squad-bench-"))
    settings = Settings(corpus_dir=work / "corpus", index_dir=work / "index")
    articles = load_dev(args.squad)
    docs = write_corpus(articles, settings.corpus_dir)
    questions = sample(squad_questions(articles), args.limit, args.seed)
    print(f"corpus: {docs} paragraphs in {settings.corpus_dir}; {len(questions)} questions")
    embedder = CachedEmbedder()
    embedder.prefill([q.question for q in questions], settings.max_question_chars)
    if args.tune:
        from bench.squad_tune import tune

        tune(settings, embedder, squad_questions(articles), TUNE_ARTICLES)
    rows: list[tuple[str, EvalReport]] = []
    timings: dict[str, float] = {}
    ingest_seconds = None
    for name, fusion in MODES.items():
        started = time.perf_counter()
        report = evaluate(
            questions,
            settings,
            ks=KS,
            answers=False,
            fusion=fusion,
            ingest=ingest_seconds is None,
            embedder=embedder,
            progress=progress,
        )
        if ingest_seconds is None:
            ingest_seconds = report.metrics["ingest_seconds"]
            print(f"ingest: {ingest_seconds:.1f} s (0 when the workdir index was up to date)")
        timings[name] = time.perf_counter() - started
        rows.append((name, report))
        print(f"  {name}: {timings[name]:.0f} s", flush=True)
    print()
    print(retrieval_table(rows))
    answered = None
    if args.answers not in ("0", "none"):
        n = None if args.answers == "all" else int(args.answers)
        chosen = sample(questions, n, args.seed)
        started = time.perf_counter()
        answered = evaluate(
            chosen, settings, ks=KS, ingest=False, embedder=embedder, progress=progress
        )
        print(f"\nanswered {len(chosen)} questions in {time.perf_counter() - started:.0f} s")
        print(answer_table(answered))
    args.out.mkdir(parents=True, exist_ok=True)
    summary = {
        "questions": len(questions),
        "limit": args.limit,
        "seed": args.seed,
        "ingest_seconds": ingest_seconds,
        "retrieval": {
            name: {
                "all": subset_metrics(r, None),
                "held_out": subset_metrics(r, True),
                "tuning_half": subset_metrics(r, False),
                "fusion": r.settings["fusion"],
                "seconds": round(timings[name], 1),
            }
            for name, r in rows
        },
        "answers": None
        if answered is None
        else {"questions": len(answered.questions), **answered.metrics},
    }
    path = args.out / "squad.json"
    path.write_text(json.dumps(summary, indent=2))
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
