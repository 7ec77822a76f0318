"""Answer shape (issue 20): descriptive, two-part, follow-up and PEP questions, plus factoids.

Run as ``python -m bench.answer_shape --workdir /tmp/shape``. It copies a fixed slice of the
shared corpora (:data:`PEPS` and the eight PDFs) and the shipped page into ``--workdir``,
indexes each once (later runs reuse the index; ingest is incremental, so a changed chunking
rebuilds what it must), then asks, with the current code and settings:

- ``bench/questions/descriptive.jsonl`` (explain/describe/list/why questions and two-part
  "Who ..., and when?" questions with written reference answers): semantic similarity to the
  reference (the packaged embedding model, as ``rag eval`` scores it) counted over answered
  questions and with a refusal counted as 0, token recall, false refusals, median answer
  words; split by tag too;
- ``bench/questions/followups.jsonl``: the first question, then the follow-up with the first
  turn as ``history`` (as the web UI passes it: ``(question, answer text)`` pairs); whether
  the second answer contains the reference (``rag.evaluation.metrics.containment``) and what
  was searched for;
- ``bench/questions/peps.jsonl``: the right PEP cited (by any citation, and by the first) and
  containment;
- the shipped and holdout questions (``tests/data/questions.jsonl``, ``holdout.jsonl``) over
  the shipped page: median answer words, containment, support in citations.

Prints one table and writes ``answer_shape.json`` (headline numbers, every follow-up answer,
the commit measured) and one ``rag eval`` report per set (``report-<set>.json``, every answer
and citation) into ``--workdir``. ``--sets descriptive,followups`` runs a subset. The first run
indexes the slice (about 3 minutes on two busy cores); the five sets then take about 7
minutes there (265 questions), far less on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

from bench.common import console, table

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "bench" / "questions"
SHARED = ROOT / ".." / "shared" / "corpora"

#: The PEPs the slice indexes: every PEP the question sets name (so each has its document)
#: and nothing else, 44 of them; with the eight shared PDFs.
PEPS = (
    8, 20, 234, 238, 255, 257, 282, 289, 308, 318, 328, 342, 343, 380, 435, 448, 450, 465, 484,
    492, 498, 515, 519, 526, 557, 572, 584, 585, 604, 616, 618, 634, 654, 657, 673, 678, 695,
    701, 3105, 3107, 3119, 3129, 3135, 3156,
)  # fmt: skip


def _copy(files: list[Path], corpus: Path) -> None:
    """Copy the files flat into ``corpus`` (unchanged ones are left, so the index stays)."""
    corpus.mkdir(parents=True, exist_ok=True)
    for src in files:
        dst = corpus / src.name
        if not dst.exists() or dst.stat().st_size != src.stat().st_size:
            shutil.copy2(src, dst)


def slice_files() -> list[Path]:
    peps = [SHARED / "peps" / f"pep-{n:04d}.rst" for n in PEPS]
    missing = [p.name for p in peps if not p.exists()]
    if missing:
        raise SystemExit(f"shared PEPs missing: {', '.join(missing)}")
    return peps + sorted((SHARED / "pdfs").glob("*.pdf"))


def words(text: str) -> int:
    return len(text.split())


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def _answer_words(questions: list[Any]) -> list[float]:
    """Words of each given answer (markers removed), refusals left out."""
    from rag.evaluation.metrics import strip_citations

    return [float(words(strip_citations(q.answer))) for q in questions if not q.abstained]


def descriptive_scores(report: Any, tag: str | None = None) -> dict[str, Any]:
    """Headline numbers of the descriptive set (or the questions with ``tag``)."""
    qs = [q for q in report.questions if q.answerable and (tag is None or tag in q.tags)]
    sims = [q.metrics.get("semantic_similarity") for q in qs]
    answered = [s for s, q in zip(sims, qs, strict=True) if not q.abstained and s is not None]
    with_refusals = [0.0 if q.abstained or s is None else s for s, q in zip(sims, qs, strict=True)]
    recall = [q.metrics.get("token_recall") for q in qs]
    return {
        "questions": len(qs),
        "semantic_similarity_answered": mean(answered),
        "semantic_similarity_refusal_0": mean(with_refusals),
        "token_recall": mean([r for r in recall if r is not None]),
        "false_refusals": sum(q.abstained for q in qs) / len(qs) if qs else None,
        "median_words": median(_answer_words(qs)),
        "right_source_cited": mean([float(_cited(q, first=False)) for q in qs]),
    }


def _cited(q: Any, *, first: bool) -> bool:
    """Whether the question's expected document is cited (by its first citation if ``first``)."""
    cites = sorted(q.citations, key=lambda c: c["n"])
    if first:
        cites = cites[:1]
    return any(c["source"] in q.sources for c in cites)


def pep_scores(report: Any) -> dict[str, Any]:
    qs = report.questions
    return {
        "questions": len(qs),
        "right_pep_cited": mean([float(_cited(q, first=False)) for q in qs]),
        "right_pep_cited_first": mean([float(_cited(q, first=True)) for q in qs]),
        "contains": report.metrics.get("containment"),
        "false_refusals": report.metrics.get("false_refusal_rate"),
        "median_words": median(_answer_words(report.questions)),
    }


def factoid_scores(report: Any) -> dict[str, Any]:
    return {
        "questions": len(report.questions),
        "median_words": median(_answer_words(report.questions)),
        "contains": report.metrics.get("containment"),
        "support": report.metrics.get("support_in_citations"),
        "false_refusals": report.metrics.get("false_refusal_rate"),
        "abstention": report.metrics.get("abstention_rate"),
    }


def followups(qa_by_corpus: dict[str, Any], path: Path) -> tuple[dict[str, Any], list[dict]]:
    """Ask each pair as a two-turn conversation; score the second answer."""
    from rag.evaluation.metrics import containment, strip_citations
    from rag.evaluation.questions import load_questions

    rows = []
    for q in load_questions(path):
        qa = qa_by_corpus[q.extra["corpus"]]
        first = qa.ask(q.extra["first"])
        second = qa.ask(q.question, [(q.extra["first"], first.text)])
        prediction = "" if second.abstained else strip_citations(second.text)
        rows.append(
            {
                "id": q.id,
                "corpus": q.extra["corpus"],
                "first": q.extra["first"],
                "first_answer": first.text,
                "followup": q.question,
                "searched_for": second.query,
                "answer": second.text,
                "expected": q.references,
                "abstained": second.abstained,
                "contains": containment(prediction, q.references),
                "right_source_cited": any(c.source in q.sources for c in second.citations),
            }
        )
    scores = {
        "pairs": len(rows),
        "contains": mean([r["contains"] for r in rows]),
        "right_source_cited": mean([float(r["right_source_cited"]) for r in rows]),
        "refusals": mean([float(r["abstained"]) for r in rows]),
    }
    for corpus in ("shipped", "slice"):
        scores[f"contains_{corpus}"] = mean([r["contains"] for r in rows if r["corpus"] == corpus])
    return scores, rows


SETS = ("descriptive", "followups", "peps", "shipped", "holdout")


def _tree_state() -> dict[str, Any]:
    """The commit measured and whether the working tree had uncommitted changes."""
    import subprocess

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "dirty": bool(git("status", "-s", "-uno")),
    }


def run(workdir: Path, sets: tuple[str, ...] = SETS) -> dict[str, Any]:
    from rag import QA, Settings
    from rag.embed.embedder import Embedder
    from rag.evaluation import evaluate

    workdir.mkdir(parents=True, exist_ok=True)
    corpora = {
        "slice": slice_files(),
        "shipped": sorted(p for p in (ROOT / "corpus").iterdir() if p.is_file()),
    }
    settings: dict[str, Any] = {}
    for name, files in corpora.items():
        _copy(files, workdir / name / "corpus")
        settings[name] = Settings(
            corpus_dir=workdir / name / "corpus", index_dir=workdir / name / "index"
        )
    embedder = Embedder(settings["slice"].embedding_model)
    timings: dict[str, float] = {}
    for name, s in settings.items():
        started = time.perf_counter()
        with QA(s, embedder=embedder) as qa:
            qa.ingest()
        timings[f"ingest_{name}"] = round(time.perf_counter() - started, 1)

    reports = {}
    for name, file, corpus in (
        ("descriptive", QUESTIONS / "descriptive.jsonl", "slice"),
        ("peps", QUESTIONS / "peps.jsonl", "slice"),
        ("shipped", ROOT / "tests" / "data" / "questions.jsonl", "shipped"),
        ("holdout", ROOT / "tests" / "data" / "holdout.jsonl", "shipped"),
    ):
        if name not in sets:
            continue
        started = time.perf_counter()
        reports[name] = evaluate(file, settings[corpus], ingest=False, embedder=embedder)
        timings[name] = round(time.perf_counter() - started, 1)
        (workdir / f"report-{name}.json").write_text(
            json.dumps(reports[name].to_dict(), indent=1, ensure_ascii=False)
        )
    result: dict[str, Any] = {}
    follow_rows: list[dict] = []
    if "descriptive" in reports:
        result["descriptive"] = descriptive_scores(reports["descriptive"])
        result["descriptive_only"] = descriptive_scores(reports["descriptive"], "descriptive")
        result["two_part"] = descriptive_scores(reports["descriptive"], "two-part")
    if "followups" in sets:
        started = time.perf_counter()
        qas = {name: QA(s, embedder=embedder) for name, s in settings.items()}
        try:
            result["followups"], follow_rows = followups(qas, QUESTIONS / "followups.jsonl")
        finally:
            for qa in qas.values():
                qa.close()
        timings["followups"] = round(time.perf_counter() - started, 1)
    if "peps" in reports:
        result["peps"] = pep_scores(reports["peps"])
    for name in ("shipped", "holdout"):
        if name in reports:
            result[name] = factoid_scores(reports[name])
    result["seconds"] = timings
    result["tree"] = _tree_state()
    (workdir / "answer_shape.json").write_text(
        json.dumps({**result, "followup_answers": follow_rows}, indent=1, ensure_ascii=False)
    )
    return result


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def show(result: dict[str, Any]) -> None:
    rows = []
    for section, scores in result.items():
        if section in ("seconds", "tree"):
            continue
        for metric, value in scores.items():
            rows.append([section, metric, _fmt(value)])
    table("Answer shape (issue 20), current code", ["set", "metric", "value"], rows)
    console.print("seconds: " + ", ".join(f"{k} {v}" for k, v in result["seconds"].items()))
    tree = result["tree"]
    where = tree["commit"] or "an unknown commit (no git checkout)"
    console.print(f"measured at {where}" + (" (uncommitted changes)" if tree["dirty"] else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/shape"))
    parser.add_argument(
        "--sets",
        default=",".join(SETS),
        help=f"comma-separated subset of {','.join(SETS)} (default: all)",
    )
    args = parser.parse_args()
    sets = tuple(s.strip() for s in args.sets.split(",") if s.strip())
    unknown = sorted(set(sets) - set(SETS))
    if unknown:
        parser.error(f"unknown set(s) {', '.join(unknown)}; choose from {', '.join(SETS)}")
    show(run(args.workdir, sets))


if __name__ == "__main__":
    main()
