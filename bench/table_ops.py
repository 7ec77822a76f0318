"""Questions about whole tables, answered over their own table: no retrieval, no reader.

    python -m bench.table_ops                          # 1,000 WikiTableQuestions train questions
    python -m bench.table_ops --split dev --n 300      # the 263 dev questions

What :func:`rag.read.answer_cell` does with WikiTableQuestions' cell questions when it is given
the right table, as the CSV loader renders it: how many it answers, how many of those answers
hold the reference cell, and how many it answers when asked of another table instead (each
question against the next sampled question's table), its false answers. ``bench.sources``
measures the same questions through ``rag.QA``, where retrieval must first find the table.
Train questions are fair here: the operations are rules, not learned, and the reader is not
involved.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.sources import sample  # noqa: E402
from rag.convert import load_csv  # noqa: E402
from rag.evaluation.metrics import containment  # noqa: E402
from rag.read import answer_cell, parse_table  # noqa: E402
from training.qa_sources import load_source, wtq_tables  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--split", choices=["train", "dev"], default="train")
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    train, dev = load_source("wtq")
    questions = sample(train if args.split == "train" else dev, args.n, args.seed)
    csv = wtq_tables()
    tables = {t: parse_table("\n".join(x for x, _ in load_csv(csv[t]).parts)) for t, _ in questions}
    answered = right = wrong_table = 0
    for (title, q), (other, _) in zip(questions, questions[1:] + questions[:1], strict=True):
        table = tables[title]
        cell = answer_cell(q["question"], table) if table else None
        if cell is not None:
            answered += 1
            refs = [a["text"] for a in q["answers"]]
            right += containment(table.rows[cell.row][cell.header], refs) > 0
        elsewhere = tables[other]
        wrong_table += bool(other != title and elsewhere and answer_cell(q["question"], elsewhere))
    result = {
        "split": args.split,
        "questions": len(questions),
        "seed": args.seed,
        "answered": answered,
        "right": right,
        "answered_from_another_table": wrong_table,
    }
    print(json.dumps(result))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
