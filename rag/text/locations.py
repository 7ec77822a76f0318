"""Where a character offset of a cleaned document is in the original file.

A document keeps ``(start offset, value)`` pairs, in offset order, for its pages (PDFs) and
for its locations ("page 3", "slide 2", "sheet Prices, row 12", "chapter 4: ..."). The value
in force at an offset is the last pair starting at or before it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def page_at(pages: Sequence[tuple[int, T]], offset: int) -> T | None:
    """The value in force at ``offset``, from ``(start offset, value)`` pairs in order."""
    at = bisect_right(pages, offset, key=lambda pair: pair[0])
    return pages[at - 1][1] if at else None


def within(pairs: Sequence[tuple[int, T]], start: int, end: int) -> list[tuple[int, T]]:
    """The ``(offset, value)`` pairs in force anywhere in ``[start, end)``, the first at ``start``.

    A chunk carries these so that a citation inside it finds its own page or location even
    when the chunk runs across a page break.
    """
    first = bisect_right(pairs, start, key=lambda pair: pair[0])
    out = [(start, pairs[first - 1][1])] if first else []
    for offset, value in pairs[first:]:
        if offset >= end:
            break
        out.append((offset, value))
    return out


def locate(metadata: Mapping[str, Any], offset: int) -> tuple[int | None, str]:
    """Page and location of ``offset`` inside a retrieved chunk (from its metadata)."""
    page = page_at(metadata.get("pages") or [], offset)
    location = page_at(metadata.get("locations") or [], offset)
    if page is None:
        page = metadata.get("page")
    return page, location if location is not None else metadata.get("location", "")
