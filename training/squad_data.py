"""SQuAD v1.1 dev split into training, dev and evaluation articles, and no-answer examples.

The issue that asked for the reader names the 13 articles it may be trained on; the other 35
are the evaluation set and are never read by training, tuning or calibration. Two of the 13
are kept aside as our own dev split (model selection and the abstention threshold).

SQuAD v1.1 has no unanswerable questions, so three kinds are made here (the SQuAD 2.0 idea):

* *related but silent*: the question with a year, number or name swapped for another one of
  the same article that the paragraph does not mention ("... in 2019?" against a passage
  about 2018), paired with its own paragraph. The hardest kind, and what users meet most:
  passages on the right topic that do not hold the answer.
* the paragraph with the answer's sentence removed (same topic, same words, no answer);
* the BM25-closest paragraph of another article (and of the same article) that does not
  contain any reference answer, and the closest of another article by the retriever's dense
  embedding.

``bench/reader.py`` builds its related-but-silent evaluation questions from the 35 evaluation
articles with the same :func:`swap_entity`.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.read import names_in

TRAIN_ARTICLES = (
    "Super_Bowl_50",
    "Nikola_Tesla",
    "Teacher",
    "Martin_Luther",
    "Apollo_program",
    "Newcastle_upon_Tyne",
    "Victoria_and_Albert_Museum",
    "American_Broadcasting_Company",
    "Genghis_Khan",
    "Doctor_Who",
    "Kenya",
    "Chloroplast",
    "United_Methodist_Church",
)
#: Of the 13, kept aside for model selection and calibration.
DEV_ARTICLES = ("Kenya", "Chloroplast")

DEV_FILE = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpora" / "squad-v1.1-dev"
DEV_FILE = DEV_FILE / "dev-v1.1.json"


@dataclass(frozen=True)
class Example:
    """A question over one passage; ``answers`` empty means the passage does not answer it."""

    qid: str
    article: str
    question: str
    passage: str
    answers: tuple[str, ...]
    kind: str  # answerable | silent | removed | other-article | same-article | entity | dense
    starts: tuple[int, ...] = ()  # character offset of each answer in the passage
    source: str = "squad-dev13"  # which training source (training.qa_sources.SOURCES)

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def load_articles(path: Path = DEV_FILE) -> list[dict]:
    return json.loads(Path(path).read_text(encoding="utf-8"))["data"]


def split(articles: list[dict]) -> tuple[list[dict], list[dict], list[dict]]:
    """(train, dev, evaluation) articles; evaluation is everything not named for training."""
    train = [a for a in articles if a["title"] in TRAIN_ARTICLES and a["title"] not in DEV_ARTICLES]
    dev = [a for a in articles if a["title"] in DEV_ARTICLES]
    evaluation = [a for a in articles if a["title"] not in TRAIN_ARTICLES]
    return train, dev, evaluation


def answerable(articles: Iterable[dict], source: str = "squad-dev13") -> Iterator[Example]:
    for a in articles:
        for p in a["paragraphs"]:
            for q in p["qas"]:
                refs = {x["text"]: x["answer_start"] for x in q["answers"]}
                yield Example(
                    q["id"],
                    a["title"],
                    q["question"],
                    p["context"],
                    tuple(refs),
                    "answerable",
                    tuple(refs.values()),
                    source,
                )


# -- related but silent: swap a year, number or name ----------------------------------------------
_YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})\b")
_NUMBER = re.compile(r"\b\d[\d,.]*\b")


def entities(text: str) -> dict[str, list[str]]:
    """The years, numbers and names of ``text``: the values a related-but-silent swap replaces."""
    years = _YEAR.findall(text)
    numbers = [n for n in _NUMBER.findall(text) if n not in years and len(n.strip(",.")) > 0]
    return {"year": years, "number": [n.strip(",.") for n in numbers], "name": names_in(text)}


def article_entities(article: dict) -> dict[str, list[str]]:
    """Every year, number and name of an article, in order of first appearance."""
    pool: dict[str, list[str]] = {"year": [], "number": [], "name": []}
    for p in article["paragraphs"]:
        for kind, values in entities(p["context"]).items():
            pool[kind].extend(values)
    return {k: list(dict.fromkeys(v)) for k, v in pool.items()}


def swap_entity(
    question: str, passage: str, pool: dict[str, list[str]], rng: random.Random
) -> str | None:
    """The question with one of its years, numbers or names swapped; None if it has none.

    The swapped-out value is one the passage mentions; the new one is another of the
    article's that the passage never mentions.
    """
    low = passage.lower()
    options: list[tuple[str, str]] = []
    for kind, values in entities(question).items():
        for value in values:
            if value.lower() in low:
                options.append((kind, value))
    rng.shuffle(options)
    for kind, value in options:
        candidates = [
            v
            for v in pool[kind]
            if v.lower() not in low and v.lower() not in question.lower() and v != value
        ]
        if kind == "name":  # a name for a name of the same length reads naturally
            candidates = [v for v in candidates if len(v.split()) == len(value.split())]
        if candidates:
            new = rng.choice(candidates)
            return re.sub(rf"\b{re.escape(value)}\b", new, question, count=1)
    return None


def silent(
    articles: Iterable[dict], seed: int = 0, source: str = "squad-dev13"
) -> Iterator[Example]:
    """Related-but-silent questions: each paired with the paragraph it was written for."""
    rng = random.Random(seed)
    for a in articles:
        pool = article_entities(a)
        for p in a["paragraphs"]:
            for q in p["qas"]:
                new = swap_entity(q["question"], p["context"], pool, rng)
                if new:
                    yield Example(
                        q["id"] + "-silent", a["title"], new, p["context"], (), "silent", (), source
                    )


# -- other no-answer passages ---------------------------------------------------------------
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])|\n")


def remove_answer_sentences(passage: str, answers: tuple[str, ...]) -> str | None:
    """The passage without every sentence (or table row) holding an answer; None if little left."""
    sentences = _SENTENCE_END.split(passage)
    kept = [s for s in sentences if not any(a.lower() in s.lower() for a in answers)]
    text = ("\n" if "\n" in passage else " ").join(kept)
    if len(kept) < 2 or any(a.lower() in text.lower() for a in answers):
        return None
    return text


def contains_any(text: str, answers: tuple[str, ...]) -> bool:
    low = text.lower()
    return any(a.lower() in low for a in answers)


def removed_negatives(examples: Iterable[Example]) -> list[Example]:
    """Each question against its own passage with the answer's sentences (or rows) removed."""
    out = []
    for e in examples:
        text = remove_answer_sentences(e.passage, e.answers)
        if text:
            out.append(Example(e.qid + "-removed", e.article, e.question, text, (), "removed",
                               (), e.source))  # fmt: skip
    return out


def retrieved_negatives(examples: list[Example], articles: list[dict]) -> list[Example]:
    """Per question, the BM25-closest paragraphs that hold none of its answers.

    One of another article, one of its own article (not its own paragraph).
    """
    import bm25s

    if not examples:
        return []
    paragraphs = [(a["title"], p["context"]) for a in articles for p in a["paragraphs"]]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([t for _, t in paragraphs], stopwords="en", show_progress=False),
                    show_progress=False)  # fmt: skip
    queries = bm25s.tokenize([e.question for e in examples], stopwords="en", show_progress=False)
    hits, _ = retriever.retrieve(
        queries, k=min(8, len(paragraphs)), show_progress=False, n_threads=2
    )
    out = []
    for e, row in zip(examples, hits, strict=True):
        found = {"other-article": None, "same-article": None}
        for i in row:
            title, text = paragraphs[int(i)]
            if text == e.passage or contains_any(text, e.answers):
                continue
            kind = "same-article" if title == e.article else "other-article"
            if found[kind] is None:
                found[kind] = text
        for kind, text in found.items():
            if text:
                out.append(Example(e.qid + "-" + kind, e.article, e.question, text, (), kind,
                                   (), e.source))  # fmt: skip
    return out


def dense_negatives(
    examples: list[Example],
    articles: list[dict],
    encode: Callable[[list[str]], np.ndarray],
    limit: int = 8000,
    seed: int = 0,
) -> list[Example]:
    """Per question, the paragraph of another article closest by the retriever's embedding.

    ``rag`` retrieves with dense vectors as well as BM25, so the other articles' passages a
    reader meets at run time are often close in meaning without sharing words: those are the
    ones it answered from (bench/reader.py, "other articles' passages"). ``encode`` maps texts
    to unit vectors; at most ``limit`` paragraphs of the source (a seeded sample) are searched.
    """
    if not examples:
        return []
    paragraphs = [(a["title"], p["context"]) for a in articles for p in a["paragraphs"]]
    if len(paragraphs) > limit:
        paragraphs = random.Random(seed).sample(paragraphs, limit)
    vectors = encode([t for _, t in paragraphs])
    out = []
    for i in range(0, len(examples), 512):
        chunk = examples[i : i + 512]
        scores = encode([e.question for e in chunk]) @ vectors.T
        for e, row in zip(chunk, scores, strict=True):
            for j in np.argsort(-row, kind="stable")[:8]:
                title, text = paragraphs[int(j)]
                if title != e.article and not contains_any(text, e.answers):
                    out.append(Example(e.qid + "-dense", e.article, e.question, text, (),
                                       "dense", (), e.source))  # fmt: skip
                    break
    return out


def entity_negatives(
    examples: Iterable[Example], articles: list[dict], seed: int = 0
) -> list[Example]:
    """SQuAD 2.0's hardest kind: a passage that names the question's entity but not the answer.

    The question asks for an attribute (a date, a place, a number) of something a name in it
    points to; another paragraph of the same article that mentions that name, and holds none
    of the answers, talks about the entity without giving what is asked.
    """
    rng = random.Random(seed)
    by_article = {a["title"]: [p["context"] for p in a["paragraphs"]] for a in articles}
    out = []
    for e in examples:
        names = [n for n in names_in(e.question) if len(n) > 3]
        if not names:
            continue
        candidates = [
            p
            for p in by_article.get(e.article, ())
            if p != e.passage and any(n in p for n in names) and not contains_any(p, e.answers)
        ]
        if candidates:
            out.append(Example(e.qid + "-entity", e.article, e.question, rng.choice(candidates),
                               (), "entity", (), e.source))  # fmt: skip
    return out
