"""Conversation history in the web UI: saved per user, listed, reopened after a restart.

The handler tests drive :class:`app.Handlers` directly with a stand-in for ``gr.Request``;
the browser tests run the real server twice on one history file, and log in as two users.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

from rag import Settings
from rag.history import HistoryStore, SafeHistory, conversation_from_json
from tests.conftest import SEED
from tests.uiserver import app, serve

KABUL = "When did the Taliban seize Kabul?"
GHANI = "Who was named defense minister by Ghani?"
ANSWER_MS = 120_000


@dataclass
class FakeRequest:
    """What the handlers read from ``gr.Request``: who is signed in."""

    username: str | None = None


def answer(on: app.Handlers, question: str, state, user: str | None = None):
    """Run the chat handler to its end; returns its last update."""
    *_, last = on.respond(question, state, FakeRequest(user))
    return last


def history_of(on: app.Handlers, user: str | None, state=None):
    table, picker, notice = on.history_view(state, FakeRequest(user))
    return table["data"], picker, notice


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
    yield app.Handlers(qa, history)
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
        refused = on.open_conversation(ann.conversation_id, FakeRequest("bob"))
    assert refused[0] == {"__type__": "update"}  # bob's chat is left as it was
    messages, opened, cards, *_, title = on.open_conversation(
        ann.conversation_id, FakeRequest("ann")
    )
    assert title == KABUL and len(opened.turns) == 2
    assert messages[1]["content"].startswith("September, 1996")
    assert 'id="src-1-1"' in cards and "mark" in cards  # the last answer's card

    picked = on.pick_history(SimpleNamespace(index=[0, 1]), FakeRequest("ann"))  # a row click
    assert picked["value"] == ann.conversation_id
    on.rename_conversation(ann.conversation_id, "Kabul and Ghani", FakeRequest("ann"))
    assert history_of(on, "ann")[0][0][0] == "Kabul and Ghani"
    exported = on.export_json(ann.conversation_id, FakeRequest("ann"))
    assert exported.value["orig_name"] == "kabul-and-ghani.json"
    saved = conversation_from_json(Path(exported.value["path"]).read_text(encoding="utf-8"))
    assert [t.question for t in saved.turns] == [KABUL, GHANI]
    assert saved.turns[0].answer.citations[0].source == SEED
    markdown = on.export_markdown(ann.conversation_id, FakeRequest("ann"))
    text = Path(markdown.value["path"]).read_text(encoding="utf-8")
    assert text.startswith("# Kabul and Ghani") and "[^1-1]:" in text

    state, *_ = on.delete_conversation(ann.conversation_id, ann, FakeRequest("ann"))
    assert state.conversation_id is None and history_of(on, "ann")[0] == []


@pytest.mark.slow
def test_a_damaged_history_file_still_answers_and_says_so(qa, tmp_path):
    junk = tmp_path / "history.sqlite3"
    junk.write_bytes(b"this is not a database at all \x00\xff" * 64)
    history = SafeHistory(HistoryStore(junk))
    on = app.Handlers(qa, history)
    state = app.ChatSession()
    messages = answer(on, KABUL, state)[0]
    assert messages[-1]["content"].startswith("September, 1996")
    rows, _, notice = history_of(on, None, state)
    assert notice.visible is True and "not being saved" in notice.value
    assert "damaged" in notice.value
    assert [r[0] for r in rows] == [KABUL]  # kept for this server's life, in memory
    history.close()


# -- in a real browser ---------------------------------------------------------------------------
class Tab:
    """A browser tab on the app, signed in as ``login`` (user, password) when given."""

    def __init__(self, browser, url: str, login: tuple[str, str] | None = None) -> None:
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.page = self.context.new_page()
        self.page.set_default_timeout(60_000)
        self.page.goto(url)
        if login is not None:
            self.page.locator("input[type=text], input:not([type])").first.fill(login[0])
            self.page.locator("input[type=password]").fill(login[1])
            self.page.keyboard.press("Enter")
        self.page.wait_for_selector("#rag-question textarea")

    def ask(self, question: str) -> None:
        before = self.page.locator('#rag-chat [data-testid="bot"]').count()
        self.page.fill("#rag-question textarea", question)
        self.page.keyboard.press("Enter")
        self.page.wait_for_function(
            """n => {
                const bots = document.querySelectorAll('#rag-chat [data-testid="bot"]');
                return bots.length >= n && !bots[n - 1].innerText.includes('Searching')
                    && document.querySelector('#rag-sources .rag-for') !== null;
            }""",
            arg=before + 1,
            timeout=ANSWER_MS,
        )

    def open_history(self) -> None:
        """Open the History panel (closed, it renders nothing)."""
        self.page.locator("#rag-history button.label-wrap").first.click()
        self.page.locator("#rag-history-list").wait_for()

    def history(self) -> str:
        return self.page.locator("#rag-history-list").inner_text()

    def wait_listed(self, title: str) -> None:
        self.page.wait_for_function(
            "q => document.querySelector('#rag-history-list')?.innerText.includes(q)", arg=title
        )

    def close(self) -> None:
        self.context.close()


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
        tab.close()


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
