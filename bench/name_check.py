"""What the name and relation checks cost: answerable questions they refuse over their paragraph.

    python -m bench.name_check               # up to 20,000 train questions a source
    python -m bench.name_check --n 2000      # quicker

Each source's training questions (never read while the check was built) are put to
:func:`rag.read.passages_naming` with the paragraph that answers them, its article's title as
the document's title: every refusal there is a false one. Beside it, how often the paragraph
and title lack one of the question's names written whole, which is what a stricter check
would refuse (README "A name no passage mentions"). And the relation check
(:func:`rag.read.words_relation`), with the sentence holding the question's first answer as
the reader's span (README "A relation no sentence words"). No reader and no retrieval: through
``rag.QA`` the other retrieved passages of a document can only add words to the name check.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from langchain_core.documents import Document  # noqa: E402

from bench.common import table  # noqa: E402
from rag.read import passages_naming, question_names, sentence_of, words_relation  # noqa: E402
from training.qa_sources import SOURCES, load_source  # noqa: E402
from training.squad_data import answerable  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=20000, help="questions a source, at most")
    args = p.parse_args()
    rows = []
    for source in SOURCES:
        train, _ = load_source(source)
        n = whole = refused = unworded = 0
        examples: list[str] = []
        relations: list[str] = []
        for e in itertools.islice(answerable(train, source), args.n):
            n += 1
            title = e.article.replace("_", " ")
            text = f"{title}\n{e.passage}".lower()
            whole += any(name.lower() not in text for name in question_names(e.question))
            if passages_naming(e.question, [Document(e.passage, metadata={"title": title})]) == []:
                refused += 1
                if len(examples) < 3:
                    examples.append(e.question)
            start = e.starts[0] if e.starts else e.passage.find(e.answers[0])
            cited = sentence_of(e.passage, start, start + len(e.answers[0]))
            if not words_relation(e.question, e.passage, cited):
                unworded += 1
                if len(relations) < 2:
                    relations.append(e.question)
        shares = [f"{k / n:.4f}" if n else "-" for k in (whole, refused, unworded)]
        rows.append([source, str(n), *shares, " | ".join(examples), " | ".join(relations)])
    heads = ["source", "questions", "a name missing whole", "refused by the name check",
             "refused by the relation check", "e.g. (names)", "e.g. (relations)"]  # fmt: skip
    table("The checks over answerable questions and their own paragraph", heads, rows)


if __name__ == "__main__":
    main()
