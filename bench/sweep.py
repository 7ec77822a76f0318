"""``python -m bench.sweep``: ingest levers, each against the baseline in the same run.

For every configuration (a set of :class:`rag.Settings` overrides, optionally with torch's
dynamic int8 quantisation of the embedding model), a fresh process ingests the PEP sample and
the SQuAD dev paragraphs with a cold vector cache; then SQuAD paragraph recall@1/@5 and MRR@10
are measured on the same sampled questions as the baseline's. Ratios are ours / baseline in
wall time and in CPU time (the work done, which other load on a shared machine does not
change). Int8 rows also report how often the dense top-1 chunk of a question matches the
float32 index built with the same settings.

Writes ``bench/results/sweep.json``.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bench.common import RESULTS, console, isolated, load_average, table, write_json

#: name -> (Settings overrides, int8 quantisation: "" | "all" | "attention").
#: Chunks are 200 tokens with 40 of overlap unless the name says cSIZE-oOVERLAP; headN embeds
#: the first N tokens of what ``embed_words`` keeps, "whole" all of it.
CONFIGS: dict[str, tuple[dict[str, Any], str]] = {
    "full": ({"embed_tokens": 0}, ""),
    "no-overlap": ({"embed_tokens": 0, "chunk_overlap": 0}, ""),
    "no-context": ({"embed_tokens": 0, "embed_context": False}, ""),
    "int8-all": ({"embed_tokens": 0}, "all"),
    "int8-attention": ({"embed_tokens": 0}, "attention"),
}
for _words in ("all", "words", "distinct", "content"):
    for _size, _overlap in ((200, 40), (200, 0), (256, 0), (300, 0)):
        for _head in (0, 128, 96, 64):
            _name = (
                ("" if (_size, _overlap) == (200, 40) else f"c{_size}-o{_overlap}-")
                + ("" if _words == "all" else f"{_words}-")
                + (f"head{_head}" if _head else "whole")
            )
            CONFIGS.setdefault(
                _name,
                (
                    {
                        "chunk_size": _size,
                        "chunk_overlap": _overlap,
                        "embed_tokens": _head,
                        "embed_words": _words,
                    },
                    "",
                ),
            )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sweep", description=__doc__)
    parser.add_argument("--configs", default="", help="comma-separated names (default: all)")
    parser.add_argument("--list", action="store_true", help="print the configurations")
    parser.add_argument("--peps", type=int, default=30, help="PEP files (0 = all)")
    parser.add_argument("--squad-paragraphs", type=int, default=0, help="0 = all 2,067")
    parser.add_argument(
        "--parts", default="peps,squad", help="peps (ingest time), squad (time and quality)"
    )
    parser.add_argument("--quality-questions", type=int, default=500)
    parser.add_argument("--work", type=Path, default=RESULTS / "sweep-work")
    args = parser.parse_args()
    if args.list:
        for name, (overrides, quantize) in CONFIGS.items():
            console.print(f"{name}: {overrides} {('int8 ' + quantize) if quantize else ''}")
        return
    names = [n.strip() for n in args.configs.split(",") if n.strip()] or list(CONFIGS)
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        parser.error(f"unknown configurations {unknown}; see --list")
    result = sweep(names, args)
    write_json("sweep", result)


def sweep(names: list[str], args: argparse.Namespace) -> dict[str, Any]:
    from bench import baseline, corpora, runs
    from bench.quality import scores

    if args.work.exists():
        shutil.rmtree(args.work)
    args.work.mkdir(parents=True)
    model_cache = args.work / "cache" / "rag"
    parts = {p.strip() for p in args.parts.split(",")}
    peps = corpora.copy_files(corpora.pep_files(args.peps), args.work / "peps")
    squad, questions = corpora.squad(args.work / "squad", args.squad_paragraphs)
    sample = corpora.sample(questions, args.quality_questions) if "squad" in parts else []
    gold = [q.source for q in sample]
    corpora_used = [(c, k) for c, k in ((peps, "peps"), (squad, "squad")) if k in parts]
    load_before = load_average()
    console.print(f"[bold]sweep[/]: load {load_before}; {len(sample)} SQuAD questions")

    from rag.embed.embedder import Embedder

    embedder = Embedder(cache_dir=model_cache)
    embedder.export_onnx()  # once; not part of any timed run

    base = {
        key: isolated(runs.baseline_ingest, str(corpus), str(args.work / f"base-{key}"))
        for corpus, key in corpora_used
    }
    base_q: dict[str, float] = {}
    if sample:
        store = baseline.open_store(args.work / "base-squad", baseline.embeddings())
        base_q = scores([baseline.ranked_sources(store, q.text, 10) for q in sample], gold)
    rows = [_row("baseline (LangChain tutorial)", base, base_q, base)]
    out: dict[str, Any] = {
        "load_before": load_before,
        "peps": args.peps,
        "questions": len(sample),
        "baseline": {**base, "quality": base_q},
        "configs": {},
    }
    top1: dict[str, list[str]] = {}
    for i, name in enumerate(names):
        overrides, quantize = CONFIGS[name]
        work = args.work / f"c{i:02d}"
        result: dict[str, Any] = {"overrides": overrides, "quantize": quantize}
        for corpus, key in corpora_used:
            result[key] = isolated(
                runs.ours_ingest,
                str(corpus),
                str(work / key),
                str(model_cache),
                str(work / f"vectors-{key}"),
                overrides,
                quantize,
            )
            shutil.rmtree(work / f"vectors-{key}", ignore_errors=True)
        if sample:
            ranked, dense_top1 = _rank(work / "squad", squad, overrides, embedder, sample)
            result["quality"] = scores(ranked, gold)
            key = repr(sorted(overrides.items()))
            if not quantize:
                top1[key] = dense_top1
            elif key in top1:
                same = sum(a == b for a, b in zip(dense_top1, top1[key], strict=True))
                result["top1_agreement_vs_fp32"] = same / len(sample)
        result["load_after"] = load_average()
        out["configs"][name] = result
        rows.append(_row(name, result, result.get("quality", {}), base))
        rows[-1].append(result.get("top1_agreement_vs_fp32", ""))
        console.print(f"{name}: {rows[-1]}")
        shutil.rmtree(work, ignore_errors=True)
    out["load_after"] = load_average()
    table(
        f"Ingest levers ({args.peps or 'all'} PEPs; SQuAD {len(sample)} questions; load "
        f"{load_before} -> {out['load_after']})",
        [
            "configuration",
            "PEP s",
            "PEP wall ratio",
            "PEP CPU ratio",
            "PEP Mtok",
            "SQuAD s",
            "SQuAD wall ratio",
            "SQuAD Mtok",
            "R@1",
            "R@5",
            "MRR@10",
            "top-1 = fp32",
        ],
        [r + [""] * (12 - len(r)) for r in rows],
    )
    return out


def _rank(
    index: Path, corpus: Path, overrides: dict[str, Any], embedder: Any, sample: list[Any]
) -> tuple[list[list[str]], list[str]]:
    """Sources ranked by our retriever (top 10) and the dense top-1 chunk of each question."""
    from rag import QA, Settings

    settings = Settings(
        corpus_dir=corpus, index_dir=index, top_k=10, auto_ingest=False, **overrides
    )
    with QA(settings, embedder=embedder) as qa:
        ranked = [
            list(dict.fromkeys(d.metadata["source"] for d in qa.retrieve(q.text))) for q in sample
        ]
        reader = qa.snapshot()
        top1 = [reader.vectors.query(embedder.encode([q.text])[0], 1)[0][0] for q in sample]
    return ranked, top1


def _row(name: str, runs: dict[str, Any], q: dict[str, float], base: dict[str, Any]) -> list[Any]:
    row: list[Any] = [name]
    for key in ("peps", "squad"):
        if key not in runs:
            row += ["", "", ""] if key == "squad" else ["", "", "", ""]
            continue
        r, b = runs[key], base[key]
        row += [r["seconds"], r["seconds"] / b["seconds"]]
        if key == "peps":
            row += [r["cpu_seconds"] / b["cpu_seconds"], r.get("embedded_tokens", 0) / 1e6 or ""]
        else:
            row += [r.get("embedded_tokens", 0) / 1e6 or ""]
    return [*row, q.get("recall@1", ""), q.get("recall@5", ""), q.get("mrr@10", "")]


if __name__ == "__main__":
    main()
