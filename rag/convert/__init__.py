"""Files to text: finding corpus files, decoding them; HTML, PDF, office, e-books, markup.

The first stage of ingest: :func:`discover` says which files of a corpus folder are documents
and of what kind (:data:`KINDS`), :func:`load` turns one into a :class:`RawDocument` (its text in
located parts) or a specific reason to skip it, and :data:`READING` versions how files become
text, so an index read another way is re-read. Spreadsheets come out as table lines; markup is
parsed to plain text in :mod:`rag.convert.markup`. A file that cannot be read raises
:class:`rag.errors.SkipFile`, which lives with the other errors.
"""

from rag import _front_door

__getattr__, __dir__, __all__ = _front_door(
    __name__,
    {
        "discovery": ("KINDS", "PARSED_MARKUP", "TABULAR", "discover", "file_digest"),
        "loaders": ("READING", "RawDocument", "load"),
        "office": ("load_csv", "table_lines"),
    },
)
