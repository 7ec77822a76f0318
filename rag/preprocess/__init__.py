"""Raw text to cleaned text and chunks: cleaning, PDF page cleaning, chunking into exact slices.

:func:`clean` turns a loaded file's raw text into the :class:`CleanDocument` whose text every
offset, chunk and citation refers to (PDF pages get their own cleaning first), and
:func:`chunk_text` cuts that text into chunks that are exact slices of it, so a quote is always
a substring of the document it cites; :func:`is_heading` says which paragraph is a title
(the chunker starts a section there, the answerer does not quote or answer with it).
"""

from rag import _front_door

__getattr__, __dir__, __all__ = _front_door(
    __name__,
    {
        "chunking": ("chunk_text", "is_heading"),
        "cleaning": ("CleanDocument", "clean"),
    },
)
