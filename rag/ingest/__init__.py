"""Ingest: a corpus folder becomes a new index generation (records, stores, uploads).

:func:`ingest` runs the pipeline (discover, load, clean, chunk, embed, index) into a new
generation and switches to it only when it is whole; :func:`chunk_document` and
:func:`keyword_text` are the records it writes; :func:`add_uploads` and
:func:`remove_document` change the corpus for a user who cannot see its folder (and
:func:`when_free` lets the ingest that follows wait for a running one); a
:class:`Watcher` re-ingests when the folder changes.
"""

from rag import _front_door

__getattr__, __dir__, __all__ = _front_door(
    __name__,
    {
        "pipeline": ("ingest",),
        "records": ("chunk_document", "keyword_text"),
        "uploads": (
            "UPLOAD_SUFFIXES",
            "UploadError",
            "add_uploads",
            "remove_document",
            "safe_filename",
            "when_free",
        ),
        "watch": ("WatchReport", "Watcher"),
    },
)
