"""The default answerer: a learned reader picks the answer span, the answer quotes the corpus.

For a question and its retrieved passages it cuts every passage into the reader's windows,
reads the most promising ones in one batch (:class:`rag.read.model.ReaderModel`), and takes the
span with the largest no-answer margin across them. Below the calibrated threshold it
abstains. Otherwise the answer is the span itself (a name, a date, a number, a short phrase)
or, when the question asks to explain or describe, the sentence that holds it; the citation
is always that sentence, an exact slice of the cleaned document. A question that asks *which
document* ("Which PEP introduced ...?") is answered with the document's title.

Because every answer is a quote, it cannot make things up; what it can get wrong is which
quote, and whether the passages answer at all, which is what the reader was trained for.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from langchain_core.documents import Document

from rag.protocols import Answerer
from rag.read.confidence import confidence_label
from rag.read.model import ReaderModel
from rag.read.windows import Span, Window
from rag.results import ABSTAIN_TEXT, Answer, Citation
from rag.text.locations import locate
from rag.text.sentences import sentence_spans
from rag.text.whitespace import one_line
from rag.text.words import analyze

#: Windows read per question: the cost of an answer grows with it (see README "The reader").
DEFAULT_WINDOWS = 6
#: How much a window's passage rank counts against the question terms it holds.
_RANK_STEP = 0.1
#: Questions answered with the whole evidence sentence rather than the span.
_EXPLAIN = re.compile(
    r"^\s*(?:why\b|how\s+(?:does|do|did|is|are|was|were|can|could|would|should|has|have)\b"
    r"|explain\b|describe\b|what\s+(?:is|was|are|were)\s+the\s+(?:purpose|reason|role|effect|"
    r"impact|difference|significance|idea|point)\b)",
    re.IGNORECASE,
)
#: "Which PEP ...", "What document ...": the answer is a document, named by its title.
_WHICH_DOCUMENT = re.compile(
    r"^\s*(?:which|what|in\s+which|in\s+what)\s+(?:pep|document|file|report|paper|article|"
    r"page|proposal|rfc|memo|policy|manual|guide|chapter|transcript|notice|bulletin|spec|"
    r"specification|standard)s?\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Found:
    """The reader's best span over the passages, placed in its document."""

    span: Span
    doc: Document
    sentence: tuple[int, int]  # document offsets of the sentence(s) holding the span

    @property
    def score(self) -> float:
        return self.span.margin


def asks_which_document(question: str) -> bool:
    return bool(_WHICH_DOCUMENT.match(question))


def asks_to_explain(question: str) -> bool:
    return bool(_EXPLAIN.match(question))


class ExtractiveAnswerer(Answerer):
    """Answer with a span the reader found, quoting the sentence that holds it.

    Args:
        model: the reader.
        doc_text: full cleaned text of a source, to verify every quote's offsets.
        threshold: no-answer margin below which it abstains.
        idf: weight of a stemmed term, to choose which windows are worth reading.
        windows: how many windows to read per question.
    """

    name = "extractive"

    def __init__(
        self,
        model: ReaderModel,
        doc_text: Callable[[str], str],
        threshold: float,
        idf: Callable[[str], float] | None = None,
        windows: int = DEFAULT_WINDOWS,
    ) -> None:
        self.model = model
        self.doc_text = doc_text
        self.threshold = threshold
        self.idf = idf or (lambda _term: 1.0)
        self.windows = windows

    def __call__(self, question: str, passages: Sequence[Document], *, query: str = "") -> Answer:
        query = query or question
        which_document = asks_which_document(query)
        found = self.find(query, passages, titled=which_document)
        # A document's name is rarely a span of its own text, so the reader is less sure of
        # it than of a name or a date: for "which document" the bar is the model's own
        # decision boundary (a span beats no answer), unless the calibrated one is lower.
        bar = min(self.threshold, 0.0) if which_document else self.threshold
        if found is None or found.score < bar:
            return Answer(
                text=ABSTAIN_TEXT,
                abstained=True,
                question=question,
                query=query,
                score=round(found.score, 4) if found else 0.0,
                answerer=self.name,
            )
        citation = self._citation(1, found)
        mapping = self.model.confidence
        confidence = mapping(found.score) if mapping is not None else None
        if which_document:
            shown = found.doc.metadata.get("title") or found.doc.metadata.get("source", "")
        elif asks_to_explain(query):
            shown = citation.quote
        else:
            shown = found.doc.page_content[found.span.start : found.span.end]
        return Answer(
            text=f"{one_line(shown)} [1]",
            abstained=False,
            citations=[citation],
            question=question,
            query=query,
            score=round(found.score, 4),
            answerer=self.name,
            confidence=confidence,
            confidence_label=confidence_label(confidence),
        )

    def find(
        self, query: str, passages: Sequence[Document], *, titled: bool = False
    ) -> Found | None:
        """The best span of the most promising windows, or None when there is nothing to read.

        ``titled`` puts each passage's document title in front of it, so that a question
        asking which document can land on the document's name.
        """
        texts = [d.page_content for d in passages]
        prefixes = [""] * len(texts)
        if titled:
            titles = [str(d.metadata.get("title") or "") for d in passages]
            prefixes = [
                f"{t}\n\n" if t and not x.startswith(t) else ""
                for t, x in zip(titles, texts, strict=True)
            ]
        read = [p + t for p, t in zip(prefixes, texts, strict=True)]
        candidates = self.model.windows(query, read)
        if not candidates:
            return None
        chosen = self.choose(query, read, candidates)
        best = max(self.model.read(chosen), key=lambda s: s.margin)
        doc = passages[best.passage]
        shift = len(prefixes[best.passage])
        best = replace(best, start=max(0, best.start - shift), end=max(0, best.end - shift))
        if best.end == 0:  # the span is the title: cite the sentence most about the question
            sentence = self._most_relevant_sentence(query, doc.page_content)
        else:
            sentence = _sentence_around(doc.page_content, best.start, best.end)
        base = int(doc.metadata["start"])
        return Found(best, doc, (base + sentence[0], base + sentence[1]))

    def _coverage(self, query: str) -> Callable[[str], float]:
        """Share of the question's IDF-weighted terms a text holds."""
        weight = {t: self.idf(t) for t in set(analyze(query))}
        total = sum(weight.values()) or 1.0
        return lambda text: sum(weight[t] for t in weight.keys() & set(analyze(text))) / total

    def _most_relevant_sentence(self, query: str, text: str) -> tuple[int, int]:
        coverage = self._coverage(query)
        spans = sentence_spans(text) or [(0, len(text))]
        return max(spans, key=lambda sp: coverage(text[sp[0] : sp[1]]))

    def choose(self, query: str, texts: list[str], candidates: list[Window]) -> list[Window]:
        """The windows worth reading, at most ``self.windows`` of them.

        A window is worth the share of the question's (IDF-weighted) terms it holds, less a
        step per retrieval rank of its passage; this ranking costs far less than reading.
        """
        if len(candidates) <= self.windows:
            return candidates
        coverage = self._coverage(query)

        def key(item: tuple[int, Window]) -> float:
            _, w = item
            first, last = w.context
            text = texts[w.passage][w.offsets[first][0] : w.offsets[last][1]]
            return coverage(text) - _RANK_STEP * w.passage

        ranked = sorted(enumerate(candidates), key=key, reverse=True)[: self.windows]
        return [w for _, w in sorted(ranked, key=lambda item: item[0])]

    def _citation(self, n: int, found: Found) -> Citation:
        meta = found.doc.metadata
        start, end = found.sentence
        quote = self.doc_text(meta["source"])[start:end]
        base = int(meta["start"])
        if found.doc.page_content[start - base : end - base] != quote:
            raise AssertionError(f"quote offsets do not match {meta['source']}[{start}:{end}]")
        page, location = locate(meta, start)
        return Citation(
            n=n,
            source=meta["source"],
            quote=quote,
            start=start,
            end=end,
            passage=found.doc.page_content,
            score=round(found.score, 4),
            title=meta.get("title", ""),
            page=page,
            location=location,
            chunk_id=meta.get("chunk_id", ""),
            passage_start=base,
        )


def _sentence_around(text: str, start: int, end: int) -> tuple[int, int]:
    """Offsets in ``text`` of the sentence(s) that hold ``text[start:end]``."""
    spans = [s for s in sentence_spans(text) if s[1] > start and s[0] < end]
    if not spans:
        return start, end
    return spans[0][0], spans[-1][1]
