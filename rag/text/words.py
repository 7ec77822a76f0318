"""Words, stems and stop words: the one lexical analysis every part of the app shares.

The BM25 index (:mod:`rag.store.bm25`), the dense text's stop-word filter
(:mod:`rag.ingest.pipeline`) and lexical overlap (:func:`analyze`, used by the answerers, the
citation checker and follow-up rewriting) all cut text into the same words, stem them with the same
Snowball stemmer and take
their stop words from this module, so that a stem :func:`analyze` yields is a term the keyword
index knows (the answerer weighs overlap terms by their BM25 IDF).

The stop words are one list in layers, not separate lists:

- :data:`STOP_WORDS`, bm25s' English list (Lucene's 33 words), is dropped everywhere: from the
  keyword index, from BM25 queries and from the dense text.
- :data:`QUESTION_WORDS` are also dropped from BM25 queries (documents keep them).
- :data:`OVERLAP_STOP_WORDS` adds :data:`LIGHT_WORDS` to both for overlap scoring.

Why overlap drops more than BM25 does, measured with each variant (fresh indexes):

- BM25 with :data:`OVERLAP_STOP_WORDS` for documents and queries lowers the fused SQuAD
  paragraph retrieval on all 10,570 dev questions (recall@1 0.8189 -> 0.8171, recall@5
  0.9593 -> 0.9574, MRR@10 0.8797 -> 0.8782); dropping only the light words from queries is no
  better (0.8177 / 0.9575 / 0.8783). It would also make ``drop_question_words=False`` (the
  "BM25 alone" and plain-RRF benchmark rows) mean nothing, since a stop word is never indexed.
- :func:`analyze` with only :data:`STOP_WORDS`, or with it and the question words, answers one
  holdout question fewer (reference answer contained in 28 of 35 instead of 29); the shipped
  questions are unchanged (32 of 42).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

__all__ = [
    "LIGHT_WORDS",
    "OVERLAP_STOP_WORDS",
    "QUESTION_WORDS",
    "STOP_WORDS",
    "WORD",
    "analyze",
    "stem",
    "stemmer",
    "words",
]

#: A word: two or more word characters (bm25s' default splitter; one letter says nothing).
WORD = re.compile(r"(?u)\b\w\w+\b")

# fmt: off
#: Words too common to index or search for: Lucene's English list, the one bm25s ships as
#: ``STOPWORDS_EN`` (written out so that importing this module does not import bm25s and
#: SciPy; a test keeps the two equal). Saved indexes do not record it: changing it (or
#: :data:`WORD`, or the stemmer) means changing the chunking id in :mod:`rag.ingest.pipeline`
#: too, so that existing indexes are rebuilt.
STOP_WORDS: frozenset[str] = frozenset([
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with",
])

#: Words that say a sentence is a question, not what it is about. Dropped from BM25 queries
#: only: on SQuAD that alone lifts BM25 recall@1 by two points, since "what", "did" and "was"
#: otherwise reward any passage that uses them.
QUESTION_WORDS: frozenset[str] = frozenset([
    "what", "which", "who", "whom", "whose", "when", "where", "why", "how",
    "did", "does", "do", "was", "were", "is", "are",
])

#: Auxiliaries, modals, pronouns and the nouns that say what kind of answer is wanted ("year",
#: "name", "how long"), but not what it is about: noise when counting shared words.
LIGHT_WORDS: frozenset[str] = frozenset([
    "done", "doing", "has", "have", "had", "been", "being",
    "can", "could", "would", "should", "shall", "may", "might", "must",
    "i", "you", "he", "she", "we", "me", "my", "your", "our", "its", "his", "her", "them",
    "than", "so", "about", "from", "also", "any", "some", "each", "other",
    "many", "much", "long", "often", "year", "years", "date", "time",
    "name", "named", "called", "kind", "type", "one", "ones",
])
# fmt: on

#: The stop words of lexical overlap (:func:`analyze`).
OVERLAP_STOP_WORDS: frozenset[str] = STOP_WORDS | QUESTION_WORDS | LIGHT_WORDS


def words(text: str) -> list[str]:
    """The lower-cased words of ``text``, as the keyword index splits it."""
    return WORD.findall(text.lower())


@lru_cache(maxsize=1)
def stemmer() -> Any:
    """The English Snowball stemmer (PyStemmer), created once: BM25 and overlap share it."""
    import Stemmer

    return Stemmer.Stemmer("english")


def stem(word: str) -> str:
    """The stem of one lower-cased word, as the keyword index stores it."""
    return str(stemmer().stemWord(word))


def analyze(text: str) -> list[str]:
    """Stems of the words of ``text`` that are not overlap stop words, in order.

    These are the units of lexical overlap between a question, a passage and an answer.
    """
    stem_word = stemmer().stemWord
    return [stem_word(word) for word in words(text) if word not in OVERLAP_STOP_WORDS]
