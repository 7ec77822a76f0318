"""What the web UI shows, as strings: chat messages, citation cards, the document viewer.

Kept free of gradio so every rule about what reaches the browser is a plain function that a
unit test can check. Two rules hold throughout:

* Document and user text is always escaped. The cards and the viewer are raw HTML (``gr.HTML``
  does not sanitize), and chat messages are Markdown, so a document holding ``<img src=...>``,
  ``![x](http://...)`` or ``<script>`` must arrive as the characters it is, never as markup.
  That is also what keeps remote images out: nothing we render can name one.
* Offsets are trusted only after checking them: a highlight is drawn where
  ``text[start:end]`` is the quote, and falls back to finding the quote, then to no highlight.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rag.results import Answer, Citation, Passage

#: Characters with a meaning in (GitHub-flavoured) Markdown; escaped in chat messages.
_INDENT = re.compile(r"^[ \t]+", re.M)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:$^=])")
_MARKER = re.compile(r"\[(\d{1,3})\]")
#: How much of an over-long or failed question is echoed back into the chat.
ECHO_CHARS = 300


def escape(text: object) -> str:
    """HTML-escape anything, quotes included (it also goes into attribute values)."""
    return html.escape(str(text), quote=True)


def markdown_literal(text: str) -> str:
    """Text that a Markdown renderer shows exactly as written.

    ``<``, ``>`` and ``&`` become entities (so no tag survives, even if the renderer sanitizes
    before parsing Markdown), every other Markdown punctuation gets a backslash, so neither
    ``![img](http://host/x.png)`` nor ``[link](javascript:...)`` nor ``$$tex$$`` renders.
    """
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    # Indentation at a line start would open a code block: spell it as character references.
    return _INDENT.sub(lambda m: m[0].replace(" ", "&#32;").replace("\t", "&#9;"), text)


def card_id(turn: int, n: int) -> str:
    """DOM id of the card for citation ``n`` of answer number ``turn``."""
    return f"src-{turn}-{n}"


def shorten(text: str, limit: int = ECHO_CHARS) -> str:
    """``text`` cut to ``limit`` characters, marking the cut."""
    return text if len(text) <= limit else text[:limit].rstrip() + " …"


def location(place: str | int | None, start: int, end: int) -> str:
    """Where a span sits, as a reader would say it: "slide 2, characters 10–52".

    ``place`` is the span's location label ("page 3 (OCR)", "sheet S, row 9") or, for
    results from before locations existed, a bare page number.
    """
    where = f"characters {start:,}–{end:,}"
    if isinstance(place, int):
        place = f"page {place}"
    return f"{place}, {where}" if place else where


def score_text(score: float) -> str:
    return f"{score:.3g}"


def confidence_text(confidence: float | None, label: str) -> str:
    """How sure an answer is, for people: "likely right (82%)"; "" when it has no confidence."""
    if confidence is None:
        return ""
    return f"{label} ({confidence:.0%})" if label else f"{confidence:.0%}"


# -- chat ---------------------------------------------------------------------------------------
def answer_markdown(answer: Answer, turn: int) -> str:
    """The assistant message for an answer: escaped text, linked markers, what was searched.

    Each ``[n]`` that names a citation becomes a link to that citation's card
    (``#src-<turn>-<n>``); a marker without a citation stays plain text.
    """
    if answer.abstained:
        body = (
            f"**{markdown_literal(answer.text)}**\n\n"
            "_The closest passages are listed under Sources as related, but not an answer\\._"
            if answer.passages
            else f"**{markdown_literal(answer.text)}**"
        )
    else:
        numbers = {c.n for c in answer.citations}
        parts: list[str] = []
        last = 0
        for match in _MARKER.finditer(answer.text):
            parts.append(markdown_literal(answer.text[last : match.start()]))
            n = int(match.group(1))
            if n in numbers:
                parts.append(f"[\\[{n}\\]](#{card_id(turn, n)})")
            else:
                parts.append(markdown_literal(match.group(0)))
            last = match.end()
        parts.append(markdown_literal(answer.text[last:]))
        body = "".join(parts)
        if not answer.supported:
            body += (
                "\n\n**Not supported by the documents:** no passage says "
                + ("; ".join(f"“{markdown_literal(s)}”" for s in answer.unsupported) or "this")
                + r"\. Check the sources\."
            )
        sure = confidence_text(answer.confidence, answer.confidence_label)
        if sure:
            body += f"\n\n_Confidence: {markdown_literal(sure)}_"
    if answer.query and answer.query != answer.question:
        body += f"\n\n_Searched for: {markdown_literal(answer.query)}_"
    return body


def error_markdown(message: str) -> str:
    """A user error shown in the chat in place of an answer."""
    return f"⚠️ {markdown_literal(message)}"


@dataclass
class Turn:
    """One exchange in a chat session: the question and its answer or error."""

    question: str
    answer: Answer | None = None
    error: str | None = None
    partial: str = ""  # answer text streamed so far


@dataclass
class Session:
    """Per-browser-session chat state (kept in ``gr.State``, never in module globals)."""

    turns: list[Turn] = field(default_factory=list)
    selected: int | None = None  # which turn's sources are shown; None means the last one

    def history(self) -> list[tuple[str, str]]:
        """Earlier answered turns as ``(question, answer text)`` pairs for follow-ups."""
        return [(t.question, t.answer.text) for t in self.turns if t.answer is not None]

    def shown(self) -> int | None:
        """Index of the turn whose sources are on screen."""
        if not self.turns:
            return None
        if self.selected is not None and 0 <= self.selected < len(self.turns):
            return self.selected
        return len(self.turns) - 1


def chat_messages(session: Session) -> list[dict[str, str]]:
    """The whole conversation as chat messages (``{"role", "content"}``, Markdown content)."""
    messages: list[dict[str, str]] = []
    for i, turn in enumerate(session.turns):
        messages.append({"role": "user", "content": markdown_literal(shorten(turn.question))})
        if turn.answer is not None:
            content = answer_markdown(turn.answer, i)
        elif turn.error is not None:
            content = error_markdown(turn.error)
        elif turn.partial:
            content = markdown_literal(turn.partial)
        else:
            content = "_Searching the documents…_"
        messages.append({"role": "assistant", "content": content})
    return messages


# -- source cards ---------------------------------------------------------------------------------
def highlight(text: str, start: int, end: int, *, mark_id: str | None = None) -> str:
    """``text`` escaped, with ``text[start:end]`` wrapped in ``<mark>``."""
    if not 0 <= start <= end <= len(text) or start == end:
        return escape(text)
    attrs = ' class="rag-hit"' + (f' id="{escape(mark_id)}"' if mark_id else "")
    return (
        escape(text[:start]) + f"<mark{attrs}>" + escape(text[start:end]) + "</mark>"
        f"{escape(text[end:])}"
    )


def quote_in_passage(citation: Citation) -> tuple[int, int] | None:
    """Where the quote sits inside its passage, trusting offsets only when they check out."""
    start = citation.start - citation.passage_start
    end = citation.end - citation.passage_start
    if 0 <= start <= end <= len(citation.passage) and citation.passage[start:end] == citation.quote:
        return start, end
    found = citation.passage.find(citation.quote) if citation.quote else -1
    if found >= 0:
        return found, found + len(citation.quote)
    return None


def _view_button(source: str, start: int, end: int) -> str:
    return (
        f'<button type="button" class="rag-view" data-source="{escape(source)}" '
        f'data-start="{start}" data-end="{end}">View in document</button>'
    )


def page_figure(image: str, label: str, caption: str = "") -> str:
    """A PDF page picture (a ``data:image/png`` URI) with the quote marked on it."""
    if not image.startswith("data:image/png;base64,"):
        return ""
    caption = f'<figcaption class="rag-meta">{escape(caption)}</figcaption>' if caption else ""
    return (
        f'<figure class="rag-page"><img src="{escape(image)}" '
        f'alt="{escape(label)}, with the quoted words marked">{caption}</figure>'
    )


def _card_head(label: str, source: str, title: str, where: str) -> str:
    """A card's header (its number, its document), title, and its meta line left open."""
    title = f'<div class="rag-title">{escape(title)}</div>' if title else ""
    return (
        f'<header><span class="rag-n">{escape(label)}</span> '
        f'<span class="rag-source">{escape(source)}</span></header>{title}'
        f'<div class="rag-meta">{escape(where)}'
    )


def citation_card(citation: Citation, turn: int, image: str = "", sure: str = "") -> str:
    """One source card: file, location, the quote highlighted inside its passage, the score.

    ``sure`` is the answer's confidence in words (:func:`confidence_text`), shown first.
    ``image``, for a PDF citation, is the part of the page around the quote, with the quote
    marked (a ``data:`` URI), shown above the passage.
    """
    span = quote_in_passage(citation)
    if span is None:
        passage = f'<mark class="rag-hit">{escape(citation.quote)}</mark>'
    else:
        passage = highlight(citation.passage, *span)
    where = location(citation.location or citation.page, citation.start, citation.end)
    return (
        f'<article class="rag-card" id="{card_id(turn, citation.n)}" data-n="{citation.n}">'
        + _card_head(f"[{citation.n}]", citation.source, citation.title, where)
        + (f' · <span class="rag-confidence">{escape(sure)}</span>' if sure else "")
        + f" · score {score_text(citation.score)}</div>"
        + page_figure(image, f"{citation.source}, {where}")
        + f'<blockquote class="rag-passage">{passage}</blockquote>'
        f"{_view_button(citation.source, citation.start, citation.end)}</article>"
    )


def related_card(passage: Passage, rank: int) -> str:
    """A retrieved passage offered after an abstention: related, but not an answer."""
    where = location(passage.location or passage.page, passage.start, passage.end)
    return (
        f'<article class="rag-card rag-related" data-rank="{rank}">'
        + _card_head(f"{rank}.", passage.source, passage.title, where)
        + f" · score {score_text(passage.score)}</div>"
        f'<blockquote class="rag-passage">{escape(passage.text)}</blockquote>'
        f"{_view_button(passage.source, passage.start, passage.end)}</article>"
    )


def sources_html(
    session: Session, *, related: int = 3, page_image: Callable[[Citation], str] | None = None
) -> str:
    """The Sources panel for the turn on screen.

    ``page_image(citation)`` gives a PDF citation's page picture for its card (see
    :func:`citation_card`), or "".
    """
    index = session.shown()
    if index is None:
        return (
            '<div class="rag-empty">Ask a question: the passages each answer comes from '
            "appear here, with the quoted words highlighted.</div>"
        )
    turn = session.turns[index]
    heading = (
        f'<div class="rag-for">Sources for answer {index + 1}: '
        f"<q>{escape(shorten(turn.question, 120))}</q></div>"
    )
    answer = turn.answer
    if answer is None:
        note = "Searching…" if turn.error is None else "No answer, so no sources."
        return f'{heading}<div class="rag-empty">{note}</div>'
    if answer.abstained:
        cards = "".join(related_card(p, i) for i, p in enumerate(answer.passages[:related], 1))
        return (
            f'{heading}<div class="rag-abstained" role="status">'
            f"<strong>{escape(answer.text)}</strong> "
            + (
                "These passages came closest: related, but not an answer.</div>" + cards
                if cards
                else "Nothing related was found.</div>"
            )
        )
    sure = confidence_text(answer.confidence, answer.confidence_label)
    cards = "".join(
        citation_card(c, index, page_image(c) if page_image else "", sure=sure)
        for c in answer.citations
    )
    return heading + (cards or '<div class="rag-empty">This answer cites no passage.</div>')


# -- document viewer --------------------------------------------------------------------------
def document_html(
    source: str,
    text: str,
    start: int,
    end: int,
    *,
    title: str = "",
    image: str = "",
    page: int | None = None,
) -> str:
    """The whole cleaned document with ``text[start:end]`` highlighted (``#rag-doc-hit``).

    ``image``, for a PDF, is ``page`` with the span marked (a ``data:`` URI), shown above
    the text.
    """
    header = (
        f'<header><span class="rag-source">{escape(source)}</span>'
        + (f' <span class="rag-title">{escape(title)}</span>' if title else "")
        + f'<div class="rag-meta">{escape(location(None, start, end))} highlighted</div></header>'
    )
    body = highlight(text, start, end, mark_id="rag-doc-hit")
    return (
        f'<section class="rag-doc" data-source="{escape(source)}">{header}'
        + page_figure(image, f"{source}, page {page}", f"Page {page}, the passage marked")
        + f'<div class="rag-doc-text">{body}</div></section>'
    )


# -- API ----------------------------------------------------------------------------------------
def citation_payload(answer: Answer) -> dict[str, Any]:
    """The JSON an API client gets next to the answer text."""
    return {
        "answer": answer.text,
        "abstained": answer.abstained,
        "question": answer.question,
        "query": answer.query,
        "score": answer.score,
        "confidence": answer.confidence,
        "confidence_label": answer.confidence_label,
        "answerer": answer.answerer,
        "supported": answer.supported,
        "unsupported": list(answer.unsupported),
        "citations": [c.to_dict() for c in answer.citations],
        "related": [p.to_dict() for p in answer.passages] if answer.abstained else [],
    }
