"""The web app as a real server: the scripting API, uploads, launch safety and the file route."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from markdown_it import MarkdownIt

from rag import Settings
from tests.conftest import SEED
from tests.processes import app_env, app_py
from tests.uiserver import ROOT, app, serve

KABUL = "When did the Taliban seize Kabul?"
MD = MarkdownIt("commonmark")


def plain(markdown: str) -> str:
    """The text a reader sees once Markdown is rendered."""
    return html.unescape(re.sub(r"<[^>]+>", "", MD.render(markdown)))


def raw_call(url: str, data: list, *, api_name: str | None = None, fn: str | None = None) -> list:
    """Call an event through the queue with raw HTTP, as a browser does; returns its messages.

    Unlike gradio_client this sends exactly ``data``: no client-side file upload, no checks.
    ``fn`` picks an event by the name of its Python function (the UI's private events).
    """
    config = httpx.get(f"{url}/config", timeout=30).json()
    deps = config["dependencies"]
    if api_name is not None:
        fn_index = next(d["id"] for d in deps if d.get("api_name") == api_name)
    else:
        fn_index = next(d["id"] for d in deps if d.get("api_name") == fn)
    session = uuid.uuid4().hex
    messages = []
    with httpx.Client(base_url=url, timeout=120) as http:
        joined = http.post(
            "/gradio_api/queue/join",
            json={"data": data, "fn_index": fn_index, "session_hash": session},
        )
        assert joined.status_code == 200, joined.text
        with http.stream("GET", "/gradio_api/queue/data", params={"session_hash": session}) as sse:
            for line in sse.iter_lines():
                if line.startswith("data:"):
                    messages.append(json.loads(line[5:]))
                    if messages[-1]["msg"] in ("process_completed", "close_stream"):
                        break
    return messages


@pytest.fixture(scope="module")
def server(tmp_path_factory, embedder):
    with serve(tmp_path_factory.mktemp("app"), embedder) as running:
        yield running


@pytest.fixture(scope="module")
def client(server):
    return Client(server.url, verbose=False, download_files=False, analytics_enabled=False)


# -- the /ask API ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_ask_returns_the_answer_and_its_citations(server, client):
    text, payload = client.predict(KABUL, None, api_name="/ask")
    assert text.startswith("September, 1996") and "[1]" in text
    assert payload["answer"] == text and not payload["abstained"]
    (c,) = payload["citations"]
    assert c["source"] == SEED and c["n"] == 1
    assert server.qa.document_text(c["source"])[c["start"] : c["end"]] == c["quote"]
    assert "seized Kabul in September, 1996" in c["quote"] and c["quote"] in c["passage"]


@pytest.mark.slow
def test_a_follow_up_is_resolved_against_the_history(client):
    history = [[KABUL, "September, 1996 [1]"]]
    text, payload = client.predict(
        "And when did they first defeat local warlords?", history, api_name="/ask"
    )
    assert payload["query"] != payload["question"] and "Taliban" in payload["query"]
    assert payload["citations"] and text


@pytest.mark.slow
def test_an_abstention_offers_related_passages(client):
    text, payload = client.predict("Who won the 2018 FIFA World Cup?", None, api_name="/ask")
    assert payload["abstained"] and payload["citations"] == []
    assert text == "The documents do not answer this question."
    assert payload["related"] and payload["related"][0]["source"] == SEED


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "message"),
    [("", "empty"), ("   ", "empty"), ("?!", "no words"), ("x" * 2001, "too long")],
)
def test_bad_questions_get_friendly_errors(client, question, message):
    with pytest.raises(AppError) as caught:
        client.predict(question, None, api_name="/ask")
    assert message in str(caught.value)
    assert "Traceback" not in str(caught.value) and "File " not in str(caught.value)


@pytest.mark.slow
def test_a_huge_question_is_refused_by_the_server_itself(server):
    """Far past the textbox's max_length: only the server's own check can refuse it."""
    client = Client(server.url, verbose=False, analytics_enabled=False)
    started = time.perf_counter()
    with pytest.raises(AppError, match="too long"):
        client.predict("word " * 100_000, None, api_name="/ask")
    # A hang check, not a speed check ("too long" already shows the server's own check
    # refused it): generous for a loaded machine sending and parsing 500 kB.
    assert time.perf_counter() - started < 120


@pytest.mark.slow
def test_only_the_documented_endpoints_are_offered(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert set(endpoints) == {"/ask", "/add_documents", "/chat", "/history", "/conversation"}


# -- uploads --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_an_uploaded_file_is_indexed_and_answers_questions(server, client, tmp_path):
    good = tmp_path / "kappa bridge.txt"
    good.write_text(
        "The kappa bridge in Bergen was designed by Ola Brekke. It opened to traffic in 1931.",
        encoding="utf-8",
    )
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 this is not really a pdf")
    wrong = tmp_path / "tool.exe"
    wrong.write_bytes(b"MZ")
    *_, status, _ = client.predict(
        [handle_file(str(good)), handle_file(str(broken)), handle_file(str(wrong))],
        api_name="/add_documents",
    )
    report = plain(status)
    assert "1 added" in report
    assert "broken.pdf: corrupt or unreadable PDF" in report  # each failure, with its reason
    assert "tool.exe: .exe files are not accepted" in report
    corpus = sorted(p.name for p in server.settings.corpus_dir.iterdir())
    assert corpus == sorted([SEED, "kappa bridge.txt"])  # nothing unusable was kept
    text, payload = client.predict("Who designed the kappa bridge?", None, api_name="/ask")
    assert "Ola Brekke" in text
    assert payload["citations"][0]["source"] == "kappa bridge.txt"


@pytest.mark.slow
def test_an_upload_cannot_name_a_file_on_the_server(server):
    forged = {
        "path": "/etc/passwd",
        "orig_name": "passwd.txt",
        "meta": {"_type": "gradio.FileData"},
    }
    messages = raw_call(server.url, [[forged]], api_name="add_documents")
    done = messages[-1]
    assert done["msg"] == "process_completed" and not done["success"]
    assert not (server.settings.corpus_dir / "passwd.txt").exists()
    assert "passwd.txt" not in {d.source for d in server.qa.documents()}


@pytest.mark.slow
def test_the_chat_event_checks_the_length_on_the_server(server):
    """Sent straight to the chat event, past the textbox and its max_length."""
    messages = raw_call(server.url, ["x " * 5000, None], fn="respond")
    warnings = [m.get("log", "") for m in messages if m["msg"] == "log"]
    assert any("too long" in w for w in warnings), messages
    assert messages[-1]["msg"] == "process_completed" and messages[-1]["success"]


# -- what the HTTP server refuses -----------------------------------------------------------------
def _file(server, path: str) -> httpx.Response:
    return httpx.get(f"{server.url}/gradio_api/file={path}", timeout=30)


@pytest.mark.slow
def test_the_file_route_serves_uploads_but_not_the_index_the_corpus_or_the_system(server):
    # Control: a file uploaded through Gradio is served, so the refusals below mean something.
    uploaded = httpx.post(
        f"{server.url}/gradio_api/upload",
        files={"files": ("probe.txt", b"probe-content")},
        timeout=30,
    )
    assert uploaded.status_code == 200, uploaded.text
    served = _file(server, uploaded.json()[0])
    assert served.status_code == 200 and served.content == b"probe-content"

    index = server.settings.index_dir.resolve()
    generation = next(index.glob("gen-*"))
    sqlite = next(index.rglob("chroma.sqlite3"))
    secret_paths = [
        str(sqlite),
        str(index / "CURRENT"),
        str(generation / "manifest.json"),
        str(generation),
        str(server.settings.corpus_dir.resolve() / SEED),
        str(ROOT / "app.py"),
        "/etc/passwd",
        "../../../../../../etc/passwd",
        "..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        f"{uploaded.json()[0]}/../../../../../etc/passwd",
        "index/CURRENT",
    ]
    for path in secret_paths:
        response = _file(server, path)
        assert response.status_code in (403, 404), (path, response.status_code)
        assert b"root:" not in response.content and b"SQLite" not in response.content


@pytest.mark.slow
def test_queued_endpoints_cannot_be_called_around_the_queue(server):
    response = httpx.post(
        f"{server.url}/gradio_api/run/ask", json={"data": [KABUL, None]}, timeout=30
    )
    assert response.status_code == 404
    assert "does not accept direct HTTP POST" in response.text


@pytest.mark.slow
def test_monitoring_is_off(server):
    assert httpx.get(f"{server.url}/monitoring", timeout=30).status_code in (403, 404)


# -- launch safety ---------------------------------------------------------------------------------
def test_loopback_is_the_only_place_served_without_a_password(tmp_path):
    base = {"corpus_dir": tmp_path / "c", "index_dir": tmp_path / "i"}
    options = app.launch_options(Settings(**base))
    assert options["server_name"] == "127.0.0.1" and options["server_port"] == 7860
    assert options["auth"] is None and options["share"] is False
    assert options["show_error"] is False and options["ssr_mode"] is False
    assert options["allowed_paths"] == []
    assert str((tmp_path / "i").resolve()) in options["blocked_paths"]
    assert str((tmp_path / "c").resolve()) in options["blocked_paths"]
    assert options["max_file_size"] == 20 * 1024 * 1024
    for host in ["0.0.0.0", "192.168.1.5", "example.org", "::"]:
        with pytest.raises(app.LaunchError, match="RAG_AUTH"):
            app.launch_options(Settings(host=host, **base))
    with pytest.raises(app.LaunchError, match="share"):
        app.launch_options(Settings(**base), share=True)
    with pytest.raises(app.LaunchError, match="user:password"):
        app.launch_options(Settings(host="0.0.0.0", auth="nocolon", **base))
    exposed = app.launch_options(Settings(host="0.0.0.0", auth="ann:s3cr:et", **base), share=True)
    assert exposed["auth"] == [("ann", "s3cr:et")] and exposed["share"] is True
    assert app.launch_options(Settings(host="::1", **base))["auth"] is None
    assert app.launch_options(Settings(host="localhost", **base))["auth"] is None


@pytest.mark.slow
@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RAG_HOST": "0.0.0.0"}, "RAG_AUTH"),
        ({"GRADIO_SHARE": "true"}, "share link"),
        ({"RAG_HOST": "0.0.0.0", "RAG_AUTH": "justaname"}, "user:password"),
    ],
)
def test_app_py_refuses_an_unsafe_launch_in_one_line(env, message, tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        cwd=tmp_path,
        env=app_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert message in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_app_py_starts_the_ui_behind_a_password(server, tmp_path):
    env = app_env(
        RAG_AUTH="ann:secret",
        RAG_CORPUS_DIR=str(server.settings.corpus_dir),
        RAG_INDEX_DIR=str(server.settings.index_dir),
    )
    with app_py(tmp_path, env) as (url, _process):
        assert httpx.get(f"{url}/config", timeout=60).status_code == 401
        with httpx.Client(base_url=url, timeout=30) as http:
            wrong = http.post("/login", data={"username": "ann", "password": "nope"})
            assert wrong.status_code == 400
            ok = http.post("/login", data={"username": "ann", "password": "secret"})
            assert ok.status_code == 200
            assert http.get("/config").status_code == 200
        client = Client(url, auth=("ann", "secret"), verbose=False, analytics_enabled=False)
        text, payload = client.predict(KABUL, None, api_name="/ask")
        assert text.startswith("September, 1996") and payload["citations"]


def test_the_app_module_imports_no_gradio_into_the_library():
    code = (
        "import rag, rag.ingest.uploads, rag.qa, rag.cli.main, sys; print('gradio' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "False", done.stderr
    assert Path(ROOT / "app.py").exists()
