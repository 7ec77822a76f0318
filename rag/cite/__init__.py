"""Citations: ``[n]`` markers made safe, and the checker that ties answer sentences to passages.

A model's answer is made safe to show (:func:`sanitize`, :class:`StreamCleaner` while it
streams) and its ``[n]`` markers renumbered to real passages (:func:`renumber`); the
:class:`CitationChecker` scores each answer sentence against its passages and turns markers
into citations; for PDFs,
:func:`with_marks` gives a citation its page and rectangles and :func:`render_marked_page` draws
them on the page image.
"""

from rag import _front_door

__getattr__, __dir__, __all__ = _front_door(
    __name__,
    {
        "checker": ("MIN_SUPPORT", "CitationChecker", "stems_match"),
        "markers": (
            "CLEAN_MARKER",
            "StreamCleaner",
            "iter_text",
            "renumber",
            "sanitize",
            "strip_markers",
            "urls_in",
        ),
        "page_image": ("DEFAULT_WIDTH", "render_marked_page"),
        "page_marks": ("with_marks",),
    },
)
