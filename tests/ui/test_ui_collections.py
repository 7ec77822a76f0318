"""Collections in the web UI and its API: one server, each chat asks the collection it picked.

Two collections share one process (and its loaded models); a question answered by one
collection's documents abstains in the other, the Documents tab and the History list follow
the picker, and a collection made in the browser takes uploads through ``/add_documents``.
"""

from __future__ import annotations

import os
import shutil

import gradio as gr
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from rag.catalog import Catalog, CollectionError
from tests.conftest import SEED
from tests.uiserver import ROOT, Tab, app, page, serve

KABUL = "When did the Taliban seize Kabul?"
KETTLE = "Who designed the Aurora kettle?"
KETTLE_TEXT = (
    "The Aurora kettle boils one litre of water in 95 seconds. It was designed by Mira Holt "
    "in Turku, and its handle is made of birch."
)

pytestmark = pytest.mark.slow


@pytest.fixture
def two(tmp_path, embedder):
    """A server on the default corpus with a second collection, "manuals", beside it."""
    manuals = tmp_path / "collections" / "manuals" / "corpus"
    manuals.mkdir(parents=True)
    (manuals / "kettle.txt").write_text(KETTLE_TEXT, encoding="utf-8")
    with serve(tmp_path, embedder, collections_dir=tmp_path / "collections") as server:
        yield server


def test_the_catalog_finds_collections_and_shares_the_models(two, tmp_path):
    catalog = Catalog(two.qa)
    assert catalog.names() == ["default", "manuals"]
    manuals = catalog.get("manuals")
    assert manuals.settings.corpus_dir == tmp_path / "collections" / "manuals" / "corpus"
    assert manuals.embedder is two.qa.embedder and manuals.reader_model is two.qa.reader_model
    assert catalog.get("manuals") is manuals and catalog.get(None) is two.qa
    with pytest.raises(CollectionError, match=r"no collection named 'hr' \(collections: default"):
        catalog.get("hr")
    with pytest.raises(CollectionError, match="invalid collection name"):
        catalog.create("../escape")
    with pytest.raises(CollectionError, match="already exists"):
        catalog.create("manuals")
    catalog.create("hr")
    assert catalog.names() == ["default", "hr", "manuals"]
    assert (tmp_path / "collections" / "hr" / "corpus").is_dir()
    assert not (tmp_path / "escape").exists()


def test_the_api_asks_the_collection_it_names(two):
    client = Client(two.url, verbose=False, analytics_enabled=False)
    text, payload = client.predict(KETTLE, None, None, "manuals", api_name="/ask")
    assert text.startswith("Mira Holt") and [c["source"] for c in payload["citations"]] == [
        "kettle.txt"
    ]
    _, elsewhere = client.predict(KETTLE, None, None, None, api_name="/ask")  # the default
    assert elsewhere["abstained"] and elsewhere["citations"] == []
    _, kabul = client.predict(KABUL, None, None, "manuals", api_name="/ask")
    assert kabul["abstained"]
    with pytest.raises(AppError, match=r"no collection named .*nope"):  # escaped for HTML
        client.predict(KABUL, None, None, "nope", api_name="/ask")


@pytest.mark.timeout(400)
def test_the_browser_switches_collection_and_each_keeps_its_own(two, browser, tmp_path):
    tab = Tab(browser, two.url)
    p = tab.page

    def pick(name: str) -> None:
        p.locator("#rag-collection input").click()
        p.get_by_role("option", name=name, exact=True).click()

    tab.open_history()
    tab.ask(KABUL)
    tab.wait_listed(KABUL)
    pick("manuals")
    p.wait_for_function(  # the switch starts a new chat
        "() => document.querySelectorAll('#rag-chat [data-testid=\"bot\"]').length === 0"
    )
    p.wait_for_function(  # and the History list is the collection's own (empty)
        "q => !document.querySelector('#rag-history-list')?.innerText.includes(q)", arg=KABUL
    )
    tab.ask(KETTLE)
    bot = p.locator('#rag-chat [data-testid="bot"]').last
    assert bot.inner_text().startswith("Mira Holt")
    assert "kettle.txt" in p.locator("#rag-sources .rag-source").first.inner_text()
    tab.wait_listed(KETTLE)
    assert KABUL not in tab.history()
    shot = tmp_path / "collections.png"
    p.screenshot(path=str(shot))
    if os.environ.get("RAG_DOCS_SCREENSHOTS"):
        shutil.copyfile(shot, ROOT / "docs" / "collections.png")

    p.get_by_role("tab", name="Documents").click()
    table = p.locator("#rag-documents")
    p.wait_for_function(
        "() => document.querySelector('#rag-documents')?.innerText.includes('kettle.txt')"
    )
    assert SEED not in table.inner_text()

    # a new collection, made in the browser, filled through the API
    p.fill("#rag-new-collection input, #rag-new-collection textarea", "hr")
    p.get_by_role("button", name="Create collection").click()
    p.locator("#rag-status").get_by_text("Created the collection").wait_for()
    assert p.locator("#rag-collection input").input_value() == "hr"
    policy = tmp_path / "leave.txt"
    policy.write_text("Staff at Nordlys get 27 days of paid leave a year.", encoding="utf-8")
    client = Client(two.url, verbose=False, analytics_enabled=False)
    *_, status, _ = client.predict([handle_file(str(policy))], "hr", api_name="/add_documents")
    assert "1 added" in status
    text, leave = client.predict("How many days of paid leave?", None, None, "hr", api_name="/ask")
    assert text.startswith("27") and leave["citations"][0]["source"] == "leave.txt"
    assert (tmp_path / "collections" / "hr" / "corpus" / "leave.txt").is_file()
    assert not (tmp_path / "corpus" / "leave.txt").exists()

    pick("default")  # back: the first conversation is listed again
    p.get_by_role("tab", name="Chat").click()
    tab.wait_listed(KABUL)
    assert KETTLE not in tab.history()
    tab.close()


def test_a_name_typed_into_the_picker_that_is_no_collection_puts_it_back(two):
    on = page(two.qa)
    picker = on.collections.dropdown
    state = app.ChatSession(collection="manuals")
    with pytest.warns(UserWarning, match="no collection named"):  # gr.Warning, outside a server
        kept = on.chat.switch_collection("nope", state)
    # the picker goes back, the chat stays as it was
    assert kept == {picker: {"__type__": "update", "value": "manuals"}}
    switched = on.chat.switch_collection("manuals", app.ChatSession())
    chat, fresh = switched[on.chat.chatbot], switched[on.chat.session]
    assert chat == [] and fresh.collection == "manuals" and picker not in switched


def test_creating_a_collection_refuses_bad_names_before_anything_switches(two, tmp_path):
    on = page(two.qa).new_collection
    for bad, reason in [("../x", "invalid collection name"), ("manuals", "already exists")]:
        with pytest.raises(gr.Error, match=reason):  # .success: the switch after it won't run
            on.create_collection(bad)
    created = on.create_collection(" hr ")
    picker, box = created[on.picker.dropdown], created[on.name]
    assert picker.value == "hr" and [c[0] for c in picker.choices] == ["default", "hr", "manuals"]
    assert box == "" and on.status not in created  # said once the page shows it (below)
    assert on.confirmation("hr", "") == "Created the collection **hr**: add documents to it."
    assert on.confirmation("hr", "index damaged").endswith("\n\nindex damaged")
    assert (tmp_path / "collections" / "hr" / "corpus").is_dir()
