"""Questions about a table as a whole: the row with the most, the first or last, the next.

"Which rider has the most points?", "Who is the last athlete?", "Who came next after Turkey?"
ask what no single row says: the answer is one cell, but which row holds it depends on the
other rows. The span reader reads a few rows at a time and cannot compare them (README "Reader
v2 vs v3": 0.10 of WikiTableQuestions' cell questions answered over a folder of CSVs). Here
the whole table is read as the loaders wrote it (one ``Header: value; Header: value.`` line per
row, :func:`rag.convert.office.row_line`; :mod:`rag.read.table_parse`) and the question is
mapped onto these operations,
as table parsers such as TAPAS do with their aggregation heads, but by its words:

- a superlative ("most", "longest", "fewest") over the numeric column the question names
  (the highest rank, place or pick is the smallest number), or ("fastest", "slowest") over
  the table's one column of times (a gap to the winner's time, "+2.1", is no time);
- an ordinal ("first", "last", "top"), in the table's own order, or over a column it names
  ("last *place*") or its dates ("launched earliest");
- a neighbour ("after", "next", "before", "previous"; "above" and "below" only of a row
  named by a cell of names) of the row the question names;
- in :mod:`rag.read.table_pairs`, the one of two named rows a comparative prefers
  ("who was faster, X or Y?") or a row sharing a value with a named one ("the same year as X");
- the only row the question's words name, when it names the column asked for ("which *ship*
  is the only container ship?"; "who was the only one ...?" over a table with no column it
  names is the reader's);
- and, in :mod:`rag.read.table_conditions`, the only row meeting a bound ("less than 672")
  or holding the values the question gives ("the only rider to score 9 points", "which
  driver did 160 laps and had 142 points?").

Rows the question narrows to ("the first ship launched in 1929": the rows whose cells hold
"1929") are the ones compared. The answer is the cell of the column the question asks for
("which *rider*", "the name of the *jockey*", "who was the last *flag bearer*", a "Name"
column for any other "who", a date column for "when", else the first column of names), and
it is a quote: the citation is its row. A question that maps onto none of them, counts,
and questions of two steps are left to the reader; so is a document that is more than one
table.
"""

from __future__ import annotations

import itertools
import re

from rag.read.table_conditions import equal_rows, gives_value, meeting, states_condition
from rag.read.table_pairs import compared, either, matching, same_as
from rag.read.table_parse import (
    Cell,
    Table,
    cell_of,
    cell_value,
    fold,
    kind_column,
    named_numeric,
    number,
    stems_of_headers,
    text_column,
    time_column,
)
from rag.read.table_words import (
    AGES,
    COMPARATIVES,
    FASTEST,
    FIRST,
    LAST,
    MERIT,
    MOST,
    NEXT,
    OPERATIONS,
    OPERATORS,
    PLACE_STEMS,
    PLACED,
    PREVIOUS,
    RANK_STEMS,
    SLOWEST,
    SUPERLATIVES,
    TABLE_WORDS,
)
from rag.text.words import QUESTION_WORDS, STOP_WORDS, stem, words

#: Ordinals that ask for a date ("which competition was played earliest?").
_DATED_ORDINALS = frozenset(["earliest", "latest"])
#: "When ...", "what year ...", "what date ...": the answer is in a column of dates.
_WHEN = re.compile(r"^\W*(?:when\b|(?:what|which)\s+(?:year|date|day|month|season)\b)", re.I)
_DATE_STEMS = frozenset({"date", "year", "day", "month", "season", "when"})
#: "How many ...", "how much ...": a count or a sum, not a cell of the table.
_COUNT = re.compile(r"^\W*how\s+(?:many|much)\b", re.IGNORECASE)
_WHO = re.compile(r"^\W*who\b", re.IGNORECASE)
#: Words of a question's opening that may name the column asked for ("who was the last flag").
_OPENING = 6
_NAME_OF = re.compile(r"(?:\w+\s+){0,2}name\s+of\s+", re.IGNORECASE)
#: A column named by an ordinal ("Fourth place") counts that place; it holds no places.
_ORDINAL = re.compile(r"\b(?:first|second|third|fourth|fifth|\d+(?:st|nd|rd|th))\b", re.I)
#: "which rider", "what was the first ship": a word after the question word names the column.
_TARGET = re.compile(r"\b(?:which|what)\s+((?:\w+\s+){0,5}\w+)", re.IGNORECASE)


def compares_rows(question: str) -> bool:
    """Whether ``question`` compares rows, and is no count.

    It says most, least, first, last, after or before, asks "X or Y" ("which is larger, X or
    Y?", "which was held in January, X or Y?"), for a row with "the same" value as another, or
    for the row meeting a bound ("less than 672 contestants"), or for the only row its words
    name ("which ship is the only container ship?").
    """
    said = set(words(question))
    same = {"same", "as"} <= said
    named = said & OPERATIONS or said & {"or", "only"} or same or states_condition(question)
    named = named or gives_value(question)
    return bool(named) and not _COUNT.match(question)


def answer_cell(question: str, table: Table) -> Cell | None:
    """The cell ``question`` asks for when it compares rows; None when it does not."""
    if not compares_rows(question):
        return None
    question = fold(question)
    asked = [w for w in words(question) if w not in STOP_WORDS and w not in QUESTION_WORDS]
    said = set(asked)
    header_stems = stems_of_headers(table)
    all_header_stems = set().union(*header_stems.values())
    asked_stems = {stem(w) for w in asked}
    terms = {stem(w) for w in asked if w not in OPERATORS} - all_header_stems
    pair = either(question, table, header_stems)
    if pair is not None:  # "who was faster, Oyama or Sunde?": one of the two, or none
        a, b, column = pair
        if "not" in said:
            return None
        if said & COMPARATIVES:
            winner = compared(table, header_stems, asked_stems, said, column, a, b)
        else:  # "which race was held in January, X or Y?"
            winner = matching(table, question, all_header_stems, column, a, b)
        return None if winner is None else cell_of(table, winner, column)
    if {"same", "as"} <= set(words(question)):  # "the same year as Mind Control?"
        return same_as(question, table, header_stems)
    condition = states_condition(question)
    only = "only" in said and not said & OPERATIONS and not condition
    target = _target(question, table, header_stems)
    if not said & OPERATIONS and not condition:  # "who was the only rider to score 9 points?"
        equal = equal_rows(question, table, header_stems, target)
        if equal is not None and len(equal[0]) == 1:
            return cell_of(table, equal[0][0], target or text_column(table, equal[1]))
    if not said & OPERATIONS and not condition and not only:
        return None
    dated = [h for h in table.headers if header_stems[h] & _DATE_STEMS]
    dated += [h for h in table.headers if h not in dated and h in table.dated]
    if _WHEN.match(question):  # "when ...", "what year ...": a date column or nothing
        if not dated:
            return None
        target = dated[0]
    if condition:  # "which year were there less than 672 contestants?"
        return meeting(question, table, header_stems, target)
    if only:  # "which ship is the only container ship listed?": the one row the words name
        rows, matched = _narrowed(table, terms)
        if target is None or len(rows) != 1 or not matched:
            return None
        return cell_of(table, rows[0], target)
    if said & (NEXT | PREVIOUS):
        if said & (SUPERLATIVES | FIRST | LAST):
            return None  # "the most points after 2010": more than one step
        placed = not said & (NEXT | PREVIOUS) - PLACED
        after = bool(said & NEXT) != _in_time_reversed(table, said)  # "won after X": later
        return _neighbour(table, terms, target, after=after, names_only=placed)
    rows, matched = _narrowed(table, terms)
    ranked = _ranked_by(asked, table, header_stems, exclude=target)
    if ranked is None and said & _DATED_ORDINALS and dated and dated[0] != target:
        ranked = (dated[0], next(w for w in asked if w in _DATED_ORDINALS))  # "played earliest"
    if ranked is None and said & (FIRST | LAST):  # "which institution was *founded* last?"
        by_date = [h for h in dated if h != target and header_stems[h] & asked_stems]
        if by_date:
            ranked = (by_date[0], next(w for w in asked if w in FIRST | LAST))  # the first said
    if ranked is not None and not said & SUPERLATIVES:  # "last place", "top in points"
        column, word = ranked
        highest = _ordinal_is_highest(word, table, column)
        row = None if highest is None else _extreme(table, rows, column, highest)
        if row is not None:
            return cell_of(table, row, target or text_column(table, exclude={column, *matched}))
    if said & SUPERLATIVES:
        if said & (FASTEST | SLOWEST):  # "who raced the fastest?": the lowest time
            column, highest = time_column(table, header_stems, None), bool(said & SLOWEST)
            if column and not highest:  # the rows' times, else all ("raced" named "... Racing")
                every = list(range(len(table.rows)))
                rows = _absolute_times(table, rows, column) or _absolute_times(table, every, column)
        else:
            column = named_numeric(table, header_stems, asked_stems, exclude=target)
            lower_better = column and (
                _holds_places(table, column) or (said & MERIT and "time" in header_stems[column])
            )  # the highest rank is the smallest number, the best time the shortest
            highest = bool(said & MOST) != bool(lower_better)
        if column is None:
            return None
        if said & AGES and column in table.dated:  # the oldest founded: the earliest year
            highest = not highest
        row = _extreme(table, rows, column, highest)
        if row is None:
            return None
        return cell_of(table, row, target or text_column(table, exclude={column, *matched}))
    if target is None and not asked_stems & all_header_stems:
        return None  # "who was the first person on the moon?" names no column of the table
    first = bool(said & FIRST) != _in_time_reversed(table, said)  # "his first role": earliest
    row = rows[0] if first else rows[-1]
    return cell_of(table, row, target or text_column(table, exclude=matched))


def _in_time_reversed(table: Table, said: set[str]) -> bool:
    """Whether "first", "after" go against the table's order: its rows run latest first.

    Only when the question speaks of time, not of the page ("first *listed*", "next on the
    *list*", "above"): then order is what the years of the table's first column of dates say.
    """
    if said & (TABLE_WORDS | PLACED | {"top", "bottom"}):
        return False
    dated = [h for h in table.headers if h in table.dated]
    if not dated:
        return False
    years = [v for r in range(len(table.rows)) if (v := cell_value(table, r, dated[0])) is not None]
    steps = [b - a for a, b in itertools.pairwise(years) if b != a]
    return len(steps) >= 2 and all(step < 0 for step in steps)


def _neighbour(
    table: Table, terms: set[str], target: str | None, after: bool, names_only: bool = False
) -> Cell | None:
    """The cell of the row after (or before) the row the question names.

    ``names_only``: the naming cell must not be in a column of numbers.
    """
    anchor = _anchor(table, terms)
    if anchor is None or (names_only and anchor[1] in table.numeric):
        return None
    row, header = anchor
    row += 1 if after else -1
    if not 0 <= row < len(table.rows):
        return None
    if target is None:  # "who came after X?": X's column when it holds names
        target = header if header not in table.numeric else text_column(table, set())
    return cell_of(table, row, target)


def _ordinal_is_highest(word: str, table: Table, column: str) -> bool | None:
    """Whether ``word`` ("first", "top", "last") wants the column's largest value; None: unsure.

    Places count up (first place is 1); years too (the first is the earliest); amounts are
    ranked down (the top scorer has the most), where "first" and "last" say nothing.
    """
    last = word in LAST
    if _is_rank(table, column) or column in table.dated:
        return last
    if word in {"top", "bottom"}:  # the top time is the shortest
        return (word == "top") != ("time" in _stems(column))
    return None


def _extreme(table: Table, rows: list[int], column: str, highest: bool) -> int | None:
    """Of ``rows``, the one with the highest (or lowest) value in ``column``; ties: the first."""
    valued = [(v, r) for r in rows if (v := cell_value(table, r, column)) is not None]
    if not valued:
        return None
    return (max if highest else min)(valued, key=lambda t: t[0])[1]


def _absolute_times(table: Table, rows: list[int], column: str) -> list[int]:
    """Of ``rows``, those whose time is a time, not a gap to the winner's ("+2.1086") or none.

    A results table gives the winner's time and the others' as gaps; the fastest is among the
    times, and the smallest gap is no time at all.
    """
    gaps = {r for r in rows if table.rows[r].get(column, "").lstrip().startswith("+")}
    timed = [r for r in rows if r not in gaps] if gaps else rows
    return [r for r in timed if cell_value(table, r, column) is not None]


def _ranked_by(
    asked: list[str], table: Table, header_stems: dict[str, set[str]], exclude: str | None
) -> tuple[str, str] | None:
    """The numeric column an ordinal names ("last *place*", "top *rank*") and the ordinal."""
    for word, following in itertools.pairwise(asked):
        if word not in FIRST | LAST:
            continue
        for header in table.headers:
            named = header != exclude and stem(following) in header_stems[header]
            if named and header in table.numeric:
                return header, word
    return None


def _target(question: str, table: Table, header_stems: dict[str, set[str]]) -> str | None:
    """The column the first word after "which"/"what" names, if any.

    Verbs, articles and operators are passed over: "which *rider*", "what was the first *ship*".
    """
    found = _TARGET.search(question)
    if not found:  # "who was the last *flag bearer*?"; else "who ...?" asks for a "Name"
        said = _said_column(question, table, header_stems)
        if said is None and _WHO.match(question):
            named = (h for h in table.headers if "name" in header_stems[h])
            said = next((h for h in named if h not in table.numeric), None)
        return said
    phrase = found.group(1)
    name_of = _NAME_OF.match(phrase)  # "what is the name of the first *jockey*"
    if name_of:
        phrase = question[found.start(1) + name_of.end() :]
    content = [
        stem(w)
        for w in words(phrase)
        if w not in STOP_WORDS and w not in QUESTION_WORDS and w not in OPERATORS and w != "only"
    ]
    named = set(content[:1])
    if not named:
        return None
    best = max(table.headers, key=lambda h: len(header_stems[h] & named))
    if header_stems[best] & named:
        return best
    return kind_column(table, named)  # "which rifle ...?" over a column of "Rifle 1889"


def _said_column(question: str, table: Table, header_stems: dict[str, set[str]]) -> str | None:
    """The column of names whose every word the question's opening says ("who directed").

    Not a column of numbers or dates (what a question compares by), nor one whose cells hold
    the question's words (what it narrows by: "the first minister of the *socialist* party").
    Only in its first words: "who had the most votes in the *song* contest?" asks for a singer.
    """
    opening = words(question)[:_OPENING]
    said = {stem(w) for w in opening if w not in STOP_WORDS and w not in QUESTION_WORDS}
    named = [
        h
        for h in table.headers
        if header_stems[h] and header_stems[h] <= said
        and h not in table.numeric and h not in table.dated
        and not any(said & cells.get(h, frozenset()) - header_stems[h] for cells in table.stems)
    ]  # fmt: skip
    return max(named, key=lambda h: len(header_stems[h])) if named else None


def _anchor(table: Table, terms: set[str]) -> tuple[int, str] | None:
    """The row and column of the cell the question names ("after Alexander Krein").

    The cell holding most of the question's own terms, when they are at least half its words:
    "Roman" does not name the row "Roman Catholic Diocese of Lyon".
    """
    best, where = 0, None
    for r, cells in enumerate(table.stems):
        for header, stems in cells.items():
            hits = len(terms & stems)
            if hits > best and 2 * hits >= len(stems):
                best, where = hits, (r, header)
    return where


def _narrowed(table: Table, terms: set[str]) -> tuple[list[int], set[str]]:
    """The rows holding most of the question's own terms (all rows when none holds any).

    Also returns the columns where those terms were found: a condition, not the answer.
    """
    scores = [sum(len(terms & stems) for stems in cells.values()) for cells in table.stems]
    top = max(scores)
    if top == 0:
        return list(range(len(table.rows))), set()
    rows = [r for r, s in enumerate(scores) if s == top]
    matched = {h for r in rows for h, stems in table.stems[r].items() if terms & stems}
    return rows, matched


def _stems(header: str) -> set[str]:
    """A column name's word stems."""
    return {stem(w) for w in words(header)}


def _holds_places(table: Table, header: str) -> bool:
    """Whether a column holds places, where the highest rank (place, pick) is the smallest.

    Not counts of a place ("Fourth place": 0, 2, 1), nor an amount with its rank ("$2.7
    billion (30th)"): places are whole numbers from 1.
    """
    if not _stems(header) & PLACE_STEMS or _ORDINAL.search(header):
        return False
    values = [v for c in table.rows if (v := number(c.get(header, ""))) is not None]
    return bool(values) and all(v >= 1 and v == int(v) for v in values)


def _is_rank(table: Table, header: str) -> bool:
    """Whether a column counts places ("Rank", "Pos": 1, 2, 3 ...): the first is the smallest."""
    if not _stems(header) & RANK_STEMS:
        return False
    values = [v for c in table.rows if (v := number(c.get(header, ""))) is not None]
    return bool(values) and min(values) == 1 and all(v == int(v) for v in values)
