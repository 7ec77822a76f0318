"""``python app.py`` serves the page and every API from one process, behind the same rules."""

from __future__ import annotations

import asyncio

import httpx
import openai
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests.api.conftest import KABUL
from tests.processes import app_env, app_py

TOKEN = "app-py-token-0123456789"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_app_py_serves_the_ui_and_the_apis_behind_its_credentials(api, tmp_path):
    env = app_env(
        RAG_AUTH="ann:secret",
        RAG_API_KEYS=f"robot:{TOKEN}",
        RAG_CORPUS_DIR=str(api.settings.corpus_dir),
        RAG_INDEX_DIR=str(api.settings.index_dir),
        RAG_HISTORY_PATH=str(tmp_path / "history.sqlite3"),
    )
    with app_py(tmp_path, env) as (url, _process):
        assert httpx.get(f"{url}/config", timeout=30).status_code == 401  # the UI's login
        assert httpx.get(f"{url}/v1/models", timeout=30).status_code == 401
        assert httpx.get(f"{url}/api/v1/documents", timeout=30).status_code == 401
        ann = httpx.get(f"{url}/api/v1/documents", auth=("ann", "secret"), timeout=60)
        assert ann.status_code == 200 and ann.json()[0]["source"].endswith(".txt")
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=TOKEN, max_retries=0, timeout=120)
        reply = client.chat.completions.create(
            model="rag", messages=[{"role": "user", "content": KABUL}]
        )
        assert reply.choices[0].message.content.startswith("September, 1996")

        async def tools() -> set[str]:
            async with (
                httpx.AsyncClient(auth=("ann", "secret"), timeout=120) as http,
                streamable_http_client(f"{url}/mcp", http_client=http) as (read, write, _),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                return {t.name for t in (await session.list_tools()).tools}

        assert asyncio.run(tools()) == {"ask", "search", "list_documents", "read_document"}
