"""The UI in a real browser: Debian's Chromium driven by Playwright (never `playwright install`).

Every check is on the DOM; screenshots are saved for people (and, with
``RAG_DOCS_SCREENSHOTS=1``, into docs/ for the README), but prove nothing by themselves.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Request
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.conftest import SEED
from tests.uiserver import HOSTILE, HOSTILE_HOST, ROOT, serve

KABUL = "When did the Taliban seize Kabul?"
GHANI = "Who was named defense minister by Ghani?"
ANSWER_MS = 120_000  # one answer takes seconds; a loaded 2-core CI box may take longer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(300),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory, embedder):
    with serve(tmp_path_factory.mktemp("ui"), embedder, extra={"zeta.txt": HOSTILE}) as running:
        yield running


def is_upload(request: Request) -> bool:
    """Gradio's upload of picked files (``POST /gradio_api/upload?upload_id=...``)."""
    return request.method == "POST" and urlsplit(request.url).path.endswith("/gradio_api/upload")


class Page:
    """A fresh browser tab on the app that records every request it makes."""

    def __init__(self, browser, server) -> None:
        self.server = server
        self.context = browser.new_context(viewport={"width": 1400, "height": 900})
        self.page = self.context.new_page()
        # a hang check: on a loaded 2-core machine the first page load once took over 60 s
        self.page.set_default_timeout(ANSWER_MS)
        self.requests: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.goto(server.url)
        self.page.wait_for_selector("#rag-question textarea")

    def ask(self, question: str) -> None:
        before = self.page.locator('#rag-chat [data-testid="bot"]').count()
        self.page.fill("#rag-question textarea", question)
        self.page.keyboard.press("Enter")
        self.wait_for_answer(before + 1)

    def wait_for_answer(self, count: int) -> None:
        bots = self.page.locator('#rag-chat [data-testid="bot"]')
        bots.nth(count - 1).wait_for(timeout=ANSWER_MS)
        self.page.wait_for_function(
            """n => {
                const bots = document.querySelectorAll('#rag-chat [data-testid="bot"]');
                return bots.length >= n && !bots[n - 1].innerText.includes('Searching')
                    && document.querySelector('#rag-sources .rag-for') !== null
                    && !document.querySelector('#rag-sources').innerText.includes('Searching');
            }""",
            arg=count,
            timeout=ANSWER_MS,
        )

    def last_answer(self):
        return self.page.locator('#rag-chat [data-testid="bot"]').last

    def remote_requests(self) -> list[str]:
        return [
            url
            for url in self.requests
            if not url.startswith((self.server.url, "data:", "blob:", "about:"))
        ]

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def page(browser, server):
    tab = Page(browser, server)
    yield tab
    tab.close()


def save(page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    page.page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
    if os.environ.get("RAG_DOCS_SCREENSHOTS"):
        shutil.copyfile(path, ROOT / "docs" / name)
    return path


def test_an_answer_links_to_cards_that_open_the_document_at_the_quote(page, server, tmp_path):
    p = page.page
    assert p.get_attribute("#rag-question textarea", "maxlength") == str(
        server.settings.max_question_chars
    )
    expected = server.qa.ask(KABUL).citations[0]

    p.click("#rag-chat button.example >> nth=0")  # the first example question
    page.wait_for_answer(1)
    answer = page.last_answer()
    assert answer.inner_text().startswith("September, 1996")
    link = answer.locator('a[href="#src-0-1"]')
    assert link.inner_text() == "[1]"

    card = p.locator("#rag-sources #src-0-1")
    assert SEED in card.locator(".rag-source").inner_text()
    meta = card.locator(".rag-meta").inner_text()
    assert f"characters {expected.start:,}–{expected.end:,}" in meta
    assert f"score {expected.score:.3g}" in meta  # the reader's margin, as the card shows it
    assert card.locator("mark.rag-hit").inner_text() == expected.quote
    assert expected.passage.startswith(card.locator(".rag-passage").inner_text()[:40])

    link.click()  # the [1] in the answer brings its card forward
    p.wait_for_function("document.getElementById('src-0-1').classList.contains('rag-flash')")
    save(page, tmp_path, "chat.png")

    # A quote near the end of the document: the viewer must scroll to it.
    page.ask(GHANI)
    deep = server.qa.ask(GHANI).citations[0]
    card = p.locator("#rag-sources #src-1-1")
    assert card.locator("mark.rag-hit").inner_text() == deep.quote
    card.locator("button.rag-view").click()
    hit = p.locator("#rag-document #rag-doc-hit")
    hit.wait_for()
    assert hit.inner_text() == deep.quote
    shown = p.locator("#rag-document .rag-doc-text").inner_text()
    assert shown.split() == server.qa.document_text(SEED).split()  # the whole document
    p.wait_for_function(
        """() => {
            const box = document.querySelector('#rag-document .rag-doc-text');
            const mark = document.getElementById('rag-doc-hit');
            const b = box.getBoundingClientRect(), m = mark.getBoundingClientRect();
            return box.scrollTop > 0 && m.top >= b.top && m.bottom <= b.bottom
                && m.top >= 0 && m.bottom <= window.innerHeight;
        }"""
    )
    save(page, tmp_path, "document.png")

    p.get_by_role("button", name="Back to sources").click()
    p.locator("#rag-sources #src-1-1").wait_for()
    assert page.remote_requests() == []


def test_a_follow_up_shows_what_was_searched_for(page):
    page.ask(KABUL)
    page.ask("And when did they first defeat local warlords?")
    text = page.last_answer().inner_text()
    # the pronoun resolved with the earlier question's subject, and that is what was searched
    assert "Searched for: When did the Taliban first defeat local warlords?" in text
    # Clicking the first answer brings its sources back.
    page.page.locator('#rag-chat [data-testid="bot"]').first.click()
    page.page.wait_for_function(
        "document.querySelector('#rag-sources .rag-for').innerText.includes('answer 1')"
    )


def test_an_abstention_is_shown_with_related_passages(page):
    page.ask("Who won the 2018 FIFA World Cup?")
    assert "The documents do not answer this question." in page.last_answer().inner_text()
    panel = page.page.locator("#rag-sources")
    assert "related, but not an answer" in panel.locator(".rag-abstained").inner_text()
    related = panel.locator("article.rag-related")
    assert related.count() >= 1
    assert related.first.locator("button.rag-view").count() == 1
    assert panel.locator("mark").count() == 0  # nothing is presented as the answer


def test_markup_and_remote_images_in_documents_and_questions_stay_text(page):
    p = page.page
    page.ask("What colour was the zeta lighthouse painted?")
    answer = page.last_answer().inner_text()
    assert answer.startswith("cobalt blue")
    card = p.locator("#rag-sources article.rag-card").first
    quote = card.locator("mark.rag-hit").inner_text()
    assert f'<img src="http://{HOSTILE_HOST}/pixel.gif"' in quote  # shown, not rendered
    passage = card.locator(".rag-passage").inner_text()
    assert f"![beacon](http://{HOSTILE_HOST}/beacon.png)" in passage
    card.locator("button.rag-view").click()
    p.locator("#rag-document #rag-doc-hit").wait_for()
    document = p.locator("#rag-document .rag-doc-text").inner_text()
    assert "<script>window.ragPwned=2</script> $$x^2$$ {{value}} ${value} <b>bold</b>" in document

    page.ask(f"![q](http://{HOSTILE_HOST}/q.png) <img src=http://{HOSTILE_HOST}/q2.png> zeta?")
    assert (
        f"<img src=http://{HOSTILE_HOST}/q2.png>"
        in p.locator('#rag-chat [data-testid="user"]').last.inner_text()
    )

    assert p.evaluate("typeof window.ragPwned") == "undefined"
    images = p.evaluate("[...document.images].map(i => i.src)")
    assert not [src for src in images if HOSTILE_HOST in src]
    assert p.locator("#rag-chat b, #rag-sources b, #rag-document b").count() == 0
    assert not [url for url in page.requests if HOSTILE_HOST in url]
    assert page.remote_requests() == []


def test_new_chat_starts_over(page):
    page.ask(KABUL)
    page.page.get_by_role("button", name="New chat").click()
    page.page.wait_for_function(
        "document.querySelectorAll('#rag-chat [data-testid=\"bot\"]').length === 0"
    )
    assert "Ask a question" in page.page.locator("#rag-sources").inner_text()


def test_documents_tab_uploads_lists_and_answers_from_a_new_file(page, server, tmp_path):
    p = page.page
    p.get_by_role("tab", name="Documents").click()
    table = p.locator("#rag-documents")
    table.get_by_text(SEED).filter(visible=True).first.wait_for()
    new = tmp_path / "omega notes.md"
    new.write_text(
        "# Omega\n\nThe omega observatory stands on Mount Keldar and opened in 1957.",
        encoding="utf-8",
    )
    picker = p.locator("#rag-upload input[type=file]")
    listed = "n => document.querySelector('#rag-upload')?.innerText.includes(n)"
    for attempt in range(3):
        # A pick is sometimes never listed, on an idle machine too (the upload request goes
        # out, the box never shows the file; cause not found): the file is picked again,
        # at most three times, each given a minute to be listed. What is asserted is unchanged:
        # listed, added to the index, answered.
        try:
            with p.expect_request(is_upload, timeout=30_000):
                picker.set_input_files(str(new))
            p.wait_for_function(listed, arg="omega notes.md", timeout=60_000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    p.get_by_role("button", name="Add to index").click()
    status = p.locator("#rag-status")
    status.get_by_text(re.compile(r"1 added")).wait_for(timeout=ANSWER_MS)
    table.get_by_text("omega notes.md").filter(visible=True).first.wait_for()
    assert (server.settings.corpus_dir / "omega notes.md").exists()

    p.get_by_role("tab", name="Settings").click()
    settings = p.locator("#rag-settings").inner_text()
    assert "extractive" in settings and str(server.settings.index_dir.resolve()) in settings

    p.get_by_role("tab", name="Chat").click()
    page.ask("Where does the omega observatory stand?")
    assert "Mount Keldar" in page.last_answer().inner_text()
    assert "omega notes.md" in p.locator("#rag-sources .rag-source").first.inner_text()


def test_an_injected_notice_is_quoted_not_obeyed_and_cites_only_real_files(page):
    p = page.page
    page.ask("What does the zeta keeper's notice say?")
    answer = page.last_answer().inner_text()
    assert answer.strip().rstrip(".!").lower() != "pwned"
    sources = p.locator("#rag-sources .rag-card .rag-source").all_inner_texts()
    assert sources and set(sources) <= {"zeta.txt", SEED}
    assert "/etc/passwd" not in sources
    images = p.evaluate("[...document.images].map(i => i.src)")
    assert not [src for src in images if HOSTILE_HOST in src]
    assert page.remote_requests() == []
