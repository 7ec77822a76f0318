"""Retrieval: hybrid dense + BM25 search, source filters and follow-up query rewriting.

:class:`HybridRetriever` finds a question's passages in both halves of the index and fuses the
two lists (:class:`Fusion`, :data:`DEFAULT_FUSION`); :func:`resolve_sources` says which
documents a ``sources`` filter names; :func:`rewrite` and :func:`rewrite_with_llm` turn a
follow-up question into a query; :func:`standalone_query` is what the pipeline searches and
reads for a follow-up (``rag.retrieve.resolve.resolve`` puts the referent where the pronoun
is; its module has the same name). A question that names a document ("PEP 654", its title)
gets that document's lead and, when retrieval missed it, its best passages
(:mod:`rag.retrieve.named`); :func:`named_passages` keeps the named documents' passages, and
:data:`NAMED_LEAD` marks what was added.
"""

from rag import _front_door

__getattr__, __dir__, __all__ = _front_door(
    __name__,
    {
        "followup": ("reading_query", "rewrite", "rewrite_with_llm"),
        "hybrid": (
            "DEFAULT_FUSION",
            "PLAIN_RRF",
            "Fusion",
            "HybridRetriever",
            "fuse",
            "to_passage",
        ),
        "named": ("NAMED_LEAD", "identifier", "named_passages", "stem_id"),
        "resolve": ("standalone_query",),
        "source_filter": ("resolve_sources",),
    },
)
