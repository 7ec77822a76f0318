"""Latency of the APIs against the library on the shipped page: what HTTP and JSON add.

One run, one machine, the same questions about corpus/ (the shipped page), interleaved so a
busy moment costs every path alike:

* ``QA.ask``: in process, models loaded (what every server request runs);
* ``POST /v1/chat/completions`` (OpenAI's client) and ``POST /api/v1/ask`` (httpx), against
  the real server (the web UI mounted in the API app, uvicorn, loopback);
* ``rag.ask``: the one-shot function, which loads the models and opens the index per call.

    .venv/bin/python -m bench.api_latency [--rounds 2] [--one-shot 5]

Prints p50/p90 per path and writes bench/results/api_latency.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import openai  # noqa: E402

import rag  # noqa: E402
from bench.common import load_average, percentile, table, write_json  # noqa: E402
from rag.embed.embedder import Embedder  # noqa: E402
from tests.api.apiserver import indexed, serve_app  # noqa: E402

#: ten questions about the shipped page (answered and not), each asked ``--rounds`` times
QUESTIONS = [
    "When did the Taliban seize Kabul?",
    "Who was named defense minister by Ghani?",
    "Which three countries hold a trilateral dialogue?",
    "When did Pakistan extend recognition to the Taliban regime?",
    "What did the Taliban do in 1994?",
    "Who did Karzai implicate in an assassination attempt?",
    "What is the main issue of contention between Afghanistan and Pakistan?",
    "Which commission is the main arena for discussing border issues?",
    "Who won the 2018 FIFA World Cup?",
    "What is the capital of Australia?",
]


def timed(fn: Callable[[str], object], question: str) -> float:
    started = time.perf_counter()
    fn(question)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="times each question is asked")
    parser.add_argument("--one-shot", type=int, default=5, help="rag.ask calls (slow: loads)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="api-latency-"))
    settings, qa = indexed(root, Embedder())
    with serve_app(settings, qa) as server:
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="-", max_retries=0)
        http = httpx.Client(base_url=server.url, timeout=120)

        def chat(question: str) -> object:
            message = {"role": "user", "content": question}
            return client.chat.completions.create(model="rag", messages=[message])

        def rest(question: str) -> object:
            response = http.post("/api/v1/ask", json={"question": question})
            response.raise_for_status()
            return response

        paths: dict[str, Callable[[str], object]] = {
            "QA.ask (in process)": qa.ask,
            "POST /v1/chat/completions": chat,
            "POST /api/v1/ask": rest,
        }
        for fn in paths.values():  # warm-up: first answers load lazily
            fn(QUESTIONS[0])
        times: dict[str, list[float]] = {name: [] for name in paths}
        for _ in range(args.rounds):
            for question in QUESTIONS:
                for name, fn in paths.items():
                    times[name].append(timed(fn, question))
        http.close()
    one_shot = {"corpus_dir": settings.corpus_dir, "index_dir": settings.index_dir}
    times["rag.ask (one-shot: loads models)"] = [
        timed(lambda q: rag.ask(q, **one_shot), QUESTIONS[i % len(QUESTIONS)])
        for i in range(args.one_shot)
    ]
    qa.close()
    rows = []
    summary = {}
    base = statistics.median(times["QA.ask (in process)"])
    for name, values in times.items():
        p50 = statistics.median(values)
        p90 = percentile(values, 0.9)
        summary[name] = {"n": len(values), "p50_ms": round(p50, 1), "p90_ms": round(p90, 1)}
        rows.append([name, len(values), f"{p50:.0f}", f"{p90:.0f}", f"{p50 - base:+.0f}"])
    table("API latency on the shipped page (ms)", ["path", "n", "p50", "p90", "p50 - QA.ask"], rows)
    write_json("api_latency", {"load": load_average(), "paths": summary})


if __name__ == "__main__":
    main()
