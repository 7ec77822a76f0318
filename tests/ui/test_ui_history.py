"""Conversation history in the web UI: saved per user, listed, reopened after a restart.

The handler tests call the page's areas (:func:`app.build_page`) directly, with a stand-in for
``gr.Request``;
the browser tests run the real server twice on one history file, and log in as two users.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from rag import Settings
from rag.history import HistoryStore, SafeHistory, conversation_from_json
from tests.conftest import SEED
from tests.uiserver import ROOT, Tab, app, page, serve

KABUL = "When did the Taliban seize Kabul?"
GHANI = "Who was named defense minister by Ghani?"


@dataclass
class FakeRequest:
    """What the handlers read from ``gr.Request``: who is signed in."""

    username: str | None = None


def answer(on: app.Page, question: str, state, user: str | None = None):
    """Run the chat handler to its end; returns its last updates."""
    *_, last = on.chat.respond(question, state, request=FakeRequest(user))
    return last


def history_of(on: app.Page, user: str | None, state=None):
    """The History list's rows, its picker and the notice above the tabs."""
    shown = on.history.history_view(state, request=FakeRequest(user))
    return shown[on.history.table]["data"], shown[on.history.pick], shown[on.history.notice]


# -- RAG_AUTH --------------------------------------------------------------------------------------
def _auth(value: str, tmp_path: Path):
    return app.parse_auth(Settings(corpus_dir=tmp_path / "c", index_dir=tmp_path / "i", auth=value))


def test_rag_auth_takes_several_pairs_or_a_file(tmp_path):
    assert _auth("ann:pw1", tmp_path) == [("ann", "pw1")]
    assert _auth("ann:pw1, bob:p:w2", tmp_path) == [("ann", "pw1"), ("bob", "p:w2")]
    users = tmp_path / "users.txt"
    users.write_text("# who may sign in\nann:pw1\n\n  bob:pw,2  \n", encoding="utf-8")
    expected = [("ann", "pw1"), ("bob", "pw,2")]  # a file line may hold a comma
    assert _auth(f"@{users}", tmp_path) == expected
    assert _auth(str(users), tmp_path) == expected
    options = app.launch_options(
        Settings(
            corpus_dir=tmp_path / "c", index_dir=tmp_path / "i", host="0.0.0.0", auth=f"@{users}"
        )
    )
    assert options["auth"] == expected


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ("ann:pw1,bobsecret", "entry 2"),
        ("ann:pw1,,bob:pw2", "entry 2"),
        (":hunter2", "entry 1"),
        ("ann:", "entry 1"),
        ("ann:pw1,ann:pw2", "entry 2"),
    ],
)
def test_a_malformed_rag_auth_entry_is_named_by_position_without_its_password(
    value, where, tmp_path
):
    with pytest.raises(app.LaunchError, match="RAG_AUTH") as caught:
        _auth(value, tmp_path)
    message = str(caught.value)
    assert where in message
    for secret in ("bobsecret", "hunter2", "pw1", "pw2"):
        assert secret not in message


def test_a_malformed_rag_auth_file_names_the_line(tmp_path):
    users = tmp_path / "users.txt"
    users.write_text("ann:pw1\n# comment\njustapassword\n", encoding="utf-8")
    with pytest.raises(app.LaunchError, match="line 3 of") as caught:
        _auth(f"@{users}", tmp_path)
    assert "justapassword" not in str(caught.value)
    with pytest.raises(app.LaunchError, match="cannot be read"):
        _auth(f"@{tmp_path / 'missing.txt'}", tmp_path)
    with pytest.raises(app.LaunchError, match="entry 1 must be") as caught:
        _auth(str(tmp_path / "missing.txt"), tmp_path)  # without @: it may be a password
    assert "missing.txt" not in str(caught.value)
    users.write_text("# nobody\n", encoding="utf-8")
    with pytest.raises(app.LaunchError, match="no user:password"):
        _auth(f"@{users}", tmp_path)


def test_loopback_still_needs_no_password_and_elsewhere_still_does(tmp_path):
    base = {"corpus_dir": tmp_path / "c", "index_dir": tmp_path / "i"}
    assert app.launch_options(Settings(**base))["auth"] is None
    with pytest.raises(app.LaunchError, match="RAG_AUTH"):
        app.launch_options(Settings(host="0.0.0.0", **base))
    history = Settings(**base).history_file.resolve()
    assert str(history) in app.launch_options(Settings(**base))["blocked_paths"]


# -- the handlers ---------------------------------------------------------------------------------
@pytest.fixture
def handlers(qa, tmp_path):
    history = SafeHistory(HistoryStore(tmp_path / "history.sqlite3"))
    yield page(qa, history)
    history.close()


@pytest.mark.slow
def test_answers_are_saved_per_user_and_reopen_with_their_cards(handlers):
    on = handlers
    ann = app.ChatSession()
    answer(on, KABUL, ann, "ann")
    answer(on, GHANI, ann, "ann")
    assert ann.conversation_id is not None
    rows, picker, notice = history_of(on, "ann", ann)
    assert rows == [[KABUL, rows[0][1], 2]] and picker.value == ann.conversation_id
    assert notice.visible is False

    assert history_of(on, "bob")[0] == []  # bob sees none of ann's conversations
    bob = app.ChatSession()
    answer(on, "Who won the 2018 FIFA World Cup?", bob, "bob")
    assert [r[0] for r in history_of(on, "bob")[0]] == ["Who won the 2018 FIFA World Cup?"]
    assert [r[0] for r in history_of(on, "ann")[0]] == [KABUL]
    with pytest.warns(UserWarning, match="no conversation"):  # gr.Warning, outside a server
        refused = on.history.open_conversation(ann.conversation_id, request=FakeRequest("bob"))
    assert refused == {"__type__": "update"}  # bob's chat is left as it was
    opened_view = on.history.open_conversation(ann.conversation_id, request=FakeRequest("ann"))
    messages, opened = opened_view[on.chat.chatbot], opened_view[on.chat.session]
    cards, title = opened_view[on.sources.cards], opened_view[on.history.title]
    assert title == KABUL and len(opened.turns) == 2
    assert messages[1]["content"].startswith("September, 1996")
    assert 'id="src-1-1"' in cards and "mark" in cards  # the last answer's card

    row_click = SimpleNamespace(index=[0, 1])
    picked = on.history.pick_history(None, row_click, FakeRequest("ann"))
    assert picked[on.history.pick]["value"] == ann.conversation_id
    on.history.rename_conversation(
        ann.conversation_id, "Kabul and Ghani", request=FakeRequest("ann")
    )
    assert history_of(on, "ann")[0][0][0] == "Kabul and Ghani"
    ann_request = FakeRequest("ann")
    exports = on.history.export_conversation(ann.conversation_id, "json", request=ann_request)
    exported = exports[on.history.exported]
    assert exported.value["orig_name"] == "kabul-and-ghani.json"
    saved = conversation_from_json(Path(exported.value["path"]).read_text(encoding="utf-8"))
    assert [t.question for t in saved.turns] == [KABUL, GHANI]
    assert saved.turns[0].answer.citations[0].source == SEED
    exports = on.history.export_conversation(ann.conversation_id, "md", request=ann_request)
    markdown, preview = exports[on.history.exported], exports[on.history.preview]
    text = Path(markdown.value["path"]).read_text(encoding="utf-8")
    assert text.startswith("# Kabul and Ghani") and "[^1-1]:" in text
    assert (
        preview.value.strip() == text.strip() and preview.visible is True
    )  # shown on the page as well

    deleted = on.history.delete_conversation(ann.conversation_id, ann, request=FakeRequest("ann"))
    state = deleted[on.chat.session]
    assert state.conversation_id is None and history_of(on, "ann")[0] == []


@pytest.mark.slow
def test_a_damaged_history_file_still_answers_and_says_so(qa, tmp_path):
    junk = tmp_path / "history.sqlite3"
    junk.write_bytes(b"this is not a database at all \x00\xff" * 64)
    history = SafeHistory(HistoryStore(junk))
    on = page(qa, history)
    state = app.ChatSession()
    messages = answer(on, KABUL, state)[on.chat.chatbot]
    assert messages[-1]["content"].startswith("September, 1996")
    rows, _, notice = history_of(on, None, state)
    assert notice.visible is True and "not being saved" in notice.value
    assert "damaged" in notice.value
    assert [r[0] for r in rows] == [KABUL]  # kept for this server's life, in memory
    history.close()


# -- in a real browser ---------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_conversation_survives_a_restart_and_reopens_with_its_cards(browser, embedder, tmp_path):
    history = tmp_path / "saved" / "history.sqlite3"
    with serve(tmp_path, embedder, history_path=history) as server:
        tab = Tab(browser, server.url)
        tab.open_history()
        tab.ask(KABUL)
        tab.wait_listed(KABUL)
        tab.close()
        # and one through the API, kept on the server by /chat (a follow-up understood)
        client = Client(server.url, verbose=False, analytics_enabled=False)
        text, first = client.predict(GHANI, None, api_name="/chat")
        cid = first["conversation_id"]
        assert "[1]" in text and len(cid) == 32  # an answer, cited by the sentence naming him
        assert "Asadullah Khaleed will be defense minister" in first["citations"][0]["quote"]
        _, again = client.predict("When was he named?", cid, api_name="/chat")
        assert again["conversation_id"] == cid
        named = re.sub(r"\s*\[\d+\]", "", first["answer"]).strip()
        assert again["query"] == f"When was {named} named?"  # "he" is the earlier answer
    assert history.exists()

    with serve(tmp_path, embedder, history_path=history) as server:  # a new server, same file
        tab = Tab(browser, server.url)
        p = tab.page
        assert p.locator('#rag-chat [data-testid="bot"]').count() == 0
        tab.open_history()
        tab.wait_listed(KABUL)  # listed when the page loads
        p.locator("#rag-history-pick input").click()
        p.get_by_role("option", name=KABUL).first.click()
        p.get_by_role("button", name="Open", exact=True).click()
        bot = p.locator('#rag-chat [data-testid="bot"]').first
        bot.wait_for()
        assert bot.inner_text().startswith("September, 1996")
        card = p.locator("#rag-sources #src-0-1")
        card.wait_for()
        assert SEED in card.locator(".rag-source").inner_text()
        assert "Kabul" in card.locator("mark.rag-hit").inner_text()
        assert (
            p.locator("#rag-history-title input, #rag-history-title textarea").first.input_value()
            == KABUL
        )

        p.get_by_role("button", name="Export Markdown").click()
        link = p.locator("#rag-history-file a").first
        link.wait_for()
        assert ".md" in (link.get_attribute("href") or "") + link.inner_text()
        preview = p.locator("#rag-history-preview")
        preview.wait_for()
        assert KABUL in preview.inner_text() and "seized Kabul" in preview.inner_text()
        preview.scroll_into_view_if_needed()
        shot = tmp_path / "export.png"
        p.screenshot(path=str(shot), full_page=True)
        if os.environ.get("RAG_DOCS_SCREENSHOTS"):
            shutil.copyfile(shot, ROOT / "docs" / "export.png")
        tab.close()

        # the API sees the same saved conversations after the restart, answers exactly
        client = Client(server.url, verbose=False, analytics_enabled=False)
        listed = client.predict(None, api_name="/history")
        assert [c["title"] for c in listed] == [GHANI, KABUL]  # newest first
        assert [c["turns"] for c in listed] == [2, 1]
        saved = client.predict(cid, None, api_name="/conversation")
        assert [t["question"] for t in saved["turns"]] == [GHANI, "When was he named?"]
        assert saved["turns"][0]["answer"]["citations"] == first["citations"]
        _, more = client.predict("Who won the 2018 FIFA World Cup?", cid, api_name="/chat")
        assert more["conversation_id"] == cid and more["abstained"]
        assert client.predict(None, api_name="/history")[0]["turns"] == 3
        with pytest.raises(AppError, match="no conversation"):
            client.predict("0" * 32, None, api_name="/conversation")


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_signed_in_users_see_only_their_own_conversations(browser, embedder, tmp_path):
    with serve(tmp_path, embedder, auth="ann:pw1,bob:pw2") as server:
        ann = Tab(browser, server.url, login=("ann", "pw1"))
        ann.open_history()
        ann.ask(KABUL)
        ann.wait_listed(KABUL)
        ann.close()
        bob = Tab(browser, server.url, login=("bob", "pw2"))
        bob.open_history()
        bob.ask(GHANI)
        bob.wait_listed(GHANI)
        assert KABUL not in bob.history()
        bob.close()
    store = HistoryStore(server.settings.history_file)
    assert [c.title for c in store.list("ann")] == [KABUL]
    assert [c.title for c in store.list("bob")] == [GHANI]
    store.close()
