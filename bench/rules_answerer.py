"""The rule-based answerer that the learned reader replaced, kept as the benchmarks' baseline.

Until the reader (``rag/read/answerer.py``), this was the default answerer; ``bench/reader.py``
measures the two side by side. It is not part of the package.

It scores every sentence of the retrieved passages against the question (embedding similarity
plus IDF-weighted term overlap), takes the best one as evidence, and answers with it. For
questions that ask for a date, a number or a name it answers with just that span when the
evidence sentence offers exactly one that fits; when it offers several and nothing says which
one is meant, the sentence itself is the shortest answer that is sure to be right.

Because the answer is a quote, it cannot hallucinate; what it can do is answer when the
documents are silent, which the abstention threshold (calibrated on questions with and
without answers) guards against.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import Enum

import numpy as np
from langchain_core.documents import Document

from rag.embed.embedder import Embedder
from rag.results import ABSTAIN_TEXT, Answer, Citation
from rag.text.sentences import sentence_spans
from rag.text.words import analyze

#: Abstain below this confidence unless the index stores a calibrated value
#: (``rag eval --calibrate``). Set from the calibration on tests/data/questions.jsonl.
DEFAULT_THRESHOLD = 0.44

_DENSE_WEIGHT = 0.6
_LEXICAL_WEIGHT = 0.4
_UNTYPED_PENALTY = 0.5  # a "when" question's evidence must hold a date to answer it
_CONTEXT_WEIGHT = 0.5  # terms found only in the antecedent sentence count half
_RELATION_PENALTY = 0.65  # "Who founded X?" answered by a sentence that never says "founded"
_PRESELECT = 4  # sentences embedded per question (the rest are ranked lexically out)
_RELATION_CHECKED = 2  # best sentences checked for the relation (each costs a small embedding)
_SYNONYM = 0.5  # word-embedding similarity that counts as naming the same relation
_FOCUS_WEIGHT = 2.0  # the word right after "what/which/who": what the question is about
_ANAPHOR = re.compile(
    r"^(?:these|this|that|those|they|their|them|both|it|its|he|she|his|her|such|the\s+two"
    r"|each\s+of\s+them|the\s+latter|the\s+former)\b",
    re.I,
)
_MIN_WORDS = 4


class QuestionType(Enum):
    """The kind of answer a question asks for."""

    DATE = "date"
    NUMBER = "number"
    PERSON = "person"
    PLACE = "place"
    OTHER = "other"


_TYPE_PATTERNS: list[tuple[QuestionType, re.Pattern[str]]] = [
    (
        QuestionType.NUMBER,
        re.compile(
            r"\bhow\s+(many|much)\b|\bwhat\s+(number|percentage|percent|share|amount|proportion)\b"
            r"|\bhow\s+(old|large|big|tall|high|far|long)\b(?!\s+ago)",
            re.I,
        ),
    ),
    (
        QuestionType.DATE,
        re.compile(
            r"^\W*when\b|\b(what|which)\s+(year|date|day|month|decade|century|time)\b"
            r"|\bin\s+(what|which)\s+(year|month|decade)\b|\bhow\s+long\s+ago\b"
            r"|\bsince\s+when\b|,\s*when\b",
            re.I,
        ),
    ),
    (
        QuestionType.PERSON,
        re.compile(
            r"^\W*(who|whom|whose)\b|\b(who|whom|whose)\W*$"
            r"|\b(which|what)\s+(person|president|minister|leader|official|politician|man|woman"
            r"|author|general|king|queen|prime\s+minister|organi[sz]ation|group|country)\b",
            re.I,
        ),
    ),
    (
        QuestionType.PLACE,
        re.compile(
            r"^\W*where\b|\b(which|what)\s+(city|town|country|place|region|province|state"
            r"|capital|area|village|continent)\b",
            re.I,
        ),
    ),
]

_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan\.|Feb\.|Mar\.|Apr\.|Jun\.|Jul\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.)"
)
_DATE = re.compile(
    rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+\d{{4}}\b"
    rf"|\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b"
    rf"|\b{_MONTH},?\s+\d{{4}}\b"
    rf"|\b\d{{4}}-\d{{2}}-\d{{2}}\b|\b\d{{1,2}}/\d{{1,2}}/\d{{2,4}}\b"
    rf"|\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b"
    rf"|\b(?:(?:early|mid|late)[\s-]+)?(?:1[0-9]{{3}}|20[0-9]{{2}})s?\b"
    rf"|\b(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)\s+century\b"
)
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen"
    "|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty"
    "|ninety|hundred|thousand|million|billion|dozen|hundreds|thousands|millions|billions"
)
_NUMBER = re.compile(
    rf"(?:\$|€|£)?\b\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?\b|(?:\$|€|£)?\b\d+(?:\.\d+)?\b"
    rf"(?:\s*(?:%|percent\b|per\s+cent\b|million\b|billion\b|thousand\b))?"
    rf"|\b(?:{_NUMBER_WORDS})(?:[\s-]+(?:{_NUMBER_WORDS}|and))*\b",
    re.I,
)
_YEAR = re.compile(r"^(?:1[0-9]{3}|20[0-9]{2})$")
_WORD = re.compile(r"[\w][\w'\u2019.]*")
_CONNECTORS = {"of", "al", "bin", "de", "da", "del", "van", "von", "la", "le"}
_NOT_NAMES = {
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "I",
    "A",
}


_WH_WORD = re.compile(r"\b(?:what|which|who|whom|whose|when|where|why|how)\b", re.I)
_GENERIC_HEADS = {"kind", "type", "sort", "level", "part", "way", "thing", "name"}


def focus_term(question: str) -> str | None:
    """What the question asks about: the first content word after its question word.

    "population" in "What is the population of X?", "founded" in "Who founded X?". Generic
    heads ("what kind of ...") pass the focus to the next word.
    """
    match = _WH_WORD.search(question)
    rest = question[match.end() :] if match else question
    for word in re.findall(r"[^\W\d_][\w'\u2019-]*", rest):
        if word.lower() in _GENERIC_HEADS:
            continue
        stems = analyze(word)
        if stems:
            return stems[0]
    return None


_AUXILIARY = {
    "is",
    "was",
    "are",
    "were",
    "be",
    "been",
    "did",
    "does",
    "do",
    "has",
    "have",
    "had",
    "will",
    "would",
    "can",
    "could",
    "should",
    "may",
    "might",
    "must",
    "shall",
    "kind",
    "type",
    "sort",
}
# "Who founded ...", "What makes ..." (but not "What role did ...": a noun, so a category)
_RELATION_VERB = re.compile(
    r"^\W*(?:who\s+(?P<who>[a-z]\w*)|what\s+(?P<what>[a-z]\w*)\s+(?P<next>\w+))\b", re.I
)
_RELATION_ATTR = re.compile(  # "What is the population of ..."
    r"\b(?:who|what)\s+(?:is|was|are|were)\s+the\s+(?P<words>(?:[\w-]+\s+){1,3}?)of\b", re.I
)
_RELATION_OWNED = re.compile(r"\b\w+['\u2019]s\s+(?P<word>[a-z][\w-]*)")  # "X's predecessor"
_RELATION_PASSIVE = re.compile(  # "Which agency is accused of ...", "What was built in ..."
    r"^\W*(?:which|what)\b[^?]*?\b(?:is|was|are|were|been)\s+"
    r"(?P<word>[a-z]\w*(?:ed|en|wn|lt|ght))\b",
    re.I,
)


def _best_first(item: Scored) -> tuple[float, int, int]:
    """Highest score first; ties go to the better-ranked passage, then the earlier sentence."""
    return (-item.score, item.sentence.rank, item.sentence.start)


def relation_terms(question: str) -> list[str]:
    """Words naming the relation a question asks about, which evidence must mention.

    "Who founded X?" asks about founding, "What is the population of X?" about population,
    "Who was X's predecessor?" about a predecessor, "Which agency is accused of ..." about an
    accusation. A sentence about X that never mentions the relation is not an answer, however
    well it matches X. Category words ("which country") are not relations: the answer names a
    country without saying "country".
    """
    words: list[str] = []
    if verb := _RELATION_VERB.search(question):
        word = verb["who"] or verb["what"]
        noun_phrase = verb["what"] and verb["next"].lower() in _AUXILIARY | {"of"}
        if word.lower() not in _AUXILIARY | _GENERIC_HEADS and not noun_phrase:
            words.append(word)
    if attr := _RELATION_ATTR.search(question):
        named = [w for w in attr["words"].split() if w.lower() not in _GENERIC_HEADS]
        if not named:  # "the name of the disputed line": the relation is what follows
            after = question[attr.end() :].split()[:4]
            named = [w.strip("?,.") for w in after if w.lower() not in {"the", "a", "an"}]
        words.extend(named)
    if owned := _RELATION_OWNED.search(question):
        words.append(owned["word"])
    if passive := _RELATION_PASSIVE.search(question):
        words.append(passive["word"])
    return [w for w in words if analyze(w)]


def question_type(question: str) -> QuestionType:
    """Classify what the question asks for, from its wording."""
    for kind, pattern in _TYPE_PATTERNS:
        if pattern.search(question):
            return kind
    return QuestionType.OTHER


@dataclass(frozen=True)
class _Sentence:
    source: str
    start: int  # offsets in the document; ``start`` includes an antecedent sentence, if any
    end: int
    text: str  # the sentence itself
    doc: Document
    rank: int
    context: str = ""  # the sentence before, when this one opens with "These", "Both", ...

    @property
    def quote(self) -> str:
        return (
            f"{self.context}{self.text}"
            if not self.context
            else self.doc.page_content[
                self.start - self.doc.metadata["start"] : self.end - self.doc.metadata["start"]
            ]
        )


@dataclass(frozen=True)
class Scored:
    """A candidate evidence sentence and why it scored as it did."""

    sentence: _Sentence
    dense: float
    lexical: float
    typed: bool
    score: float


class ExtractiveAnswerer:
    """Answer by quoting retrieved text.

    Args:
        embedder: used to compare the question with each candidate sentence.
        idf: weight of a stemmed term (rare terms say more about relevance).
        doc_text: full cleaned text of a source, to verify every quote's offsets.
        threshold: confidence below which it abstains.
    """

    name = "rules"

    def __init__(
        self,
        embedder: Embedder,
        idf: Callable[[str], float],
        doc_text: Callable[[str], str],
        threshold: float,
    ) -> None:
        self.embedder = embedder
        self.idf = idf
        self.doc_text = doc_text
        self.threshold = threshold

    def __call__(self, question: str, passages: Sequence[Document], *, query: str = "") -> Answer:
        query = query or question
        ranked = self.rank_sentences(query, passages)
        if not ranked or ranked[0].score < self.threshold:
            return Answer(
                text=ABSTAIN_TEXT,
                abstained=True,
                question=question,
                query=query,
                score=ranked[0].score if ranked else 0.0,
                answerer=self.name,
            )
        best = ranked[0]
        span = short_answer(query, best.sentence.text, self._proper_words(passages))
        citation = self._citation(1, best)
        text = f"{span or best.sentence.quote} [1]"
        return Answer(
            text=text,
            abstained=False,
            citations=[citation],
            question=question,
            query=query,
            score=best.score,
            answerer=self.name,
        )

    def rank_sentences(self, query: str, passages: Sequence[Document]) -> list[Scored]:
        """Candidate sentences of ``passages``, best evidence first.

        Every sentence is scored lexically; only the most promising ones (lexical score plus
        their passage's dense similarity) are embedded, which keeps an answer's cost flat
        however long the passages are.
        """
        sentences = _sentences(passages)
        if not sentences:
            return []
        terms = list(dict.fromkeys(analyze(query)))
        focus = focus_term(query)
        weights = (
            np.array([self.idf(t) * (_FOCUS_WEIGHT if t == focus else 1.0) for t in terms])
            if terms
            else np.zeros(0)
        )
        total = float(weights.sum())
        kind = question_type(query)
        relation = relation_terms(query)
        known = [d.metadata.get("dense_score") for d in passages]
        floor = min((x for x in known if x is not None), default=0.0)
        prelim = []
        for sentence in sentences:
            lexical = _overlap(
                terms, weights, total, analyze(sentence.text), analyze(sentence.context)
            )
            typed = kind is QuestionType.OTHER or bool(fitting(query, kind, sentence.text))
            passage_dense = sentence.doc.metadata.get("dense_score")
            guess = _DENSE_WEIGHT * (floor if passage_dense is None else passage_dense)
            guess += _LEXICAL_WEIGHT * lexical
            prelim.append((guess * (1.0 if typed else _UNTYPED_PENALTY), sentence, lexical, typed))
        prelim.sort(key=lambda item: -item[0])
        prelim = prelim[:_PRESELECT]
        vectors = self.embedder.encode([query, *(item[1].text for item in prelim)])
        dense = vectors[1:] @ vectors[0]
        scored = []
        for (_, sentence, lexical, typed), similarity in zip(prelim, dense, strict=True):
            score = _DENSE_WEIGHT * float(similarity) + _LEXICAL_WEIGHT * lexical
            if not typed:
                score *= _UNTYPED_PENALTY
            scored.append(Scored(sentence, float(similarity), lexical, typed, score))
        scored.sort(key=_best_first)
        # Check the best sentences for the relation; when penalties reorder them, the new
        # leaders are checked too, so an unchecked sentence never wins by default.
        checked: set[tuple[str, int]] = set()
        while relation:
            head = [
                i
                for i, item in enumerate(scored[:_RELATION_CHECKED])
                if (item.sentence.source, item.sentence.start) not in checked
            ]
            if not head:
                break
            judged = self._check_relation(relation, [scored[i] for i in head])
            for i, item in zip(head, judged, strict=True):
                scored[i] = item
                checked.add((item.sentence.source, item.sentence.start))
            scored.sort(key=_best_first)
        return scored

    def _check_relation(self, relation: list[str], head: list[Scored]) -> list[Scored]:
        """Penalise evidence that never mentions the asked-about relation.

        A near-synonym counts ("implicated" for "accused" passes, "disrupted" for "founded"
        does not), judged by word-embedding similarity in one small batch.
        """
        pending: list[tuple[int, list[str], list[str]]] = []  # (index, missing, words)
        for i, item in enumerate(head):
            text = f"{item.sentence.context} {item.sentence.text}"
            stems = set(analyze(text))
            missing = [w for w in relation if not any(_has(t, stems) for t in analyze(w))]
            if len(missing) == len(relation):
                # Lower-case words only: names ("Karzai", "President Zardari") are what the
                # question is about, never the relation it asks for.
                found = re.findall(r"[^\W\d_]{3,}", text)
                words = {w for w in found if w[0].islower() and analyze(w)}
                pending.append((i, missing, sorted(words)))
        if not pending:
            return head
        vocabulary = sorted({w for _, missing, words in pending for w in (*missing, *words)})
        vectors = dict(zip(vocabulary, self.embedder.encode(vocabulary), strict=True))
        out = list(head)
        for i, missing, words in pending:
            best = max(
                (float(vectors[m] @ vectors[w]) for m in missing for w in words), default=0.0
            )
            if best < _SYNONYM:
                out[i] = replace(head[i], score=head[i].score * _RELATION_PENALTY)
        return out

    def _citation(self, n: int, scored: Scored) -> Citation:
        s = scored.sentence
        quote = s.quote
        if self.doc_text(s.source)[s.start : s.end] != quote:
            raise AssertionError(f"quote offsets do not match {s.source}[{s.start}:{s.end}]")
        meta = s.doc.metadata
        return Citation(
            n=n,
            source=s.source,
            quote=quote,
            start=s.start,
            end=s.end,
            passage=s.doc.page_content,
            score=round(scored.score, 4),
            title=meta.get("title", ""),
            page=meta.get("page"),
            chunk_id=meta.get("chunk_id", ""),
            passage_start=meta["start"],
        )

    @staticmethod
    def _proper_words(passages: Sequence[Document]) -> set[str]:
        """Capitalised words seen in mid-sentence: names, as opposed to sentence starters."""
        words: set[str] = set()
        for doc in passages:
            for match in re.finditer(
                r"(?<=[\w,;:)\u2019'] )([A-Z][\w'\u2019-]*)", doc.page_content
            ):
                words.add(match.group(1))
        return words


def _sentences(passages: Sequence[Document]) -> list[_Sentence]:
    seen: set[tuple[str, int, int]] = set()
    out: list[_Sentence] = []
    for rank, doc in enumerate(passages):
        base = doc.metadata["start"]
        source = doc.metadata["source"]
        previous: tuple[int, int] | None = None
        for start, end in sentence_spans(doc.page_content):
            text = doc.page_content[start:end]
            prior, previous = previous, (start, end)
            key = (source, base + start, base + end)
            if key in seen or len(text.split()) < _MIN_WORDS:
                continue
            seen.add(key)
            context, first = "", start
            if prior is not None and _ANAPHOR.match(text):
                first = prior[0]
                context = doc.page_content[prior[0] : start]
            out.append(_Sentence(source, base + first, base + end, text, doc, rank, context))
    return out


def _overlap(
    terms: list[str], weights: np.ndarray, total: float, words: list[str], context: list[str]
) -> float:
    """IDF-weighted share of the question's terms that the sentence contains.

    Stems match when equal or when one extends the other ("recogn"/"recognit"); terms that only
    the antecedent sentence holds count half.
    """
    if total <= 0:
        return 0.0
    own, near = set(words), set(context)
    hit = 0.0
    for term, weight in zip(terms, weights, strict=True):
        if _has(term, own):
            hit += float(weight)
        elif _has(term, near):
            hit += _CONTEXT_WEIGHT * float(weight)
    return hit / total


def _has(term: str, words: set[str]) -> bool:
    if term in words:
        return True
    if len(term) < 5:
        return False
    return any(
        w.startswith(term[:5]) and (w.startswith(term) or term.startswith(w))
        for w in words
        if len(w) >= 5
    )


def candidates(
    kind: QuestionType, sentence: str, proper: set[str] | None = None
) -> list[tuple[int, int]]:
    """Spans of ``sentence`` that could answer a question of this kind."""
    if kind is QuestionType.DATE:
        return [m.span() for m in _DATE.finditer(sentence)]
    if kind is QuestionType.NUMBER:
        return [m.span() for m in _NUMBER.finditer(sentence) if m.group().strip()]
    if kind in (QuestionType.PERSON, QuestionType.PLACE):
        return _names(sentence, proper)
    return []


_UNITS = re.compile(
    r"^\W*(?:\w+\W+){0,2}?(?:years?|months?|weeks?|days?|hours?|minutes?|seconds?|decades?"
    r"|centuries|kilomet(?:er|re)s?|km|miles?|met(?:er|re)s?|m|feet|foot|ft|inch(?:es)?|kg"
    r"|kilograms?|tons?|tonnes?|pounds?|lbs?|percent|%|dollars?|euros?|acres?|hectares?)\b",
    re.I,
)
_MEASURE = re.compile(r"\bhow\s+(old|large|big|tall|high|far|long|wide|deep|heavy)\b", re.I)


def fitting(question: str, kind: QuestionType, sentence: str) -> list[tuple[int, int]]:
    """Candidates that fit what the question asks.

    A measurement ("how long") needs a unit; a name must not be one the question already says.
    """
    spans = candidates(kind, sentence)
    if kind is QuestionType.NUMBER:
        spans = [(s, e) for s, e in spans if not _YEAR.match(sentence[s:e].strip())]
        if _MEASURE.search(question):
            spans = [(s, e) for s, e in spans if _UNITS.match(sentence[e:])]
    elif kind in (QuestionType.PERSON, QuestionType.PLACE):
        q_terms = set(analyze(question))
        spans = [(s, e) for s, e in spans if not set(analyze(sentence[s:e])) <= q_terms]
    return spans


def _names(sentence: str, proper: set[str] | None) -> list[tuple[int, int]]:
    """Runs of capitalised words (with connectors like "of" or "al" inside)."""
    words = [
        (m.start(), m.end(), m.group().rstrip("."))
        for m in re.finditer(r"[^\s\u2013\u2014/-]+", sentence)
    ]
    spans: list[tuple[int, int]] = []
    run: list[tuple[int, int]] = []

    def close() -> None:
        while run and sentence[run[-1][0] : run[-1][1]].strip(".,;:()\"'").lower() in _CONNECTORS:
            run.pop()
        if run:
            spans.append((run[0][0], run[-1][1]))
        run.clear()

    for i, (start, _end, raw) in enumerate(words):
        token = raw.strip(",;:()\"'\u201c\u201d\u2018")
        lead = len(raw) - len(raw.lstrip(",;:()\"'\u201c\u201d\u2018"))
        capital = bool(token) and token[0].isupper() and token not in _NOT_NAMES
        if capital and i == 0 and proper is not None and token not in proper:
            capital = False
        if capital:
            run.append((start + lead, start + lead + len(token)))
        elif run and token.lower() in _CONNECTORS:
            run.append((start + lead, start + lead + len(token)))
            continue
        else:
            close()
            continue
        if raw.endswith((",", ";", ":", ")", ".")) and not _looks_abbreviation(raw):
            close()
    close()
    return spans


def _looks_abbreviation(raw: str) -> bool:
    return bool(re.fullmatch(r"(?:[A-Z]\.){2,}|[A-Z][a-z]?\.", raw))


def short_answer(question: str, sentence: str, proper: set[str] | None = None) -> str | None:
    """The one span of ``sentence`` that answers a date/number/name question, if unambiguous."""
    kind = question_type(question)
    if kind is QuestionType.OTHER:
        return None
    q_terms = set(analyze(question))
    spans = [
        (s, e)
        for s, e in _dedupe(candidates(kind, sentence, proper))
        if not set(analyze(sentence[s:e])) <= q_terms or not analyze(sentence[s:e])
    ]
    if kind is QuestionType.NUMBER:
        spans = [(s, e) for s, e in spans if not _YEAR.match(sentence[s:e].strip())]
        # "How many American troops": prefer the number that counts the thing asked about.
        counted = [(s, e) for s, e in spans if _followed_by(sentence, e, q_terms)]
        spans = counted or spans
    if len(spans) != 1:
        return None
    start, end = spans[0]
    return sentence[start:end].strip()


def _dedupe(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Drop spans contained in a longer one."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans, key=lambda x: (x[0], -x[1])):
        if out and s >= out[-1][0] and e <= out[-1][1]:
            continue
        out.append((s, e))
    return out


def _followed_by(sentence: str, end: int, terms: set[str], window: int = 3) -> bool:
    following = analyze(" ".join(sentence[end:].split()[:window]))
    return any(t in terms for t in following)
