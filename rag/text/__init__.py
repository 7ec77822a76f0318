"""Text as offsets: words and stems, sentences, word pieces, and where an offset is in its file.

Every stage that looks at words or sentences asks this one: the lexical analysis BM25, the
reader and the citation checker share (:func:`analyze`, the stop words), the one sentence
splitter, word-piece budgets for the models, strings that remember where each character came
from (:class:`Traced`), and the map from a cleaned document's offset back to its page or part.
The splitter of words itself is ``rag.text.words.words`` (its module has the same name).
"""

from rag import _front_door

__getattr__, __dir__, __all__ = _front_door(
    __name__,
    {
        "locations": ("locate", "page_at", "within"),
        "sentences": ("fast_sentence_spans", "sentence_spans"),
        "traced": ("Traced", "join", "sub"),
        "whitespace": ("one_line",),
        "wordpieces": ("WordPieces",),
        "words": (
            "LIGHT_WORDS",
            "OVERLAP_STOP_WORDS",
            "QUESTION_WORDS",
            "STOP_WORDS",
            "WORD",
            "analyze",
            "stem",
            "stemmer",
        ),
    },
)
