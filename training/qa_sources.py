"""Every training source of the reader as SQuAD-schema articles, split by article into train/dev.

Reader v2 learns from six sources (``../shared/corpora/qa-train/README.md`` names them and
their licences): SQuAD v1.1 train, the 13 named SQuAD v1.1 dev articles, SQuADShifts New-Wiki
and Amazon reviews, QED over Natural Questions, WikiTableQuestions and TAT-QA. Each loader
turns its source into the one shape the example generators of :mod:`training.squad_data`
read, ``{"title", "paragraphs": [{"context", "qas": [{"id", "question", "answers"}]}]}``, so
every kind of no-answer example is made the same way from every source.

Tables are read as ``rag`` itself renders them: the CSV text goes through
:func:`rag.convert.office.load_csv` and a TAT-QA table's rows through
:func:`rag.convert.office.table_lines` (one line per row, ``"Header: value; Header: value."``), so
the reader is trained on exactly the text a user's spreadsheet becomes. Consecutive rows are grouped
into passages of about one
chunk; a question is kept when its answer is one cell that one row line holds (a count or a
sum is not a span).

The split is by article (a Wikipedia title, a review set, a table, a report), never by
question: a fixed hash of the title puts about 1 in 20 articles of a source into its dev split.
The 13 SQuAD dev articles keep their own split (Kenya as dev). A title is held out in every
source at once (:func:`dev_titles`), so a QED paragraph of a SQuAD dev article is not trained
on. Every passage that shares 12 consecutive words with the 35 evaluation articles is dropped
(lower-cased, punctuation and QED's tokenisation ignored), as is any article with one of
their titles however a source spells it (the shared data is already filtered by 60-character
sentences; this check is ours, and stricter).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from rag.convert.office import load_csv, table_lines
from training.squad_data import DEV_FILE, load_articles, split

QA_TRAIN = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpora" / "qa-train"
#: Source names, in the order the model card lists them.
SOURCES = ("squad-train", "squad-dev13", "newwiki", "amazon", "qed", "wtq", "tatqa")
#: About this many characters of table rows make one passage (a 300-token chunk).
TABLE_PASSAGE_CHARS = 1100
_DEV_BUCKETS = 20


def _gz_json(name: str) -> object:
    with gzip.open(QA_TRAIN / name, "rt", encoding="utf-8") as f:
        return json.load(f)


def _gz_lines(name: str) -> Iterator[dict]:
    with gzip.open(QA_TRAIN / name, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def _qa(qid: str, question: str, answer: str, start: int) -> dict:
    return {"id": qid, "question": question, "answers": [{"text": answer, "answer_start": start}]}


# -- the sources -----------------------------------------------------------------------------------
def squad_train() -> list[dict]:
    return _gz_json("squad-v1.1-train.json.gz")["data"]  # type: ignore[index]


def squad_dev13() -> list[dict]:
    train, dev, _ = split(load_articles())
    return train + dev


def newwiki() -> list[dict]:
    return _gz_json("squadshifts-new-wiki.json.gz")["data"]  # type: ignore[index]


def amazon() -> list[dict]:
    return _gz_json("squadshifts-amazon-reviews.json.gz")["data"]  # type: ignore[index]


def qed() -> list[dict]:
    """QED's examples grouped into articles by Wikipedia title, one paragraph per text."""
    articles: dict[str, dict[str, list[dict]]] = {}
    for name in ("qed-nq-train.jsonl.gz", "qed-nq-dev.jsonl.gz"):
        for x in _gz_lines(name):
            spans = x["answer_spans"]
            if len(spans) != 1:  # several spans answer together: not one span
                continue
            (start, end), text = spans[0], x["paragraph_text"]
            qa = _qa(str(x["example_id"]), x["question_text"], text[start:end], start)
            articles.setdefault(x["title_text"], {}).setdefault(text, []).append(qa)
    return [
        {"title": t, "paragraphs": [{"context": c, "qas": q} for c, q in ps.items()]}
        for t, ps in articles.items()
    ]


def _row_passages(lines: list[str]) -> list[str]:
    """Consecutive row lines joined into passages of about :data:`TABLE_PASSAGE_CHARS`."""
    out, current = [], []
    for line in lines:
        if current and sum(len(x) + 1 for x in current) + len(line) > TABLE_PASSAGE_CHARS:
            out.append("\n".join(current))
            current = []
        current.append(line)
    if current:
        out.append("\n".join(current))
    return out


def _cell_pattern(answer: str) -> re.Pattern[str]:
    """A whole cell in a row line.

    After ``": "``, ``" | "`` or the line start; before ``;``, ``|`` or the final full stop.
    """
    return re.compile(rf"(?:(?<=: )|(?<=\| )|^){re.escape(answer)}(?=; | \||\.?$)", re.M)


def _place(passages: list[str], answer: str) -> tuple[int, int] | None:
    """(passage, offset) of the one cell equal to ``answer``; None if none or several."""
    # no pattern for an answer no passage holds: 9,933 -> 7,538 compiled when WTQ loads
    holding = [i for i, p in enumerate(passages) if answer in p]
    if not holding:
        return None
    cell = _cell_pattern(answer)
    hits = [(i, m.start()) for i in holding for m in cell.finditer(passages[i])]
    return hits[0] if len(hits) == 1 else None


def _place_in_report(passages: list[str], tables: int, answer: str) -> tuple[int, int] | None:
    """(passage, offset) of the one place ``answer`` stands; None if none or several.

    A whole cell in the first ``tables`` passages (row lines), whole words in the paragraphs
    after them: "12" is not a label inside "2012".
    """
    words = re.compile(rf"(?<!\w){re.escape(answer)}(?!\w)")
    hits = [
        (i, m.start())
        for i, p in enumerate(passages)
        for m in (_cell_pattern(answer) if i < tables else words).finditer(p)
    ]
    return hits[0] if len(hits) == 1 else None


def wtq_tables() -> dict[str, str]:
    """WikiTableQuestions' tables: name -> CSV text."""
    return _gz_json("wtq-tables.json.gz")  # type: ignore[return-value]


def wtq() -> list[dict]:
    """WikiTableQuestions: each table, rendered by ``rag``'s CSV loader, is one article."""
    tables = wtq_tables()
    by_table: dict[str, list[dict]] = {}
    for x in _gz_lines("wtq-train.jsonl.gz"):
        by_table.setdefault(x["table"], []).append(x)
    articles = []
    for name, questions in by_table.items():
        try:
            lines = [text for text, _ in load_csv(tables[name]).parts]
        except Exception:  # noqa: BLE001 - a table rag itself would skip is no training text
            continue
        passages = _row_passages(lines)
        qas: list[list[dict]] = [[] for _ in passages]
        for x in questions:
            answer = x["answer"].strip()
            if "|" in answer or not answer:
                continue
            where = _place(passages, answer)
            if where:
                qas[where[0]].append(_qa(x["id"], x["question"], answer, where[1]))
        articles.append(
            {
                "title": name,
                "paragraphs": [
                    {"context": c, "qas": q} for c, q in zip(passages, qas, strict=True)
                ],
            }
        )
    return articles


def tatqa() -> list[dict]:
    """TAT-QA: a report's table rows (as ``rag`` renders them) and paragraphs; span answers."""
    reports = _gz_json("tatqa_dataset_dev.json.gz")
    articles = []
    for r in reports:  # type: ignore[union-attr]
        rows = [[str(c) for c in row] for row in r["table"]["table"]]
        lines = [line for _, line in table_lines(rows)]
        table = _row_passages(lines)
        passages = table + [p["text"] for p in r["paragraphs"]]
        qas: list[list[dict]] = [[] for _ in passages]
        for q in r["questions"]:
            if q["answer_type"] != "span" or len(q["answer"]) != 1:
                continue
            answer = str(q["answer"][0]).strip()
            where = _place_in_report(passages, len(table), answer) if answer else None
            if where:
                qas[where[0]].append(_qa(q["uid"], q["question"], answer, where[1]))
        articles.append(
            {
                "title": r["table"]["uid"],
                "paragraphs": [
                    {"context": c, "qas": q} for c, q in zip(passages, qas, strict=True)
                ],
            }
        )
    return articles


LOADERS = {
    "squad-train": squad_train,
    "squad-dev13": squad_dev13,
    "newwiki": newwiki,
    "amazon": amazon,
    "qed": qed,
    "wtq": wtq,
    "tatqa": tatqa,
}


# -- the evaluation articles stay out -----------------------------------------------------------
_WORD = re.compile(r"[^\W_]+")
#: A passage sharing this many consecutive words with an evaluation article is dropped.
SHINGLE = 12


def title_key(title: str) -> str:
    """A title as sources compare: ``Amazon_rainforest`` (SQuAD) = ``Amazon rainforest`` (QED)."""
    return " ".join(_WORD.findall(title.casefold()))


def _shingles(text: str) -> set[int]:
    """Hashes of every run of :data:`SHINGLE` words (case, punctuation, tokenisation ignored).

    QED writes "firm 's" where Wikipedia has "firm's": both are the words "firm" and "s".
    """
    w = _WORD.findall(text.casefold())
    # a tuple of the run's words (the shorter tails end it): what joining them hashed, built in C
    # (loading the seven sources, 19 s before, takes 14.5)
    return set(map(hash, zip(*(w[i:] for i in range(SHINGLE)), strict=False)))


@lru_cache(maxsize=1)
def evaluation_fingerprint(path: Path = DEV_FILE) -> tuple[frozenset[str], frozenset[int]]:
    """(title keys, 12-word shingles) of the 35 evaluation articles."""
    _, _, evaluation = split(load_articles(path))
    titles = frozenset(title_key(a["title"]) for a in evaluation)
    shingles = frozenset(h for a in evaluation for p in a["paragraphs"]
                         for h in _shingles(p["context"]))  # fmt: skip
    return titles, shingles


def touches_evaluation(title: str, passage: str) -> bool:
    """Whether a training passage is from, or quotes 12 words of, the 35 evaluation articles."""
    titles, shingles = evaluation_fingerprint()
    return title_key(title) in titles or not shingles.isdisjoint(_shingles(passage))


def clean(articles: list[dict]) -> list[dict]:
    """The articles without any paragraph of the evaluation articles, and without empty ones."""
    out = []
    for a in articles:
        kept = [p for p in a["paragraphs"] if not touches_evaluation(a["title"], p["context"])]
        if kept:
            out.append({**a, "paragraphs": kept})
    return out


# -- split ---------------------------------------------------------------------------------------
def _hashed_dev(source: str, title: str) -> bool:
    """Reader v2's split: a fixed hash of source and title (SQuAD dev: the named dev two)."""
    if source == "squad-dev13":
        return title in ("Kenya", "Chloroplast")
    digest = hashlib.sha256(f"{source}\0{title}".encode()).digest()
    return digest[0] % _DEV_BUCKETS == 0


@lru_cache(maxsize=len(SOURCES))
def _cleaned(source: str) -> tuple[dict, ...]:
    return tuple(clean(LOADERS[source]()))


@lru_cache(maxsize=1)
def dev_titles() -> frozenset[str]:
    """Title keys held out in every source.

    A title is dev when v2's hash put it in a source's dev split and no other source trains on
    it (QED quotes "Chloroplast" and five SQuAD-train titles): every dev article is unseen by
    reader v2, which a later reader warm-starts from, and by any source's train split.
    """
    trained: dict[str, set[str]] = {}
    held: set[tuple[str, str]] = set()
    for source in SOURCES:
        for a in _cleaned(source):
            key = title_key(a["title"])
            if _hashed_dev(source, a["title"]):
                held.add((source, key))
            else:
                trained.setdefault(key, set()).add(source)
    return frozenset(k for s, k in held if not trained.get(k, set()) - {s})


def is_dev(source: str, title: str) -> bool:
    """Whether an article is in the dev split (see :func:`dev_titles`)."""
    return _hashed_dev(source, title) and title_key(title) in dev_titles()


def load_source(source: str) -> tuple[list[dict], list[dict]]:
    """(train, dev) articles of one source, cleaned of the evaluation articles.

    Train leaves out every article whose title is dev in any source; dev is v2's dev split
    less the titles another source trains on.
    """
    held = dev_titles()
    articles = list(_cleaned(source))
    train = [a for a in articles if title_key(a["title"]) not in held]
    dev = [a for a in articles if is_dev(source, a["title"])]
    return train, dev


def load_all() -> dict[str, tuple[list[dict], list[dict]]]:
    return {s: load_source(s) for s in SOURCES}
