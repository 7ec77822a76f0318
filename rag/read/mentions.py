"""What a question names that no passage mentions: checked before anything is read.

A year (:mod:`rag.read.years`) or a name (:mod:`rag.read.names`) that no retrieved passage
mentions makes the question one these documents do not answer, whatever a reader or a chat
model would make of them. Both answerers ask here first, so that switching to a generative
answerer does not change *when* the system answers.
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.documents import Document

from rag.read.names import passages_naming
from rag.read.shape import asks_which_document
from rag.read.years import dated_passages

#: ``Answer.answerer`` of an abstention because no passage mentions the question's year: nothing
#: was read, so it has no score for a threshold either (``rag eval --calibrate`` leaves it out).
YEAR_ABSTAINER = "extractive:year"
#: ... and because no passage's document mentions a name the question names.
NAME_ABSTAINER = "extractive:name"


def mentioned(query: str, passages: Sequence[Document]) -> tuple[list[Document], str]:
    """The passages that mention the query's years and names, and ``""``; or ``[]`` and who refused.

    The second value is :data:`YEAR_ABSTAINER` or :data:`NAME_ABSTAINER` when no passage
    mentions one of the query's years or names; a query naming neither keeps every passage, and
    so does one asking *which document* ("Which PEP ...?"), answered by a document's title.
    """
    kept = list(passages)
    if asks_which_document(query):
        return kept, ""
    for check, abstainer in (dated_passages, YEAR_ABSTAINER), (passages_naming, NAME_ABSTAINER):
        found = check(query, kept)
        if found == []:
            return [], abstainer
        kept = found or kept
    return kept, ""
