"""Questions that name their document: "What does the // operator compute under PEP 238?".

Retrieval ranks passages, not documents, so a passage of another document that mentions the
named one ("PEP 465 ... see PEP 238") can come first, and the reader will happily answer from
it. When the question names a retrieved document, by its file name's identifier ("PEP 238"
for ``pep-0238.rst``, "RFC 9110" for ``rfc9110.txt``) or by its whole title ("Exception
Groups and except*"), only that document's passages are read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePosixPath

from langchain_core.documents import Document

# a file name's identifier: letters then a number ("pep-0238", "rfc9110", "iso_8601")
_STEM_ID = re.compile(r"^(?P<kind>[a-z]+)[-_ ]?0*(?P<number>\d+)$", re.IGNORECASE)
#: Words a title needs before its mention counts (a one-word title is any word).
_MIN_TITLE_WORDS = 2


def identifier(source: str) -> re.Pattern[str] | None:
    """How a question would name ``source`` by its identifier, or None if its name has none."""
    match = _STEM_ID.match(PurePosixPath(source).stem)
    if not match:
        return None
    kind, number = re.escape(match.group("kind")), match.group("number")
    return re.compile(rf"\b{kind}[-_ ]?0*{number}\b", re.IGNORECASE)


def named_passages(question: str, passages: Sequence[Document]) -> list[Document]:
    """The passages of the documents ``question`` names (empty when it names none)."""
    flat = " ".join(question.split()).casefold()
    named: set[str] = set()
    for doc in passages:
        source = str(doc.metadata.get("source", ""))
        if source in named:
            continue
        pattern = identifier(source)
        title = " ".join(str(doc.metadata.get("title") or "").split()).casefold()
        if (pattern is not None and pattern.search(question)) or (
            len(title.split()) >= _MIN_TITLE_WORDS and title in flat
        ):
            named.add(source)
    return [d for d in passages if d.metadata.get("source") in named]
