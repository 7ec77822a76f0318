"""The Sources panel right of the chat: the cited passages as cards, and the document viewer.

A card's "view in document" swaps the cards for the whole document with the quote marked;
"Back to sources" swaps them back; a click on an earlier answer's ``[n]`` brings that answer's
cards back. The chat shows each new answer's cards here through :meth:`Sources.show`.
"""

import base64
import logging
from collections.abc import Callable
from pathlib import Path

import gradio as gr

from rag import QA, Citation, RagError
from rag.ingest.uploads import UploadError
from ui.assets import DOCUMENT_JS, PANEL_CSS, SOURCES_JS
from ui.backend import Backend, chat_session
from ui.events import PRIVATE, QUIET, Updates, unchanged
from ui.present import Session, document_html, escape, sources_html

log = logging.getLogger(__name__)

#: pixels: a card's band of the page, and the viewer's whole page
CARD_WIDTH, PAGE_WIDTH = 700, 900


class Sources:
    """The right-hand column of the Chat tab: source cards, or one document.

    Built unrendered when ``render`` is False (the chat, built before it, shows answers in
    it); :meth:`render` then places it.

    Args:
        backend: the server's collections.
        session: the browser's chat session (which answer's cards are shown).
        render: whether to place the panel where it is built.
    """

    def __init__(self, backend: Backend, session: gr.State, *, render: bool = True) -> None:
        self.backend = backend
        self.session = session
        with gr.Column(scale=2, render=render) as self.column:
            with gr.Column(visible=True) as self.cards_column:
                gr.Markdown("### Sources")
                self.cards = gr.HTML(
                    sources_html(Session()),
                    elem_id="rag-sources",
                    js_on_load=SOURCES_JS,
                    css_template=PANEL_CSS,
                )
            with gr.Column(visible=False) as self.document_column:
                with gr.Row():
                    gr.Markdown("### Document")
                    self.back_button = gr.Button("Back to sources", size="sm")
                self.document = gr.HTML(
                    "",
                    elem_id="rag-document",
                    js_on_load=DOCUMENT_JS,
                    css_template=PANEL_CSS,
                )

        #: what :meth:`show` changes: the outputs of every event that shows cards
        self.outputs = [self.cards, self.cards_column, self.document_column]
        self.cards.submit(self.follow_link, session, [session, *self.outputs], **PRIVATE)
        self.cards.click(
            self.view_document,
            session,
            [self.document, self.cards_column, self.document_column],
            **PRIVATE,
        )
        self.back_button.click(self.back, None, [self.cards_column, self.document_column], **QUIET)

    def render(self) -> None:
        """Place the panel here (when it was built with ``render=False``)."""
        self.column.render()

    def show(self, state: Session) -> Updates:
        """The cards of the session's selected answer (its last by default), shown."""
        return {
            self.cards: sources_html(state, page_image=self.card_image(state)),
            **self.cards_shown(),
        }

    def card_image(self, state: Session) -> Callable[[Citation], str]:
        """A PDF citation's band of the page, with the quote marked, for its card ("" if none)."""

        def image(citation: Citation) -> str:
            if citation.box_page is None or not citation.boxes:
                return ""
            try:
                qa = self.backend.qa_for(chat_session(state).collection)
                return data_uri(
                    qa.page_image(
                        citation.source,
                        citation.box_page,
                        citation.boxes,
                        width=CARD_WIDTH,
                        band=True,
                    )
                )
            except (RagError, OSError) as exc:  # re-indexed or removed since: the text stays
                log.info("no page image for %s: %s", citation.source, exc)
                return ""

        return image

    def cards_shown(self) -> Updates:
        """The cards' column shown and the document viewer hidden."""
        return {
            self.cards_column: gr.Column(visible=True),
            self.document_column: gr.Column(visible=False),
        }

    def follow_link(self, state: Session, event: gr.EventData) -> Updates:
        """A click on ``[n]`` of an earlier answer brings that answer's cards back."""
        card = str((getattr(event, "_data", None) or {}).get("card", ""))
        parts = card.split("-")
        if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(state.turns):
            state.selected = int(parts[1])
        return {self.session: state, **self.show(state)}

    def view_document(self, state: Session, event: gr.EventData) -> Updates:
        """The whole cleaned document with the cited span marked (the browser scrolls to it)."""
        data = getattr(event, "_data", None) or {}
        source = str(data.get("source", ""))
        try:
            start, end = int(data.get("start", 0)), int(data.get("end", 0))
            qa = self.backend.qa_for(chat_session(state).collection)
            known = {d.source: d for d in qa.documents()}
            if source not in known:  # the client names it: only indexed documents are shown
                raise UploadError(f"{source} is no longer in the index")
            text = qa.document_text(source)
            pdf = known[source].kind == "pdf"
            image, page = page_image(qa, source, start, end) if pdf else ("", None)
        except (RagError, ValueError, TypeError) as exc:
            gr.Warning(escape(str(exc) if isinstance(exc, RagError) else "invalid position"))
            return unchanged()
        return {
            self.document: document_html(
                source, text, start, end, title=known[source].title, image=image, page=page
            ),
            self.cards_column: gr.Column(visible=False),
            self.document_column: gr.Column(visible=True),
        }

    def back(self) -> Updates:
        return self.cards_shown()


def page_image(qa: QA, source: str, start: int, end: int) -> tuple[str, int | None]:
    """The page where ``text[start:end]`` of ``source`` starts, marked, and its number.

    ``("", None)`` when there is none (not a PDF, or changed since it was indexed).
    """
    boxes = qa.snapshot().doc_boxes(source)
    page, rects = boxes.marks(start, end) if boxes is not None else (None, ())
    if page is None:
        return "", None
    try:
        return data_uri(qa.page_image(source, page, rects, width=PAGE_WIDTH)), page
    except (RagError, OSError) as exc:  # the file changed since it was indexed: the text stays
        log.info("no page image for %s: %s", source, exc)
        return "", None


def data_uri(path: Path) -> str:
    """A cached PNG inlined into the page (the index folder is not served over HTTP)."""
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
