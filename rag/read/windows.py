"""Question-passage windows and span decoding for an extractive reader (SQuAD 2.0 style).

Shared by the runtime reader (:mod:`rag.read.model`) and the training code (``training/``), so
the model is trained on exactly the windows it reads at question time. Windows come from the
fast tokenizer's own overflow handling (``truncation="only_second"`` with a stride), as
Haystack's ``ExtractiveReader`` and Hugging Face's QA pipeline do; the character offsets it
returns map a token span back to an exact slice of the passage.

A window's *no-answer score* is the score of the empty span at ``[CLS]``
(``start[0] + end[0]``); its *margin* is its best span's score minus that. Margins compare
across windows and passages (each is relative to its own window), so the best span across all
windows is the one with the largest margin, and a negative margin means "not here".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Question tokens kept at most; longer questions are cut (rare, and the head carries them).
MAX_QUESTION_TOKENS = 48
#: How far below its no-answer score a window whose every token is blocked scores.
_ALL_BLOCKED = 1000.0


@dataclass(frozen=True)
class Window:
    """One ``[CLS] question [SEP] passage-part [SEP]`` input and its passage character map."""

    passage: int  # index of the passage this window reads
    ids: list[int]
    type_ids: list[int]
    context: tuple[int, int]  # token range [first, last] of the passage part
    offsets: list[tuple[int, int]]  # per token: character span in the passage


@dataclass(frozen=True)
class Span:
    """The best answer a window holds: characters ``[start, end)`` of passage ``passage``."""

    passage: int
    start: int
    end: int
    score: float  # start + end logit of the span
    null: float  # start + end logit of [CLS], the no-answer score

    @property
    def margin(self) -> float:
        return self.score - self.null


def configure(tokenizer: Any, max_len: int, stride: int) -> Any:
    """Set a ``tokenizers.Tokenizer`` to cut (question, passage) pairs into windows."""
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_len, stride=stride, strategy="only_second")
    return tokenizer


def windows(tokenizer: Any, question: str | Sequence[str], passages: Sequence[str]) -> list[Window]:
    """All windows of every passage for one question, with a tokenizer from :func:`configure`.

    ``question`` may be one string per passage: the answerer words a question about a named
    document differently for that document's own passages (:func:`rag.read.headers.
    read_questions`). Each question is cut to :data:`MAX_QUESTION_TOKENS` first so that every
    window keeps room for the passage.
    """
    asked = [question] * len(passages) if isinstance(question, str) else list(question)
    if len(asked) != len(passages):
        raise ValueError(f"{len(asked)} questions for {len(passages)} passages")
    cut = {q: _cut(tokenizer, q) for q in set(asked)}
    out: list[Window] = []
    pairs = [(cut[q], p) for q, p in zip(asked, passages, strict=True)]
    encodings = tokenizer.encode_batch(pairs) if passages else []
    for i, enc in enumerate(encodings):
        for part in [enc, *enc.overflowing]:
            seq = part.sequence_ids
            ctx = [t for t, s in enumerate(seq) if s == 1]
            if not ctx:
                continue
            out.append(
                Window(
                    passage=i,
                    ids=list(part.ids),
                    type_ids=list(part.type_ids),
                    context=(ctx[0], ctx[-1]),
                    offsets=[tuple(o) for o in part.offsets],
                )
            )
    return out


def _cut(tokenizer: Any, question: str) -> str:
    ids = tokenizer.encode(question, add_special_tokens=False)
    if len(ids.ids) > MAX_QUESTION_TOKENS:
        return question[: ids.offsets[MAX_QUESTION_TOKENS - 1][1]]
    return question


def batch(windows_: Sequence[Window]) -> dict[str, np.ndarray]:
    """Pad windows into the three int64 arrays a BERT-family QA model takes."""
    width = max(len(w.ids) for w in windows_)
    ids = np.zeros((len(windows_), width), dtype=np.int64)
    types = np.zeros_like(ids)
    mask = np.zeros_like(ids)
    for row, w in enumerate(windows_):
        n = len(w.ids)
        ids[row, :n] = w.ids
        types[row, :n] = w.type_ids
        mask[row, :n] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def best_span(
    window: Window,
    start: np.ndarray,
    end: np.ndarray,
    max_tokens: int = 30,
    top: int = 20,
    blocked: Sequence[tuple[int, int]] = (),
) -> Span:
    """The highest-scoring span of at most ``max_tokens`` tokens inside the passage part.

    No span starts or ends on a token inside a ``blocked`` character range of the passage
    (a document's own name, when the question already names it).
    """
    first, last = window.context
    s = start[first : last + 1]
    e = end[first : last + 1]
    if blocked:
        cut = np.array(
            [any(a <= o[0] < b for a, b in blocked) for o in window.offsets[first : last + 1]]
        )
        s, e = np.where(cut, -np.inf, s), np.where(cut, -np.inf, e)
    k = min(top, len(s))
    # a stable sort, not np.argpartition: on an AVX2 CPU (emulated) numpy 2.4's argpartition
    # left the highest end logit out of its top 20, and the answer lost its last word
    starts = np.argsort(-s, kind="stable")[:k]
    ends = np.argsort(-e, kind="stable")[:k]
    # every (start, end) pair of the top-k lists, scored at once; invalid pairs masked out
    pair = s[starts][:, None] + e[ends][None, :]
    length = ends[None, :] - starts[:, None]
    pair = np.where((length >= 0) & (length < max_tokens), pair, -np.inf)
    i, j = np.unravel_index(int(np.argmax(pair)), pair.shape)
    if np.isfinite(pair[i, j]):
        a, b, score = first + int(starts[i]), first + int(ends[j]), float(pair[i, j])
    else:  # every top end lies before every top start: the best single token
        a = b = first + int(np.argmax(s + e))
        score = float(s[a - first] + e[a - first])
        if not np.isfinite(score):  # every token blocked: far below "no answer"
            score = float(start[0] + end[0]) - _ALL_BLOCKED
    return Span(
        passage=window.passage,
        start=window.offsets[a][0],
        end=window.offsets[b][1],
        score=score,
        null=float(start[0] + end[0]),
    )


#: Bracket and quote pairs an answer should not cut in half.
_PAIRS = {"(": ")", "[": "]", "\u201c": "\u201d", '"': '"'}
#: Characters a span may reach past to take in its pair's other half ("(68%)" from "(68%").
_REACH = 2


def balanced(text: str, start: int, end: int) -> tuple[int, int]:
    """``text[start:end]`` with no bracket or quote cut in half.

    The reader's spans are token ranges, and about 1% of its dev answers open a bracket or
    a quote they do not close ("two-thirds (68%", "816) 329-4090"): shown as an answer, half
    a pair reads like a misprint. The other half is taken in when it lies within
    :data:`_REACH` characters, else a lone half at the span's edge is left out; the span never
    grows further, so the sentence it cites stays the same.
    """
    for opener, closer in _PAIRS.items():
        mend = _mend_quote if opener == closer else _mend_brackets
        start, end = mend(text, start, end, opener, closer)
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _mend_brackets(text: str, start: int, end: int, opener: str, closer: str) -> tuple[int, int]:
    unopened: list[int] = []  # where the span closes a bracket it did not open
    opened: list[int] = []  # where it opens one it does not close
    for i, ch in enumerate(text[start:end]):
        if ch == opener:
            opened.append(i)
        elif ch == closer:
            if opened:
                opened.pop()
            else:
                unopened.append(i)
    before = text.rfind(opener, max(0, start - _REACH - 1), start)
    after = text.find(closer, end, end + _REACH + 1)
    if unopened and before >= 0:
        start = before
    elif unopened and unopened[-1] == end - start - 1:
        end -= 1
    if opened and after >= 0:
        end = after + 1
    elif opened and opened[0] == 0:
        start += 1
    return start, end


def _mend_quote(text: str, start: int, end: int, quote: str, _: str) -> tuple[int, int]:
    """Quotes' halves look alike: an odd one out opens when its close is just past the span."""
    at = [i for i, ch in enumerate(text[start:end]) if ch == quote]
    if len(at) % 2 == 0:
        return start, end
    lone, last = at[-1], end - start - 1
    before = text.rfind(quote, max(0, start - _REACH - 1), start)
    after = text.find(quote, end, end + _REACH + 1)
    if after >= 0 and lone != last:
        return start, after + 1
    if before >= 0 and lone != 0:
        return before, end
    if lone == 0:
        return start + 1, end
    if lone == last:
        return start, end - 1
    return start, end
