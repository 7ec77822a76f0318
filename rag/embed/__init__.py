"""Sentence embeddings: the packaged model, its two runtimes and the vector cache.

:class:`Embedder` turns chunks and questions into vectors with the packaged sentence model,
offline, through ONNX at query time or torch for bulk ingest; :func:`resolve_model_path` says
which model folder a name means without loading it; :class:`VectorCache` keeps vectors by the
hash of their text across ingests, so re-ingesting an unchanged corpus embeds nothing.
"""

from rag import _front_door

__getattr__, __dir__, __all__ = _front_door(
    __name__,
    {
        "embedder": ("Embedder",),
        "model_folder": ("resolve_model_path",),
        "vector_cache": ("VectorCache",),
    },
)
