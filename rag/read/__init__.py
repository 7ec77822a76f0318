"""The extractive answerer: the reader model, its windows and spans, the answer it quotes.

:class:`ExtractiveAnswerer` answers by quoting: the :class:`ReaderModel` finds the answer
:class:`Span` in question-passage windows (or says none is there), the :class:`ShapeModel` says
whether the question wants a span or evidence sentences, and a :class:`ConfidenceMap` turns the
reader's margin into the chance the answer is right. The window helpers are shared with
training; the window builder itself is ``rag.read.windows.windows`` (its module's name).
A document's header block is read as one table row, and a named document's own name is
never the span (``rag.read.headers``). A question comparing a table's rows is answered from the
whole table (:func:`answer_cell` over :func:`parse_table`'s cells; ``rag.read.table_ops``), and
one counting rows with the rows it counts (:func:`counted_rows`).
A question about a year or a name no passage mentions is refused unread, by either answerer
(``rag.read.mentions``); an answer whose sentences never word the relation the question asks
for ("predecessor", "leads") is refused once read (``rag.read.relations``).
"""

from rag import _front_door

__getattr__, __dir__, __all__ = _front_door(
    __name__,
    {
        "answerer": ("TABLE_ANSWERER", "ExtractiveAnswerer"),
        "confidence": ("ConfidenceMap",),
        "evidence": ("sentence_of",),
        "mentions": ("NAME_ABSTAINER", "YEAR_ABSTAINER", "mentioned"),
        "model": ("FIRST_WINDOWS", "ReaderModel", "matrix_sha256", "packaged_word_embeddings"),
        "names": ("names_in", "passages_naming", "question_names"),
        "relations": (
            "RELATION_ABSTAINER",
            "RELATION_FORMS",
            "RELATION_WORD",
            "RELATIONS",
            "asked_relation",
            "plural",
            "worded",
            "words_relation",
        ),
        "shape": ("ShapeModel",),
        "table_counts": ("counted_rows",),
        "table_ops": ("answer_cell",),
        "table_parse": ("parse_table",),
        "windows": ("Span", "Window", "balanced", "batch", "best_span", "configure"),
        "years": ("dated_passages",),
    },
)
