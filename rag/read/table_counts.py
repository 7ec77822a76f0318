"""Questions that count a table's rows ("How many players were from England?").

A count is in no cell, so neither the span reader nor the operations that pick one cell
(:mod:`rag.read.table_ops`) can give it: over WikiTableQuestions' tables a fifth of the
questions ask one. Here the whole table is read (one ``Header: value; Header: value.`` line a
row, :mod:`rag.read.table_parse`) and the rows the question names are counted:

- the rows meeting a bound it states ("how many athletes finished under 1:56?", "at least 200
  km"), over the numeric column its words name (:func:`rag.read.table_conditions.bounded_rows`);
- of those, or of all rows, the ones whose cells hold every word of the question that some
  cell of the table holds ("how many songs were produced by *Chaos*?", "how many players were
  from *England*?"; "produced" and "players" are in no cell, so they name no condition);
- every row when the question names nothing but the rows' kind ("how many *episodes* are
  listed?"), less a closing "Total" row, which is no item of the table.

The answer is the number, cited by the rows counted, so that each can be checked. What a
count cannot answer is left to the reader: a question naming one row ("how many people live in
Tortona?" asks for that row's cell, not for 1) or a numeric column ("how many *goals* did X
score?": a cell, or a sum), arithmetic ("how many more ... than ...", "average", "combined"),
a negation ("did *not* finish": the rows a condition leaves out, and what "not" applies to is
not read here), a count of a second step ("how many ... after the first ..."), and words no
cell holds when no bound is stated ("how many *quarterbacks*" of a column of "QB").
"""

from __future__ import annotations

import re

from rag.read.table_conditions import bounded_rows, states_condition, without_bound
from rag.read.table_parse import Table, fold, stems_of_headers
from rag.read.table_words import OPERATIONS, OPERATORS, TABLE_WORDS
from rag.text.words import OVERLAP_STOP_WORDS, stem, words

#: "How many ...", "what is the number of ...", "the total number of ...", "the total of ...".
_COUNT = re.compile(r"^\W*how\s+many\b|\b(?:total\s+)?number\s+of\b|\btotal\s+of\b", re.I)
#: Words of arithmetic or of a second step: a count of rows does not answer these.
_ARITHMETIC = frozenset(["average", "mean", "difference", "combined", "sum", "than",
                         "more", "less", "fewer", "consecutive", "between", "percent",
                         "percentage", "much"])  # fmt: skip
#: Words that say what is counted, never which rows: "how many *times*", "*different*".
_COUNTING = frozenset(["many", "number", "total", "times", "time", "different", "all", "count"])
#: Negations: "how many did *not* finish?" counts the rows a condition leaves out.
_NEGATIONS = frozenset(["not", "no", "nobody", "none", "without", "never", "non", "didn",
                        "doesn", "don", "isn", "wasn", "weren", "aren"])  # fmt: skip
#: The counted kind follows these: "how many *players*", "the total number of *teams*".
_KIND = re.compile(r"\b(?:how\s+many|number\s+of)\s+(?:(?:total|different|the)\s+)*(\w+)", re.I)
#: A row that sums the others ("Total", "Totals"): not one of the items counted.
_TOTAL = re.compile(r"^\W*totals?\W*$", re.IGNORECASE)


def asks_count(question: str) -> bool:
    """Whether ``question`` asks how many rows, and no arithmetic or second step."""
    if not _COUNT.search(question):
        return False
    said = set(words(without_bound(question)))  # "at least 20", "more than 15": a bound
    if said & _NEGATIONS:
        return False  # the complement of a condition: left to the reader
    # "the most number of wins", "how many ... after the first ...", "how many more ... than"
    return not said & (OPERATIONS | _ARITHMETIC)


def counted_rows(question: str, table: Table) -> list[int] | None:
    """The rows ``question`` counts, or None when it is no count this table can answer.

    None too when the question's words name a single row: "how many titles does Fortuna 60
    have?" asks for that row's cell.
    """
    if not asks_count(question):
        return None
    question = fold(question)
    header_stems = stems_of_headers(table)
    bounded = bounded_rows(question, table, header_stems)
    if bounded is None and states_condition(question):
        return None  # a bound over no column the question names
    asked = {stem(w) for w in words(without_bound(question)) if w not in OVERLAP_STOP_WORDS}
    asked -= {stem(w) for w in OPERATORS | TABLE_WORDS | _COUNTING}
    if bounded is None and any(asked & header_stems[h] for h in table.numeric - table.dated):
        return None  # "how many people attended ...?", "how many goals did X score?": its cells
    terms = asked - set().union(*header_stems.values())
    kind = _KIND.search(question)
    # "how many *players* were from England?": the rows' kind, a condition only if cells hold
    # it ("how many *draws* ...?")
    named = terms - {stem(kind.group(1).lower())} if kind else terms
    held_terms = terms & set().union(*(s for cells in table.stems for s in cells.values()))
    if bounded is None and not held_terms and named:
        return None  # no cell holds what it names ("quarterbacks" of a column of "QB")
    items = [r for r, row in enumerate(table.rows) if not _is_total(row)]
    rows = items if bounded is None else [r for r in bounded[0] if not _is_total(table.rows[r])]
    held = [r for r in rows if held_terms <= set().union(*table.stems[r].values())]
    if not held or (len(held) == 1 and bounded is None):
        return None  # "how many people live in Tortona?": that row's cell, not a count
    return held


def _is_total(row: dict[str, str]) -> bool:
    """Whether a row is the table's total: its first filled cell says "Total"."""
    first = next((v for v in row.values() if v.strip()), "")
    return bool(_TOTAL.match(first))
