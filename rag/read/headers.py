"""Header fields at the reader: a named document's header read as a row, never its own name.

A PEP's or an e-mail's header is a block of "Field: value" lines. The retriever adds the lead
of a document the question names (:mod:`rag.retrieve.named`); here that header is shown to
the reader the way it learned records, as one table row (:func:`fields_as_row`), its added
lead is ranked with its document (:func:`passage_ranks`), and the lines that merely repeat
the document's name are kept from being the answer (:func:`own_names`). The document's own
passages read the question with "this PEP" for its "PEP 8" (:func:`read_questions`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from langchain_core.documents import Document

from rag.retrieve import NAMED_LEAD, identifier, named_passages, stem_id

#: A line of a header block: "Author: ...", "Status: Final" (a PEP's or an e-mail's headers)
FIELD_LINE = re.compile(r"^[A-Z][\w-]*(?: [\w-]+)?: \S", re.MULTILINE)


def fields_as_row(text: str) -> str:
    """``text`` with each block of header fields read as one table row; the same length.

    The reader learned records from table rows ("Header: value; Header: value", as the CSV
    and sheet loaders write them); a PEP's or an e-mail's header, one field per line, reads
    to it as one run-on phrase, and "Which Python version was PEP 450 for?" got its
    ``Created:`` date. Each line break inside a run of three or more field lines becomes
    ";", so the span offsets are the text's own: on PEP 450's header that question then reads
    "3.4", and "Who wrote it?" / "What is its status?" read the author and "Final" (README
    "Answer shape").
    """
    chars = list(text)
    run: list[int] = []  # offsets of the line breaks after each field line of the current run
    cursor = 0
    for line in text.split("\n"):
        end = cursor + len(line)
        if FIELD_LINE.match(line):
            run.append(end)
        else:
            _join(chars, run)
            run = []
        cursor = end + 1
    _join(chars, run)
    return "".join(chars)


def own_name_fields(text: str, title: str, number: str, question: str) -> list[tuple[int, int]]:
    """Offsets of the header lines that name the document itself ("PEP: 289", its title).

    Read as a row, a named document's header offers its own name as an answer: "Which
    decorator does PEP 557 use?" read "Data Classes", "In which Python version were
    generator expressions added?" read "289". The question already names the document, so
    its name is not what it asks, unless it asks for that field ("What is PEP 8's title?";
    ``question`` without the words that name the document, so "PEP 8" asks for no field).
    """
    flat_title = " ".join(title.split()).casefold()
    asked = set(re.findall(r"[a-z]+", question.casefold()))
    out: list[tuple[int, int]] = []
    cursor = 0
    for line in text.split("\n"):
        key, sep, value = line.partition(": ")
        if sep and FIELD_LINE.match(line) and key.casefold() not in asked:
            flat = " ".join(value.split()).casefold()
            if flat and (flat == flat_title or (number and flat.lstrip("0") == number)):
                out.append((cursor, cursor + len(line)))
        cursor += len(line) + 1
    return out


def _join(chars: list[str], breaks: list[int]) -> None:
    if len(breaks) >= 3:
        for at in breaks[:-1]:
            chars[at] = ";"


def passage_ranks(passages: Sequence[Document]) -> list[int]:
    """Each passage's rank; a named document's added lead ranks with its document's best.

    The retriever appends the lead of a document the question names after the ranked
    passages (rag.retrieve.named.lead_chunks); ranked last, its windows would rarely be read.
    """
    first: dict[str, int] = {}
    ranks = []
    for i, doc in enumerate(passages):
        source = str(doc.metadata.get("source", ""))
        first.setdefault(source, i)
        ranks.append(first[source] if doc.metadata.get(NAMED_LEAD) else i)
    return ranks


def own_names(query: str, passages: Sequence[Document]) -> dict[int, list[tuple[int, int]]]:
    """Per passage of a document ``query`` names, where its header gives that name."""
    named = {str(d.metadata.get("source")) for d in named_passages(query, passages)}
    out: dict[int, list[tuple[int, int]]] = {}
    for i, doc in enumerate(passages):
        source = str(doc.metadata.get("source"))
        if source in named:
            found = stem_id(source)
            digits = found[1] if found else ""
            title = str(doc.metadata.get("title") or "")
            pattern = identifier(source)
            rest = pattern.sub(" ", query) if pattern else query
            out[i] = own_name_fields(doc.page_content, title, digits, rest.replace(title, " "))
    return out


def read_questions(query: str, passages: Sequence[Document]) -> list[str]:
    """The question each passage is read with: "this PEP" for its own document's "PEP 8".

    The reader learned from related-but-silent questions (a year, number or name swapped)
    that a number the passage lacks means "not here", and a document's passages seldom
    repeat its identifier: they say "this PEP", "this RFC". Read against "Use 4 spaces per
    indentation level.", "How many spaces per indentation level does PEP 8 recommend?"
    scored margin 0.59 (below the reader's threshold on the PEP questions of
    ``bench.answer_shape``), "... does this PEP recommend?" 7.49. Where the passage comes
    from, the document named is already given. The header is read the same way: read with
    "PEP 450", its "PEP: 450" line made its author the answer to "Who requested a quality
    statistics library, according to PEP 450?" (README "Answer shape" has the variants
    measured).
    """
    sources = {str(d.metadata.get("source", "")) for d in passages}
    own = {source: identifier(source) for source in sources}
    reworded = {source: p.sub(_pronoun, query) if p else query for source, p in own.items()}
    return [reworded[str(d.metadata.get("source", ""))] for d in passages]


def _pronoun(match: re.Match[str]) -> str:
    """What "PEP 8" / "PEP 8's" becomes: "this PEP" / "this PEP's", the kind as written."""
    name = match.group(0)
    words = "this " + re.split(r"[-_ \d]", name, maxsplit=1)[0]  # its kind, as written
    words += "'s" if name.endswith(("'s", "\u2019s")) else ""
    return words[0].upper() + words[1:] if match.start() == 0 else words
