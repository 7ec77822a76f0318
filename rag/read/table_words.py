"""The words that say how a question about a whole table compares its rows.

Shared by the operations over one table (:mod:`rag.read.table_ops`) and those over two rows it
names (:mod:`rag.read.table_pairs`): a word that asks for an operation is never taken for the
name of a row or a column.
"""

from __future__ import annotations

from rag.text.words import stem

# fmt: off
MOST = frozenset(["most", "highest", "largest", "biggest", "greatest", "longest", "tallest",
                  "heaviest", "maximum", "oldest", "best"])
LEAST = frozenset(["least", "lowest", "smallest", "fewest", "shortest", "minimum", "youngest",
                   "worst"])
#: Superlatives of merit: over times, the best is the shortest.
MERIT = frozenset(["best", "worst"])
FIRST = frozenset(["first", "top", "earliest"])
LAST = frozenset(["last", "bottom", "latest", "final"])
NEXT = frozenset(["after", "next", "following", "below"])
PREVIOUS = frozenset(["before", "previous", "preceding", "prior", "above"])
#: Neighbours by place on the page: "above 10 points" is a condition, so the row they name
#: must be named by a cell of names, not of numbers.
PLACED = frozenset(["above", "below"])
#: Superlatives of time: the lowest or highest value of the one column of times.
FASTEST = frozenset(["fastest", "quickest"])
SLOWEST = frozenset(["slowest"])
#: Comparatives of "X or Y?": more of a named column, less of it, sooner in order or time.
MORE = MOST | {"more", "higher", "larger", "bigger", "greater", "longer", "taller", "heavier",
               "older"}
LESS = LEAST | {"less", "fewer", "lower", "smaller", "shorter", "lighter", "younger"}
SOONER = frozenset(["first", "earlier", "sooner", "earliest"])
LATER = frozenset(["later", "last", "latest"])
FASTER = frozenset(["faster", "quicker"])
SLOWER = frozenset(["slower"])
# fmt: on
SUPERLATIVES = MOST | LEAST | FASTEST | SLOWEST
OPERATIONS = SUPERLATIVES | FIRST | LAST | NEXT | PREVIOUS
COMPARATIVES = MORE | LESS | SOONER | LATER | FASTER | SLOWER
#: Age, reversed over a column of years (the oldest has the smallest year).
AGES = frozenset(["oldest", "youngest", "older", "younger"])
#: Words of the operation, never of a row's or a column's name.
OPERATORS = OPERATIONS | COMPARATIVES | {"right", "immediately"}
#: Column names that count places, where 1 is the first.
RANK_STEMS = frozenset(stem(w) for w in ["rank", "place", "pos", "position", "no", "seed"])
#: Columns of places, where higher is the smaller number ("peak position", "rank", a draft's
#: "choice").
PLACE_STEMS = frozenset(
    stem(w) for w in ["rank", "place", "position", "peak", "seed", "pick", "choice"]
)
#: Words naming the table itself ("how many are *listed* on the *chart*?"), never a row.
TABLE_WORDS = frozenset(["list", "listed", "chart", "table", "shown", "there", "total"])
