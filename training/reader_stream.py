"""The training stream of the reader: which questions, and which no-answer passages.

Split from :mod:`training.train_reader` (the loop) so the data choices read on their own. The
stream is a pure function of the data, the arguments and the seed, which is what lets a killed
run resume on the same batches.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from training.qa_sources import SOURCES
from training.relations import relation_negatives
from training.retyped import retyped_negatives
from training.squad_data import (
    Example,
    answerable,
    dense_negatives,
    entity_negatives,
    removed_negatives,
    retrieved_negatives,
    silent,
)

log = logging.getLogger(__name__)

#: Share of each source in the question stream (renormalised over the sources that remain).
DEFAULT_MIX = (
    "squad-train=0.40,squad-dev13=0.04,newwiki=0.12,amazon=0.14,qed=0.12,wtq=0.12,tatqa=0.06"
)
#: Share of each no-answer kind among the no-answer windows (where a question has that kind);
#: readers v2 and v3 were trained with these.
DEFAULT_NEGATIVES = "silent=0.3,entity=0.2,same-article=0.15,other-article=0.15,removed=0.2"
KINDS = ("silent", "entity", "same-article", "other-article", "removed", "dense", "retyped",
         "relation")  # fmt: skip


def parse_mix(text: str, known: tuple[str, ...] = SOURCES) -> dict[str, float]:
    """``name=share,...`` into a dict, refusing names outside ``known``."""
    mix = {k: float(v) for k, v in (part.split("=") for part in text.split(","))}
    unknown = set(mix) - set(known)
    if unknown:
        raise SystemExit(f"unknown names in {text!r}: {sorted(unknown)}")
    return mix


def question_stream(
    pools: dict[str, list[Example]], mix: dict[str, float], n: int, rng: random.Random
) -> list[Example]:
    """``n`` distinct questions drawn from the pools in the proportions of ``mix``.

    A source that runs out leaves the draw; the others share its weight.
    """
    left = {s: rng.sample(pool, len(pool)) for s, pool in pools.items() if mix.get(s, 0) > 0}
    out: list[Example] = []
    while len(out) < n and left:
        names = list(left)
        source = rng.choices(names, weights=[mix[s] for s in names])[0]
        out.append(left[source].pop())
        if not left[source]:
            del left[source]
    return out


def negatives_for(
    questions: list[Example],
    articles: dict[str, list[dict]],
    seed: int,
    encode: Callable[[list[str]], np.ndarray] | None = None,
    cache: Path | None = None,
) -> dict[str, list[Example]]:
    """Every no-answer kind for the chosen questions, per kind.

    Retyped questions ("which *river*" for "which *city*", :mod:`training.retyped`) and
    reworded ones ("*successor*" for "*predecessor*", :mod:`training.relations`) are made from
    every training question of a source, since few questions have a word to swap.

    The dense kind needs ``encode`` (without it, it stays empty): it embeds up to 8,000
    paragraphs a source (minutes on two cores); ``cache`` keeps them for a resumed run, keyed
    by the chosen questions.
    """
    kinds: dict[str, list[Example]] = {k: [] for k in KINDS}
    chosen = {e.qid for e in questions}
    for source, arts in articles.items():
        mine = [e for e in questions if e.source == source]
        if not mine:
            continue
        titles = {e.article for e in mine}
        near = [a for a in arts if a["title"] in titles]
        kinds["silent"] += [
            e for e in silent(near, seed, source) if e.qid.removesuffix("-silent") in chosen
        ]
        kinds["removed"] += removed_negatives(mine)
        kinds["entity"] += entity_negatives(mine, near, seed)
        every = list(answerable(arts, source))
        kinds["retyped"] += retyped_negatives(every, seed)
        kinds["relation"] += relation_negatives(every, seed)
        for e in retrieved_negatives(mine, arts):
            kinds[e.kind].append(e)
    if encode is not None:
        kinds["dense"] = _dense(questions, articles, seed, encode, cache)
    return kinds


def _dense(
    questions: list[Example],
    articles: dict[str, list[dict]],
    seed: int,
    encode: Callable[[list[str]], np.ndarray],
    cache: Path | None,
) -> list[Example]:
    key = hashlib.sha256("".join(sorted(e.qid for e in questions)).encode()).hexdigest()[:16]
    if cache is not None and cache.exists():
        saved = json.loads(cache.read_text())
        if saved["key"] == key:
            return [Example(**{**x, "answers": (), "starts": ()}) for x in saved["examples"]]
    out = []
    for source, arts in articles.items():
        mine = [e for e in questions if e.source == source]
        out += dense_negatives(mine, arts, encode, seed=seed)
        log.info("dense negatives: %s done (%d so far)", source, len(out))
    if cache is not None:
        rows = [{k: getattr(e, k) for k in ("qid", "article", "question", "passage", "kind",
                                             "source")} for e in out]  # fmt: skip
        cache.write_text(json.dumps({"key": key, "examples": rows}))
    return out


def pick_negatives(
    kinds: dict[str, list[Example]], shares: dict[str, float], n: int, rng: random.Random
) -> list[Example]:
    """``n`` no-answer examples in the proportions of ``shares``."""
    out = []
    for kind, share in shares.items():
        pool = kinds[kind]
        out += rng.sample(pool, min(len(pool), round(share * n)))
    return out


#: Sources whose article titles name their documents (Wikipedia pages, search results); the
#: others are numbered review sets, table files and report ids, no title a question would ask.
TITLED_SOURCES = ("squad-train", "squad-dev13", "newwiki", "qed")
_KINDS_OF_DOCUMENT = ("article", "page", "document")
#: A wh-question embeds as "which page says <question>"; other questions do not read well.
_WH_START = re.compile(r"^(?:who|whom|whose|what|when|where|which|why|how)\b", re.IGNORECASE)
#: "Which article mentions <answer>?" only for an answer of a few words.
_MENTION_WORDS = 5


def which_document(
    questions: list[Example], articles: dict[str, list[dict]], n: int, rng: random.Random
) -> list[Example]:
    """Up to ``n`` which-document examples, half answered by the title in front of the passage.

    The answerer reads a "which document" question ("Which PEP introduced the walrus
    operator?") over passages with their document's title in front
    (:meth:`rag.read.answerer.ExtractiveAnswerer.find`, ``titled``), and the title is the
    answer. No source has such questions, and readers trained on (v4, v5) read the title less
    surely than v3 did. Made here from a question and its paragraph: "Which article says who
    ...?" or "Which page mentions <answer>?" over the title, a blank line and the paragraph
    is answered by the title; the same question over another article's titled paragraph that
    holds none of the answers is not.
    """
    pool = [e for e in questions if e.source in TITLED_SOURCES]
    titled = {s: [(a["title"], p["context"]) for a in articles[s] for p in a["paragraphs"]]
              for s in TITLED_SOURCES if s in articles}  # fmt: skip
    out: list[Example] = []
    for e in rng.sample(pool, min(len(pool), n)):
        asked = _which_question(e, rng)
        if asked is None:
            continue
        if rng.random() < 0.5:
            title = _title(e.article)
            out.append(Example(e.qid + "-which", e.article, asked, f"{title}\n\n{e.passage}",
                               (title,), "which-document", (0,), e.source))  # fmt: skip
            continue
        other, text = rng.choice(titled[e.source])
        if other == e.article or any(a in text for a in e.answers):
            continue
        out.append(Example(e.qid + "-which-not", other, asked, f"{_title(other)}\n\n{text}",
                           (), "which-document", (), e.source))  # fmt: skip
    return out


def _title(article: str) -> str:
    """An article's name as its document's title ("Super_Bowl_50" -> "Super Bowl 50")."""
    return article.replace("_", " ")


def _which_question(e: Example, rng: random.Random) -> str | None:
    """A which-document question: "Which page says who ...?" or "Which article mentions X?"."""
    kind = rng.choice(_KINDS_OF_DOCUMENT)
    body = e.question.strip().rstrip("?").strip()
    answer = e.answers[0].strip().rstrip(".")
    if _WH_START.match(body) and rng.random() < 0.5:
        verb = rng.choice(("says", "tells", "explains"))
        return f"Which {kind} {verb} {body[0].lower()}{body[1:]}?"
    if len(answer.split()) <= _MENTION_WORDS:
        return f"Which {kind} {rng.choice(('mentions', 'talks about'))} {answer}?"
    return None
