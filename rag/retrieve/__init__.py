"""Retrieval: hybrid dense + BM25 search, source filters and follow-up query rewriting.

:class:`HybridRetriever` finds a question's passages in both halves of the index and fuses the
two lists (:class:`Fusion`, :data:`DEFAULT_FUSION`); :func:`resolve_sources` says which
documents a ``sources`` filter names; :func:`rewrite` and :func:`rewrite_with_llm` turn a
follow-up question into a standalone query. The reader's own follow-up resolution is
``rag.retrieve.resolve.resolve`` (its module has the same name).
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
        "source_filter": ("resolve_sources",),
    },
)
