"""A citation of the extractive answerer: an exact slice of a document, placed in its passage.

Shared by every answer the reader's side gives (a span's sentence, evidence sentences, a table
row, the rows a count counted), so that every quote is checked against its document the same
way before it is shown.
"""

from __future__ import annotations

from collections.abc import Callable

from langchain_core.documents import Document

from rag.results import Citation
from rag.text.locations import locate


def citation(
    n: int,
    doc: Document,
    span: tuple[int, int],
    score: float,
    doc_text: Callable[[str], str],
) -> Citation:
    """Citation ``[n]`` of document offsets ``span`` inside passage ``doc``.

    Raises:
        AssertionError: the passage does not hold the document's text at those offsets (an
            index out of step with its documents would otherwise cite the wrong words).
    """
    meta = doc.metadata
    start, end = span
    quote = doc_text(meta["source"])[start:end]
    base = int(meta["start"])
    if doc.page_content[start - base : end - base] != quote:
        raise AssertionError(f"quote offsets do not match {meta['source']}[{start}:{end}]")
    page, location = locate(meta, start)
    return Citation(
        n=n,
        source=meta["source"],
        quote=quote,
        start=start,
        end=end,
        passage=doc.page_content,
        score=round(score, 4),
        title=meta.get("title", ""),
        page=page,
        location=location,
        chunk_id=meta.get("chunk_id", ""),
        passage_start=base,
    )
