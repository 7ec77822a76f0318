"""Questions that name their document: "Who wrote PEP 654?", "What does // compute under PEP 238?".

Retrieval ranks passages, not documents, so a passage of another document that mentions the
named one ("PEP 465 ... see PEP 238") can come first, and the reader will happily answer from
it. When the question names a retrieved document, by its file name's identifier ("PEP 238"
for ``pep-0238.rst``, "RFC 9110" for ``rfc9110.txt``) or by its whole title ("Exception
Groups and except*"), only that document's passages are read (:func:`named_passages`).

Retrieval adds two kinds of passages for a named document, after the ranked ones and marked
:data:`NAMED_LEAD` (see :class:`rag.retrieve.hybrid.HybridRetriever`):

- a document named by its identifier that retrieval missed altogether ("What exception does
  PEP 618 raise ...?" ranked five passages of other PEPs first) gets its best passages for the
  question, as many as retrieval returns (:func:`identified_sources` says which documents
  are named);
- a question about a named document often asks for what its lead holds: who wrote it, when,
  for which version, its status. Those lines share few words with the question ("Who wrote
  it?" against "Author: Irit Katriel"), so the lead ranks low among the document's own
  passages; :func:`lead_chunks` says which leads to add.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePosixPath

from langchain_core.documents import Document

from rag.store import ChunkRecord, FileEntry

# a file name's identifier: letters then a number ("pep-0238", "rfc9110", "iso_8601")
_STEM_ID = re.compile(r"^(?P<kind>[a-z]+)[-_ ]?0*(?P<number>\d+)$", re.IGNORECASE)
# the same in a question: "PEP 238", "RFC9110", "pep-0238"
_MENTION = re.compile(r"\b([a-z]+)[-_ ]?(\d+)\b", re.IGNORECASE)
#: Words a title needs before its mention counts (a one-word title is any word).
_MIN_TITLE_WORDS = 2
#: Named documents given passages or a lead at most: a question naming more is a comparison,
#: and its passages are better chosen by retrieval.
MAX_NAMED = 2
#: Metadata key, True on a lead passage added because the question names its document.
NAMED_LEAD = "named_lead"


def stem_id(source: str) -> tuple[str, str] | None:
    """``(kind, number)`` of a file name's identifier ("pep", "238" for pep-0238.rst), or None.

    The number has no leading zeros, as questions write it.
    """
    match = _STEM_ID.match(PurePosixPath(source).stem)
    return (match["kind"].casefold(), match["number"]) if match else None


def identifier(source: str) -> re.Pattern[str] | None:
    """How a question names ``source`` by its identifier, or None if its name has none.

    "PEP 8", "pep-0008" and "PEP 8's" all name pep-0008.rst.
    """
    found = stem_id(source)
    if found is None:
        return None
    kind, number = re.escape(found[0]), found[1]
    return re.compile(rf"\b{kind}[-_ ]?0*{number}\b(?:['\u2019]s\b)?", re.IGNORECASE)


def identified_sources(question: str, sources: Iterable[str]) -> list[str]:
    """The ``sources`` whose identifier ``question`` mentions ("PEP 618" for pep-0618.rst)."""
    mentions = _MENTION.findall(question)
    mentioned = {(kind.casefold(), number.lstrip("0")) for kind, number in mentions}
    if not mentioned:
        return []
    return [source for source in sources if stem_id(source) in mentioned]


def names(question: str, source: str, title: str) -> bool:
    """Whether ``question`` names the document ``source`` (titled ``title``)."""
    pattern = identifier(source)
    if pattern is not None and pattern.search(question):
        return True
    flat_title = " ".join(title.split()).casefold()
    return len(flat_title.split()) >= _MIN_TITLE_WORDS and flat_title in _flat(question)


def named_passages(question: str, passages: Sequence[Document]) -> list[Document]:
    """The passages of the documents ``question`` names (empty when it names none)."""
    named: set[str] = set()
    for doc in passages:
        source = str(doc.metadata.get("source", ""))
        if source not in named and names(question, source, str(doc.metadata.get("title") or "")):
            named.add(source)
    return [d for d in passages if d.metadata.get("source") in named]


def lead_chunks(
    question: str, passages: Sequence[Document], files: Mapping[str, FileEntry]
) -> list[ChunkRecord]:
    """The first chunk of each document ``question`` names that ``passages`` lack.

    Only documents among the retrieved ``passages`` count, as in :func:`named_passages`: a
    title's words in a question about something else ("How do type hints work?") name the
    document only when retrieval agrees it is relevant.
    """
    have = {str(d.metadata.get("chunk_id", "")) for d in passages}
    sources: list[str] = []
    for doc in passages:
        source = str(doc.metadata.get("source", ""))
        if source in sources or source not in files:
            continue
        if names(question, source, str(doc.metadata.get("title") or "")):
            sources.append(source)
    leads = [files[s].chunks[0] for s in sources[:MAX_NAMED] if files[s].chunks]
    return [chunk for chunk in leads if chunk.id not in have]


def _flat(text: str) -> str:
    return " ".join(text.split()).casefold()
