"""Questions about whole tables, answered over their own table: no retrieval, no reader.

    python -m bench.table_ops                          # 1,000 WikiTableQuestions train questions
    python -m bench.table_ops --split dev --n 300      # the 263 dev questions

What :func:`rag.read.answer_cell` does with WikiTableQuestions' cell questions when it is given
the right table, as the CSV loader renders it: how many it answers, how many of those answers
hold the reference cell, and how many it answers when asked of another table instead (each
question against the next sampled question's table), its false answers. The same for the
questions that count rows (:func:`rag.read.table_counts.counted_rows`), whose count is right
when it is the reference. ``bench.sources``
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
from rag.read import answer_cell, counted_rows, parse_table  # noqa: E402
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
    answered = right = wrong_table = counted = counted_right = counted_elsewhere = 0
    for (title, q), (other, _) in zip(questions, questions[1:] + questions[:1], strict=True):
        table = tables[title]
        refs = [a["text"] for a in q["answers"]]
        rows = counted_rows(q["question"], table) if table else None
        cell = answer_cell(q["question"], table) if table and rows is None else None
        if rows is not None:  # the answerer counts first (rag.read.whole_table)
            counted += 1
            counted_right += containment(str(len(rows)), refs) > 0
        if cell is not None:
            answered += 1
            right += containment(table.rows[cell.row][cell.header], refs) > 0
        elsewhere = tables[other] if other != title else None
        if elsewhere is not None:
            counts_there = counted_rows(q["question"], elsewhere) is not None
            counted_elsewhere += counts_there
            wrong_table += not counts_there and answer_cell(q["question"], elsewhere) is not None
    result = {
        "split": args.split,
        "questions": len(questions),
        "seed": args.seed,
        "answered": answered,
        "right": right,
        "answered_from_another_table": wrong_table,
        "counted": counted,
        "counted_right": counted_right,
        "counted_from_another_table": counted_elsewhere,
    }
    print(json.dumps(result))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
