"""The learned reader against the rule-based answerer it replaced, side by side in one run.

    python -m bench.reader --workdir /tmp/reader-bench          # about 15 minutes on 2 cores
    python -m bench.reader --n 200 --skip-20k                   # quicker
    python -m bench.reader --baseline-reader /tmp/reader-v1 --no-rules   # reader vs reader

All SQuAD questions come from the 35 evaluation articles (never used to train, tune or
calibrate the reader). Reported, each for both answerers where it applies:

(a) gold paragraph, reader alone: EM / F1 of its best span; open corpus (the 2,067
    paragraphs of all 48 articles as documents, retrieved as a user's question would be):
    EM / F1 / answered of the reader's span (:class:`SpanAnswerer`), and EM / F1 of the
    answer as shipped (sentences where the answer-shape classifier asks for them);
(b) related-but-silent questions (a year, number or name swapped, the way the training
    negatives are made, paired with the original paragraph) and each question paired with
    the passages retrieved for it when its own article is left out of the search (every
    other article's): abstention; and false refusals on the same questions with their gold
    paragraph;
(c) the shipped and holdout questions: containment, support in citations, abstention,
    median answer words;
(d) answer latency p50 / p95 and CPU seconds per question at ~2k chunks (the SQuAD corpus)
    and ~20k (the same corpus copied ten times: retrieval searches 20k chunks, the answer
    stage reads the same number of windows).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from langchain_core.documents import Document  # noqa: E402

from bench.rules_answerer import DEFAULT_THRESHOLD as RULES_THRESHOLD  # noqa: E402
from bench.rules_answerer import ExtractiveAnswerer as RulesAnswerer  # noqa: E402
from bench.squad import write_corpus  # noqa: E402
from rag import QA, Answer, Settings  # noqa: E402
from rag.evaluation.metrics import containment, exact_match, strip_citations, token_f1  # noqa: E402
from rag.ingest.pipeline import ingest  # noqa: E402
from rag.read import ExtractiveAnswerer  # noqa: E402
from training.squad_data import entities, load_articles, silent, split  # noqa: E402

DATA = ROOT / "tests" / "data"


def pred(answer: Answer) -> str:
    return "" if answer.abstained else strip_citations(answer.text)


def gold_docs(qa: QA, source: str) -> list[Document]:
    """The chunks of one document as retrieved passages (what the answerers read)."""
    reader = qa.snapshot()
    out = []
    for c in reader.chunks:
        if c.source == source:
            title = reader.manifest.files[c.source].title
            meta = {"chunk_id": c.id, "source": c.source, "title": title, "heading": c.heading,
                    "start": c.start, "end": c.end, "page": None, "score": 1.0}  # fmt: skip
            out.append(Document(page_content=reader.chunk_text(c), metadata=meta))
    return out


def answerers(qa: QA, baseline: QA | None = None, rules: bool = True) -> dict[str, Any]:
    """The answerers compared: the retired rules, a baseline reader, the shipped reader."""
    out: dict[str, Any] = {}
    if rules:
        reader = qa.snapshot()
        out["rules (old)"] = RulesAnswerer(
            qa.embedder, reader.keyword.idf, reader.doc_text, RULES_THRESHOLD
        )
    if baseline is not None:
        out["reader (baseline)"] = baseline.answerer()
    out["reader (new)"] = qa.answerer()
    return out


class SpanAnswerer(ExtractiveAnswerer):
    """The shipped answerer answering every question with its span, as the reader finds it.

    The shipped answerer gives sentences where the answer-shape classifier says a question
    wants them (rag.read.shape); EM/F1 against SQuAD's span references measure the reader
    only when its span is the answer, as when readers v1 and v2 were measured.
    """

    def wants_sentences(self, query: str) -> bool:
        return False


def span_answerer(answerer: Any) -> Any:
    """``answerer`` as a :class:`SpanAnswerer` (the retired rules as they are)."""
    if not isinstance(answerer, ExtractiveAnswerer):
        return answerer
    return SpanAnswerer(
        answerer.model,
        answerer.doc_text,
        answerer.threshold,
        idf=answerer.idf,
        windows=answerer.windows,
        shape=answerer.shape,
        embed=answerer.embed,
        stop_margin=answerer.stop_margin,
    )


def with_baseline(qa: QA, reader: str | None) -> QA | None:
    """A second QA over the same index that reads with the reader at ``reader``."""
    if not reader:
        return None
    from rag.read.model import ReaderModel

    return QA(qa.settings, embedder=qa.embedder, reader_model=ReaderModel(reader))


def swapped_kind(original: str, new: str) -> str:
    """Which kind of value the related-but-silent question swapped in: year, number or name."""
    before, after = entities(original), entities(new)
    return next((k for k in ("year", "number") if set(after[k]) - set(before[k])), "name")


def timed(fn, *args, **kwargs) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - wall, time.process_time() - cpu


def squad_part(
    qa: QA, articles: list[dict], n: int, seed: int, baseline: QA | None = None, rules: bool = True
) -> dict[str, Any]:
    _, _, evaluation = split(articles)
    titles = [a["title"] for a in articles]
    source_of = {}
    for i, a in enumerate(articles):
        for j, p in enumerate(a["paragraphs"]):
            source_of[p["context"]] = f"{i:02d}-{j:03d}.txt"
    sources = sorted(set(source_of.values()))
    rng = random.Random(seed)
    questions = [
        (a["title"], p["context"], q) for a in evaluation for p in a["paragraphs"] for q in p["qas"]
    ]
    sample = rng.sample(questions, n)
    silent_qs = list(silent(evaluation, seed))
    silent_sample = rng.sample(silent_qs, min(n, len(silent_qs)))
    original = {q["id"] + "-silent": q["question"] for _, _, q in questions}
    swapped = [swapped_kind(original[e.qid], e.question) for e in silent_sample]
    result: dict[str, Any] = {"questions": n, "silent_questions": len(silent_sample)}
    ans = answerers(qa, baseline, rules)
    models = {"gold_reader": qa.reader_model}
    if baseline is not None:
        models["gold_reader_baseline"] = baseline.reader_model

    # (a) gold paragraph, reader alone
    for key, model in models.items():
        em = f1 = 0.0
        for _, context, q in sample:
            refs = [x["text"] for x in q["answers"]]
            spans = model.read(model.windows(q["question"], [context]))
            best = max(spans, key=lambda s: s.margin)
            text = context[best.start : best.end]
            em += exact_match(text, refs)
            f1 += token_f1(text, refs)
        result[key] = {"em": 100 * em / n, "f1": 100 * f1 / n}

    # (a) open corpus, and (b) false refusals with the gold paragraph, other-article passages
    for name, answerer in ans.items():
        em = f1 = answered = refused_gold = abstain_other = shaped_em = shaped_f1 = 0.0
        lat, cpu = [], []
        spans = span_answerer(answerer)
        for title, context, q in sample:
            refs = [x["text"] for x in q["answers"]]
            docs, _, _ = timed(qa.retrieve, q["question"])
            a, wall, c = timed(answerer, q["question"], docs)
            lat.append(wall)
            cpu.append(c)
            shaped_em += exact_match(pred(a), refs)
            shaped_f1 += token_f1(pred(a), refs)
            span = spans(q["question"], docs)
            em += exact_match(pred(span), refs)
            f1 += token_f1(pred(span), refs)
            answered += not span.abstained
            g = answerer(q["question"], gold_docs(qa, source_of[context]))
            refused_gold += g.abstained
            # what the retriever returns when the question's own article is not in the corpus
            own = f"{titles.index(title):02d}-"
            allowed = [s for s in sources if not s.startswith(own)]
            others = qa.retriever.invoke(q["question"], sources=allowed)[: qa.settings.top_k]
            abstain_other += answerer(q["question"], others).abstained
        refused = [
            answerer(e.question, gold_docs(qa, source_of[e.passage])).abstained
            for e in silent_sample
        ]
        sil = sum(refused)
        # by what was swapped: a year or name the passage lacks is refused unread (rag.read)
        by_kind = {
            k: f"{sum(r for r, s in zip(refused, swapped, strict=True) if s == k)}"
            f" of {swapped.count(k)}"
            for k in ("year", "number", "name")
        }
        result[name] = {
            "open_em": 100 * em / n,
            "open_f1": 100 * f1 / n,
            "open_answered": answered / n,
            # the answer as shipped: sentences where the classifier asks for them
            "open_em_shaped": 100 * shaped_em / n,
            "open_f1_shaped": 100 * shaped_f1 / n,
            "false_refusal_gold": refused_gold / n,
            "abstain_other_article": abstain_other / n,
            "abstain_silent": sil / len(silent_sample),
            "abstain_silent_by_swap": by_kind,
            "answer_stage_ms_p50": 1000 * statistics.median(lat),
        }
    return result


def shipped_part(
    settings: Settings, embedder: Any, baseline_reader: str | None = None, rules: bool = True
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with QA(settings, embedder=embedder) as qa:
        qa.ingest()
        baseline = with_baseline(qa, baseline_reader)
        for file in ("questions.jsonl", "holdout.jsonl"):
            rows = [json.loads(x) for x in (DATA / file).read_text().splitlines() if x.strip()]
            for name, answerer in answerers(qa, baseline, rules).items():
                contains = support = abstained = refused = contains_sentence = 0
                lengths, sentence_lengths = [], []
                answerable = [r for r in rows if r.get("answer")]
                for r in rows:
                    docs = qa.retrieve(r["question"])
                    a = answerer(r["question"], docs)
                    if not r.get("answer"):
                        abstained += a.abstained
                        continue
                    refs = [r["answer"], *r.get("aliases", [])]
                    refused += a.abstained
                    contains += containment(pred(a), refs)
                    # the alternative answer text: the cited sentence instead of the span
                    quote = a.citations[0].quote if a.citations else ""
                    contains_sentence += containment(quote, refs)
                    sup = r.get("support")
                    sups = sup if isinstance(sup, list) else [sup] if sup else []
                    support += any(s in c.passage for s in sups for c in a.citations)
                    if not a.abstained:
                        lengths.append(len(pred(a).split()))
                        sentence_lengths.append(len(quote.split()))
                unanswerable = len(rows) - len(answerable)
                out[f"{file} {name}"] = {
                    "containment": contains / len(answerable),
                    "support_in_citations": support / len(answerable),
                    "abstention": abstained / unanswerable if unanswerable else None,
                    "false_refusal": refused / len(answerable),
                    "median_words": statistics.median(lengths) if lengths else None,
                    "containment_if_sentence": contains_sentence / len(answerable),
                    "median_words_if_sentence": statistics.median(sentence_lengths)
                    if sentence_lengths
                    else None,
                }
        if baseline is not None:
            baseline.close()
    return out


def latency_part(qa: QA, questions: list[str]) -> dict[str, Any]:
    """Whole ``ask`` (retrieval + answer) per question, warm."""
    for q in questions[:3]:
        qa.ask(q)
    wall, cpu = [], []
    for q in questions:
        _, w, c = timed(qa.ask, q)
        wall.append(w)
        cpu.append(c)
    wall.sort()
    return {
        "chunks": len(qa.snapshot().chunks),
        "p50_ms": 1000 * statistics.median(wall),
        "p95_ms": 1000 * wall[int(0.95 * (len(wall) - 1))],
        "cpu_ms_per_question": 1000 * statistics.mean(cpu),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--workdir", type=Path, default=Path("/tmp/reader-bench"))
    p.add_argument("--n", type=int, default=400, help="SQuAD questions sampled (seeded)")
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--skip-20k", action="store_true")
    p.add_argument("--latency-questions", type=int, default=150)
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "reader.json")
    p.add_argument("--baseline-reader", help="another reader folder, compared in the same run")
    p.add_argument("--no-rules", action="store_true", help="leave the retired rules out")
    p.add_argument("--latency-only", action="store_true", help="(d) alone")
    args = p.parse_args()
    from rag.embed.embedder import Embedder

    embedder = Embedder()
    articles = load_articles()
    work = args.workdir
    corpus = work / "squad"
    write_corpus(articles, corpus)
    settings = Settings(corpus_dir=corpus, index_dir=work / "squad-index")
    results: dict[str, Any] = {}
    with QA(settings, embedder=embedder) as qa:
        qa.ingest()
        started = time.time()
        baseline = with_baseline(qa, args.baseline_reader)
        if not args.latency_only:
            results["squad"] = squad_part(
                qa, articles, args.n, args.seed, baseline, rules=not args.no_rules
            )
            print(f"squad part {time.time() - started:.0f} s", json.dumps(results["squad"]))
        _, _, evaluation = split(articles)
        rng = random.Random(args.seed + 1)
        lat_qs = [q["question"] for a in evaluation for p_ in a["paragraphs"] for q in p_["qas"]]
        lat_qs = rng.sample(lat_qs, args.latency_questions)
        results["latency_2k"] = latency_part(qa, lat_qs)
        print(json.dumps(results["latency_2k"]))
        if baseline is not None:  # measured after the new reader's, not interleaved
            results["latency_2k_baseline"] = latency_part(baseline, lat_qs)
            print(json.dumps(results["latency_2k_baseline"]))
            baseline.close()
    if not args.skip_20k:
        big = work / "squad20k"
        for copy in range(10):
            target = big / f"copy{copy}"
            if not target.exists():
                shutil.copytree(corpus, target)
        s20 = Settings(corpus_dir=big, index_dir=work / "squad20k-index")
        # copies share their texts: their vectors come from the 2k index's cache
        ingest(s20, embedder, cache_dir=settings.index_dir / "cache")
        with QA(s20, embedder=embedder) as qa:
            results["latency_20k"] = latency_part(qa, lat_qs)
            print(json.dumps(results["latency_20k"]))
    shipped = Settings(corpus_dir=work / "shipped", index_dir=work / "shipped-index")
    if not shipped.corpus_dir.exists():
        shutil.copytree(ROOT / "corpus", shipped.corpus_dir)
    if not args.latency_only:
        results["shipped"] = shipped_part(
            shipped, embedder, args.baseline_reader, rules=not args.no_rules
        )
        print(json.dumps(results["shipped"], indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
