"""Who may use the APIs: the UI's rules (loopback, RAG_AUTH users) plus RAG_API_KEYS tokens.

The "off loopback" server here believes it listens on 0.0.0.0 (its rules are those of an
exposed server) while its socket is bound to loopback, so nothing is really exposed.
"""

from __future__ import annotations

import asyncio

import httpx
import openai
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from rag import Settings
from rag.api.auth import Access, LaunchError, parse_api_keys
from tests.api.apiserver import serve_app
from tests.api.conftest import KABUL

TOKEN = "t0ken-for-the-robot-7f3a9c"
UNNAMED = "an-unnamed-token-0123456789"


@pytest.fixture(scope="module")
def exposed(api):
    settings = Settings(
        corpus_dir=api.settings.corpus_dir,
        index_dir=api.settings.index_dir,
        collections_dir=api.settings.collections_dir,
        host="0.0.0.0",
        auth="ann:ann-pw,bob:bob-pw",
        api_keys=f"robot:{TOKEN},{UNNAMED}",
    )
    with serve_app(settings, api.qa) as running:
        yield running


REQUESTS = [
    ("post", "/api/v1/ask", {"json": {"question": KABUL}}),
    ("get", "/api/v1/documents", {}),
    ("get", "/api/v1/conversations", {}),
    ("post", "/v1/chat/completions", {"json": {"messages": [{"role": "user", "content": KABUL}]}}),
    ("get", "/v1/models", {}),
    ("post", "/mcp", {"json": {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}}),
    ("get", "/openapi.json", {}),
]


@pytest.mark.slow
@pytest.mark.parametrize(("method", "path", "kwargs"), REQUESTS)
def test_off_loopback_every_api_refuses_a_request_without_credentials(
    exposed, method, path, kwargs
):
    wrong = [
        {},
        {"authorization": "Bearer not-a-token-at-all"},
        {"authorization": "Basic " + httpx.BasicAuth("ann", "bob-pw")._auth_header.split()[1]},
        {"authorization": "Basic !!!"},
    ]
    for headers in wrong:
        response = getattr(httpx, method)(
            f"{exposed.url}{path}", headers=headers, timeout=60, **kwargs
        )
        assert response.status_code == 401, (headers, response.text)
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.headers["www-authenticate"].startswith("Basic")
    assert httpx.get(f"{exposed.url}/config", timeout=60).status_code == 401  # and the UI


@pytest.mark.slow
def test_credentials_open_every_api(exposed):
    http = httpx.Client(base_url=exposed.url, timeout=120, auth=("ann", "ann-pw"))
    assert http.get("/api/v1/documents").status_code == 200
    client = openai.OpenAI(base_url=f"{exposed.url}/v1", api_key=TOKEN, max_retries=0)
    message = (
        client.chat.completions.create(model="rag", messages=[{"role": "user", "content": KABUL}])
        .choices[0]
        .message
    )
    assert message.content.startswith("September, 1996")

    async def tools() -> set[str]:
        headers = {"authorization": f"Bearer {UNNAMED}"}
        async with (
            httpx.AsyncClient(headers=headers, timeout=120) as client,
            streamable_http_client(f"{exposed.url}/mcp", http_client=client) as (read, write, _),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            return {t.name for t in (await session.list_tools()).tools}

    assert "ask" in asyncio.run(tools())


@pytest.mark.slow
def test_one_user_never_sees_another_users_conversations(exposed):
    ann = httpx.Client(base_url=exposed.url, timeout=120, auth=("ann", "ann-pw"))
    bob = httpx.Client(base_url=exposed.url, timeout=120, auth=("bob", "bob-pw"))
    robot = httpx.Client(
        base_url=exposed.url, timeout=120, headers={"authorization": f"Bearer {TOKEN}"}
    )
    cid = ann.post("/api/v1/ask", json={"question": KABUL, "save": True}).json()["conversation_id"]
    assert [c["id"] for c in ann.get("/api/v1/conversations").json()] == [cid]
    for other in (bob, robot):
        assert other.get("/api/v1/conversations").json() == []
        for path in (f"/api/v1/conversations/{cid}", f"/api/v1/conversations/{cid}/export"):
            response = other.get(path)
            assert response.status_code == 404
            assert response.json()["error"]["code"] == "conversation_not_found"
        hijack = other.post(
            "/api/v1/ask", json={"question": "And who else?", "conversation_id": cid}
        )
        assert hijack.status_code == 404
    assert ann.get(f"/api/v1/conversations/{cid}").json()["turns"][0]["question"] == KABUL
    mine = robot.post("/api/v1/ask", json={"question": KABUL, "save": True}).json()
    assert [c["id"] for c in robot.get("/api/v1/conversations").json()] == [mine["conversation_id"]]


@pytest.mark.slow
def test_a_page_of_another_site_cannot_drive_the_api(api):
    """On an open loopback server, a browser would send any page's request: its Origin says."""
    evil = {"origin": "http://evil.example"}
    response = httpx.post(
        f"{api.url}/api/v1/ingest", headers=evil, timeout=60
    )  # a "simple" request: no preflight
    assert response.status_code == 403 and response.json()["error"]["code"] == "cross_origin"
    same = httpx.get(f"{api.url}/api/v1/documents", headers={"origin": api.url}, timeout=60)
    assert same.status_code == 200


def test_off_loopback_needs_credentials_and_keys_are_checked(tmp_path):
    base = {"corpus_dir": tmp_path / "c", "index_dir": tmp_path / "i"}
    with pytest.raises(LaunchError, match="RAG_AUTH"):
        Access.from_settings(Settings(host="0.0.0.0", **base))
    keys_only = Access.from_settings(Settings(host="0.0.0.0", api_keys=TOKEN, **base))
    assert (
        keys_only.owner(
            f"Bearer {TOKEN}",
        )
        and keys_only.owner("Bearer x") is None
    )
    assert Access.from_settings(Settings(**base)).owner(None) == ""  # loopback, open
    for bad, words in [
        ("short", "at least 16"),
        (f":{TOKEN}", "TOKEN or NAME:TOKEN"),
        (f"a:{TOKEN},b:{TOKEN}", "twice"),
        (f"ann:{TOKEN}", "also a RAG_AUTH user"),
    ]:
        with pytest.raises(LaunchError, match=words) as caught:
            parse_api_keys(Settings(auth="ann:pw", api_keys=bad, **base))
        assert TOKEN not in str(caught.value)
    keys = tmp_path / "keys"
    keys.write_text(f"# robots\nrobot:{TOKEN}\n\n{UNNAMED}\n")
    named = parse_api_keys(Settings(api_keys=f"@{keys}", **base))
    assert named[0] == ("robot", TOKEN) and named[1][0].startswith("key-")
    assert UNNAMED not in named[1][0]
