"""The default answerer: a learned reader picks the answer span, the answer quotes the corpus.

For a question and its retrieved passages it cuts every passage into the reader's windows,
reads the most promising ones in one batch (:class:`rag.read.model.ReaderModel`), and takes the
span with the largest no-answer margin across them. Below the calibrated threshold it
abstains. Otherwise the answer is the span itself (a name, a date, a number, a short phrase)
or, when the question asks to explain or describe, the sentence that holds it; the citation
is always that sentence, an exact slice of the cleaned document. A question that asks *which
document* ("Which PEP introduced ...?") is answered with the document's title.

Which of the two shapes a question wants is measured, not guessed from its first word: a
classifier over the question's embedding (:mod:`rag.read.shape`). An explain/describe/list
question gets up to three evidence sentences (:mod:`rag.read.evidence`), each cited where it
comes from; a two-part question ("Who ..., and when?") gets each part answered.

Because every answer is a quote, it cannot make things up; what it can get wrong is which
quote, and whether the passages answer at all, which is what the reader was trained for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from langchain_core.documents import Document

from rag.protocols import Answerer
from rag.read.citing import citation
from rag.read.confidence import confidence_label
from rag.read.evidence import Evidence, headings, select, sentence_of
from rag.read.headers import fields_as_row, own_names, passage_ranks, read_questions
from rag.read.mentions import mentioned
from rag.read.model import ReaderModel
from rag.read.relations import RELATION_ABSTAINER, words_relation
from rag.read.shape import (
    ShapeModel,
    asks_for_a_name,
    asks_to_explain,
    asks_which_document,
    joined,
    split_two_part,
)
from rag.read.tables import cell_span, focus_rows
from rag.read.whole_table import counted, whole_table_cell
from rag.read.windows import Span, Window, balanced
from rag.results import ABSTAIN_TEXT, Answer, Citation
from rag.retrieve import named_passages, reading_query
from rag.retrieve.resolve import resolve
from rag.text.sentences import sentence_spans
from rag.text.whitespace import one_line
from rag.text.words import analyze

#: ``Answer.answerer`` of a cell read from a whole table (rag.read.table_ops): the threshold
#: does not decide it, so ``rag eval --calibrate`` leaves its score out.
TABLE_ANSWERER = "extractive:table"
#: Windows read per question: the cost of an answer grows with it (see README "The reader").
DEFAULT_WINDOWS = 6
#: How much a window's passage rank counts against the question terms it holds.
_RANK_STEP = 0.1
#: How far below the bar a "which document" answer may be: on 20 which-PEP questions over 38
#: PEPs, the right PEP's title read at margins down to -2.27, while 6 of 8 questions no PEP
#: answers read at -2.6 or below (see README "Answer shape").
WHICH_DOCUMENT_SLACK = 1.5
#: How far below the bar an answer of evidence sentences may be: the reader was trained on
#: spans, and is less sure of where an explanation starts and ends than of a name. On the 53
#: descriptive questions of bench/questions/descriptive.jsonl, 8 were refused at the
#: calibrated bar and 4 of them read within 1.0 of it (README "Answer shape").
SENTENCE_SLACK = 1.0
#: Each part of a two-part question is answered with the sentence that holds its span, not
#: the span: on the 30 two-part questions of bench/questions/descriptive.jsonl, whose
#: references are sentences, similarity 0.461 with spans (median 4 words), 0.607 with the
#: sentences (median 32). A part whose sentence the other part already quotes adds nothing.
TWO_PART_SENTENCE = True


@dataclass(frozen=True)
class Found:
    """The reader's best span over the passages, placed in its document."""

    span: Span
    doc: Document
    sentence: tuple[int, int]  # document offsets of the sentence(s) holding the span
    #: every window's best span (passage offsets), for the sentences an explanation adds
    spans: tuple[Span, ...] = ()

    @property
    def score(self) -> float:
        return self.span.margin


class ExtractiveAnswerer(Answerer):
    """Answer with a span the reader found, quoting the sentence that holds it.

    Args:
        model: the reader.
        doc_text: full cleaned text of a source, to verify every quote's offsets.
        threshold: no-answer margin below which it abstains.
        idf: weight of a stemmed term, to choose which windows are worth reading.
        windows: how many windows to read per question.
        shape: the answer-shape classifier (None: the old rule, sentences for why/how/explain).
        embed: embeds texts with the packaged model, for ``shape`` and for choosing evidence
            sentences (None: one sentence at most).
        stop_margin: read the most promising window first, the others only when its span's
            margin is below this (None: all at once; see :meth:`ReaderModel.read`).
        document: a source's passages in order, to read a table whole when a question
            compares its rows (:mod:`rag.read.table_ops`; None: never).
    """

    name = "extractive"

    def __init__(
        self,
        model: ReaderModel,
        doc_text: Callable[[str], str],
        threshold: float,
        idf: Callable[[str], float] | None = None,
        windows: int = DEFAULT_WINDOWS,
        shape: ShapeModel | None = None,
        embed: Callable[[Sequence[str]], np.ndarray] | None = None,
        stop_margin: float | None = None,
        document: Callable[[str], Sequence[Document]] | None = None,
    ) -> None:
        self.model = model
        self.doc_text = doc_text
        self.threshold = threshold
        self.idf = idf or (lambda _term: 1.0)
        self.windows = windows
        self.shape = shape
        self.embed = embed
        self.stop_margin = stop_margin
        self.document = document

    def wants_sentences(self, query: str) -> bool:
        """Whether ``query`` asks to explain, describe, compare or list (see rag.read.shape)."""
        if asks_for_a_name(query):  # "what is the name of ...?" wants the name
            return False
        if self.shape is None or self.embed is None:
            return asks_to_explain(query)
        return self.shape.wants_sentences(self.embed([query])[0])

    def __call__(self, question: str, passages: Sequence[Document], *, query: str = "") -> Answer:
        query = query or question
        read = reading_query(question, query)  # the user's words when the rewrite added terms
        parts = [read] if asks_which_document(read) else split_two_part(read)
        if len(parts) == 1:
            return replace(self._answer(question, read, passages), query=query)
        # "..., and which version was it for?": "it" is what the first part asks about
        parts[1] = resolve(parts[1], [(parts[0], "")])
        answers = [self._answer(question, part, passages, part_of_two=True) for part in parts]
        given = [a for a in answers if not a.abstained]
        if not given:
            return replace(answers[0], query=query)
        return replace(joined(given), question=question, query=query)

    def _answer(
        self,
        question: str,
        query: str,
        passages: Sequence[Document],
        *,
        part_of_two: bool = False,
    ) -> Answer:
        which_document = asks_which_document(query)
        table = None if which_document else self.table_answer(question, query, passages)
        if table is not None:  # "which rider has the most points?": the table read whole
            return table
        passages, refused = mentioned(query, passages)  # "... in 1998?", "... Obama?"
        if refused:  # and no passage mentions 1998, Obama: nothing is read
            return self._abstention(question, query, None, answerer=refused)
        rows = None if which_document else focus_rows(passages, self._coverage(query))
        passages = rows or passages
        if not which_document:  # "... under PEP 238?": read PEP 238, not one citing it
            passages = named_passages(query, passages) or passages
        if which_document and passages:
            # the document retrieval ranks first, read for the sentence to cite: measured on
            # the PEP questions, the reader's own pick lands on a PEP that only mentions the
            # right one ("see PEP 572") about three times as often as retrieval's first is wrong
            top = passages[0].metadata.get("source")
            passages = [d for d in passages if d.metadata.get("source") == top]
        sentences = not which_document and self.wants_sentences(query)
        part_sentence = part_of_two and TWO_PART_SENTENCE and not rows
        found = self.find(
            query, passages, titled=which_document, spans_only=not (sentences or part_sentence)
        )
        if found is not None and rows:  # a table row: the citation is the whole row
            found = replace(found, sentence=_extent(found.doc))
        # A document's name is rarely a span of its own text, so the reader is less sure of
        # it than of a name or a date: for "which document" the bar is the model's own
        # decision boundary (a span beats no answer) or the calibrated one, less a slack
        # measured on which-PEP questions (README "Answer shape").
        bar = self.threshold - (SENTENCE_SLACK if sentences else 0.0)
        if which_document:
            bar = min(self.threshold, 0.0) - WHICH_DOCUMENT_SLACK
        if found is None or found.score < bar:
            return self._abstention(question, query, found)
        base = int(found.doc.metadata["start"])
        cited = (found.sentence[0] - base, found.sentence[1] - base)
        if not (rows or sentences or which_document) and not words_relation(
            query, found.doc.page_content, cited
        ):  # "who was Zardari's predecessor?" over a sentence that never says "preceded"
            return self._abstention(question, query, found, answerer=RELATION_ABSTAINER)
        citation = self._citation(1, found)
        citations = [citation]
        mapping = self.model.confidence
        confidence = mapping(found.score) if mapping is not None else None
        if which_document:
            text = one_line(found.doc.metadata.get("title") or found.doc.metadata["source"])
            text += " [1]"
        elif sentences:
            citations = self._evidence(query, found, passages, bar)
            text = " ".join(f"{one_line(c.quote)} [{c.n}]" for c in citations)
        elif part_sentence:
            text = one_line(citation.quote) + " [1]"
        else:
            page = found.doc.page_content
            start, end = balanced(page, *cell_span(page, found.span.start, found.span.end))
            text = one_line(page[start:end]) + " [1]"
        return Answer(
            text=text,
            abstained=False,
            citations=citations,
            question=question,
            query=query,
            score=round(found.score, 4),
            answerer=self.name,
            confidence=confidence,
            confidence_label=confidence_label(confidence),
        )

    def _abstention(
        self, question: str, query: str, found: Found | None, answerer: str = ""
    ) -> Answer:
        score = round(found.score, 4) if found else 0.0
        return Answer(ABSTAIN_TEXT, True, question=question, query=query, score=score,
                      answerer=answerer or self.name)  # fmt: skip

    def table_answer(
        self, question: str, query: str, passages: Sequence[Document]
    ) -> Answer | None:
        """The cell a question comparing a table's rows asks for, cited by its row; or None.

        The best passage's table is read whole (:mod:`rag.read.whole_table`). The score, the
        reader's margin on the row alone, does not tell right cells from wrong ones (README
        "Reader v2 vs v3"): the threshold does not apply, and there is no confidence. A
        question counting rows ("how many players were from England?") is answered with the
        count, cited by the rows counted (the first ten); its score is 0.
        """
        if self.document is None:
            return None
        count = counted(query, passages, self.doc_text, self.document)
        if count is not None:
            n, rows = count
            cited = [citation(i, row, _extent(row), 0.0, self.doc_text)
                     for i, row in enumerate(rows, start=1)]  # fmt: skip
            text = f"{n} " + " ".join(f"[{c.n}]" for c in cited)
            return Answer(text, False, cited, question=question, query=query, score=0.0,
                          answerer=TABLE_ANSWERER)  # fmt: skip
        cell = whole_table_cell(query, passages, self.doc_text, self.document)
        if cell is None:
            return None
        row, start, end = cell
        span = max(self.model.read(self.model.windows(query, [row.page_content])),
                   key=lambda s: s.margin)  # fmt: skip
        found = Found(span, row, _extent(row))
        return Answer(
            text=one_line(row.page_content[start:end]) + " [1]",
            abstained=False,
            citations=[self._citation(1, found)],
            question=question,
            query=query,
            score=round(found.score, 4),
            answerer=TABLE_ANSWERER,
        )

    def find(
        self,
        query: str,
        passages: Sequence[Document],
        *,
        titled: bool = False,
        spans_only: bool = False,
    ) -> Found | None:
        """The best span of the most promising windows, or None when there is nothing to read.

        ``titled`` puts each passage's document title in front of it, so that a question
        asking which document can land on the document's name. ``spans_only``: the span is
        the answer, so it may not be the name of a document the question names, nor a
        heading (an answer of sentences, a two-part question's part included, uses the span
        only to find its passage, and there the name is a fair pointer: on the descriptive
        questions, blocking it too refused 11 more of 83). A named document's own passages
        are read with "this PEP" for its "PEP 8" (:func:`rag.read.headers.read_questions`).
        """
        texts = [d.page_content for d in passages]
        titles = [str(d.metadata.get("title") or "") if titled else "" for d in passages]
        prefixes = [
            f"{t}\n\n" if t and not x.startswith(t) else ""
            for t, x in zip(titles, texts, strict=True)
        ]
        read = [p + fields_as_row(t) for p, t in zip(prefixes, texts, strict=True)]
        candidates = self.model.windows(read_questions(query, passages), read)
        if not candidates:
            return None
        chosen = self.choose(query, read, candidates, ranks=passage_ranks(passages))
        blocked = None
        if spans_only and not titled:
            blocked = own_names(query, passages)
            for i, text in enumerate(texts):
                blocked[i] = blocked.get(i, []) + headings(text)
        spans = self.model.read(chosen, blocked=blocked, stop_margin=self.stop_margin)
        best = max(spans, key=lambda s: s.margin)
        doc = passages[best.passage]
        shift = len(prefixes[best.passage])
        # the title in front of the passage, or the passage's own first line when it is the
        # title (a heading): either way no evidence, so the sentence most about the question
        in_title = best.end <= len(titles[best.passage])
        best = replace(best, start=max(0, best.start - shift), end=max(0, best.end - shift))
        if in_title:
            sentence = self._most_relevant_sentence(query, doc.page_content)
        else:
            sentence = sentence_of(doc.page_content, best.start, best.end)
        base = int(doc.metadata["start"])
        if titled:  # spans in a title-prefixed passage: not places in its document
            spans = []
        return Found(best, doc, (base + sentence[0], base + sentence[1]), tuple(spans))

    def _evidence(
        self, query: str, found: Found, passages: Sequence[Document], bar: float
    ) -> list[Citation]:
        """The sentence of the best span and the ones :func:`rag.read.evidence.select` adds.

        Other windows' spans above ``bar`` point at the further candidate sentences.
        """
        base = int(found.doc.metadata["start"])
        first = Evidence(found.doc, found.sentence[0] - base, found.sentence[1] - base, found.score)
        if self.embed is None:
            return [self._citation(1, found)]
        chosen = select(query, first, found.spans, passages, bar, self.embed)
        return [
            self._citation(
                n,
                Found(
                    found.span,
                    e.doc,
                    (int(e.doc.metadata["start"]) + e.start, int(e.doc.metadata["start"]) + e.end),
                ),
                score=e.margin,
            )
            for n, e in enumerate(chosen, start=1)
        ]

    def _coverage(self, query: str) -> Callable[[str], float]:
        """Share of the question's IDF-weighted terms a text holds."""
        weight = {t: self.idf(t) for t in set(analyze(query))}
        total = sum(weight.values()) or 1.0
        return lambda text: sum(weight[t] for t in weight.keys() & set(analyze(text))) / total

    def _most_relevant_sentence(self, query: str, text: str) -> tuple[int, int]:
        coverage = self._coverage(query)
        spans = sentence_spans(text) or [(0, len(text))]
        return max(spans, key=lambda sp: coverage(text[sp[0] : sp[1]]))

    def choose(
        self,
        query: str,
        texts: list[str],
        candidates: list[Window],
        ranks: Sequence[int] | None = None,
    ) -> list[Window]:
        """The windows worth reading, at most ``self.windows`` of them, the best first.

        A window is worth the share of the question's (IDF-weighted) terms it holds, less a
        step per retrieval rank of its passage (``ranks[i]`` for passage ``i``; default ``i``);
        this ranking costs far less than reading. Ties keep the passages' order.
        """
        coverage = self._coverage(query)
        rank = list(ranks) if ranks is not None else list(range(len(texts)))

        def worth(w: Window) -> float:
            first, last = w.context
            text = texts[w.passage][w.offsets[first][0] : w.offsets[last][1]]
            return coverage(text) - _RANK_STEP * rank[w.passage]

        return sorted(candidates, key=worth, reverse=True)[: self.windows]

    def _citation(self, n: int, found: Found, score: float | None = None) -> Citation:
        score = found.score if score is None else score
        return citation(n, found.doc, found.sentence, score, self.doc_text)


def _extent(doc: Document) -> tuple[int, int]:
    """A passage's own offsets in its document: a table row cites all of itself."""
    start = int(doc.metadata["start"])
    return start, start + len(doc.page_content)
