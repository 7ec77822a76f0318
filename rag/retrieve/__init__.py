"""Retrieval: hybrid dense + BM25 search, source filters and follow-up query rewriting.

:class:`HybridRetriever` finds a question's passages in both halves of the index and fuses the
two lists (:class:`Fusion`, :data:`DEFAULT_FUSION`); :func:`resolve_sources` says which
documents a ``sources`` filter names; :func:`rewrite` and :func:`rewrite_with_llm` turn a
follow-up question into a query; :func:`standalone_query` is what the pipeline searches and
reads for a follow-up (``rag.retrieve.resolve.resolve`` puts the referent where the pronoun
is; its module has the same name).
"""

from rag import _front_door

__getattr__, __dir__, __all__ = _front_door(
    __name__,
    {
        "followup": ("rewrite", "rewrite_with_llm"),
        "hybrid": (
            "DEFAULT_FUSION",
            "PLAIN_RRF",
            "Fusion",
            "HybridRetriever",
            "fuse",
            "to_passage",
        ),
        "named": ("NAMED_LEAD", "identifier", "named_passages"),
        "resolve": ("standalone_query",),
        "source_filter": ("resolve_sources",),
    },
)
