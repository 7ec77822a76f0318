"""The years a question names, and the passages that mention them.

"What did the council decide in 1998?" asked of a passage about 1997 is a common way a
related passage is silent (another year, another event), and the reader, trained to point at
spans, still points at the 1997 decision for about a third of such questions. A year, unlike
a name (which a passage shortens) or a number (which it spells out: "season 8", "eighth
season"), is written the same way almost everywhere, so a passage that never mentions a year
the question names, in its text, its document's title or its section heading, does not
answer it: it is not read, and when no retrieved passage mentions the year the answer is an
abstention.

Measured on the dev splits (``training.calibrate_reader``, which applies the same check): the
gold passage lacks the question's year for 1 of 762 answerable questions, so at the same 10%
false-refusal budget abstention on related-but-silent passages goes 0.679 -> 0.713, the other
no-answer kinds about unchanged (README "A year no passage mentions"). Checking numbers as
well gave 0.78 on those but cost the other kinds their share (a number is spelled out too
often), so only years count.

Two kinds of year are not held against a passage:

- a bound or a range ("after 2001", "since 1990", "between 1914 and 1918") or a decade
  ("in the 1990s"): the answer's passage may name another year, one the range holds;
- any year of a question read against table rows that hold no year at all: a CSV rarely
  carries its caption, which is where the year of a table's event is ("the 2010 US Open").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from langchain_core.documents import Document

from rag.read.tables import row_lines

# a year of four digits, 1000-2099, or a decade ("the 1840's", "the 1990s": group 2); unlike
# rag.read.table_parse.YEAR (is a cell a year?) it must pass over "$2000" and "3.1998" in prose
_YEAR = re.compile(r"(?<![\w.,$£€])(1\d{3}|20\d{2})('?s)?\b(?![.,]\d)")
# words that make the year after them a bound, not the time the question is about
_BOUND = re.compile(
    r"(?:\b(?:after|since|before|until|till|prior\s+to|earlier\s+than|later\s+than|by|between)"
    r"\s+(?:(?:the|early|late|mid|end\s+of)\s+)*"
    r"|\b(?:between|from)\s+\S+\s*(?:and|to|-|\u2013)\s*)$",
    re.IGNORECASE,
)
# "from 1990 to 2000": the range's first year
_RANGE_START = re.compile(r"\b(?:from|between)\s+$", re.IGNORECASE)
_RANGE_REST = re.compile(r"\s*(?:to|and|-|\u2013)\s*(?:1\d{3}|20\d{2})\b", re.IGNORECASE)


def _bound(question: str, match: re.Match[str]) -> bool:
    before = question[: match.start()]
    if _BOUND.search(before):
        return True
    return bool(_RANGE_START.search(before) and _RANGE_REST.match(question, match.end()))


def question_years(question: str) -> list[str]:
    """The years the question is about, bounds left out, in order, each once."""
    years = [
        m.group(1) for m in _YEAR.finditer(question) if not m.group(2) and not _bound(question, m)
    ]
    return list(dict.fromkeys(years))


def mentions(text: str, year: str) -> bool:
    """Whether ``text`` names ``year`` on its own (not in a longer number), or as "1,500".

    Its decade counts too ("the 1990s" for 1990): a passage may mean either.
    """
    if f"{year[0]},{year[1:]}" in text:  # a four-digit year of a question is also a quantity
        return True
    return any(m.group(1) == year for m in _YEAR.finditer(text))


def dated_passages(question: str, passages: Sequence[Document]) -> list[Document] | None:
    """The passages that mention every year the question names; None when it names none.

    A passage counts with its document's title and its section heading, and a passage of
    table rows that names no year at all always counts (see the module's docstring). An empty
    list means no passage answers the question.
    """
    years = question_years(question)
    if not years:
        return None
    kept = []
    for doc in passages:
        where = (doc.metadata.get("title"), doc.metadata.get("heading"), doc.page_content)
        text = "\n".join(str(x or "") for x in where)
        undated_table = row_lines(doc.page_content) and not _YEAR.search(doc.page_content)
        if undated_table or all(mentions(text, y) for y in years):
            kept.append(doc)
    return kept
