"""The on-disk index: generations and their pointer, the manifest, Chroma vectors and BM25.

An index is a folder of immutable generations (:class:`IndexDir`, read through an
:class:`IndexSnapshot`); each holds a :class:`Manifest` of its files and chunks, the chunk
vectors in Chroma (:class:`ChromaVectors`), the BM25 keyword index (:class:`KeywordIndex`) over
the same chunks, and for PDFs where each character is on its page (:class:`CharBoxes`). Ingest
writes a new generation; questions read the current one.
"""

from rag import _front_door

__getattr__, __dir__, __all__ = _front_door(
    __name__,
    {
        "bm25": ("B", "K1", "KeywordIndex"),
        "generations": ("RESUME", "IndexDir", "IndexSnapshot", "check_inventory"),
        "manifest": ("ChunkRecord", "FileEntry", "Manifest"),
        "page_boxes": ("CharBoxes", "Rect", "box_path"),
        "vectors": ("ChromaVectors", "copy_store", "generation_vectors"),
    },
)
