"""The MCP server through the official client SDK: over HTTP at /mcp and over stdio (`rag mcp`)."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from tests.api.conftest import KABUL, LIGHTHOUSE

pytestmark = pytest.mark.slow

TOOLS = {"ask", "search", "list_documents", "read_document"}


async def over_http(url: str, calls):
    async with (
        streamable_http_client(f"{url}/mcp") as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        return await calls(session)


async def exercise(session: ClientSession) -> dict:
    tools = (await session.list_tools()).tools
    asked = await session.call_tool("ask", {"question": KABUL})
    other = await session.call_tool("ask", {"question": LIGHTHOUSE, "collection": "lighthouses"})
    found = await session.call_tool("search", {"query": "Taliban Kabul", "k": 2})
    listed = await session.call_tool("list_documents", {})
    source = listed.structuredContent["documents"][0]["source"]
    span = await session.call_tool("read_document", {"source": source, "start": 0, "length": 32})
    bad = await session.call_tool("read_document", {"source": "/etc/passwd"})
    empty = await session.call_tool("ask", {"question": "   "})
    return {
        "tools": {t.name: t for t in tools},
        "ask": asked,
        "other": other,
        "search": found,
        "span": span,
        "bad": bad,
        "empty": empty,
    }


def check(result: dict) -> None:
    tools = result["tools"]
    assert set(tools) == TOOLS
    assert "abstained" in tools["ask"].description and "citation" in tools["ask"].description
    assert tools["ask"].outputSchema["properties"]["citations"]
    asked = result["ask"]
    assert not asked.isError
    assert asked.structuredContent["answer"].startswith("September, 1996")
    (citation,) = asked.structuredContent["citations"]
    assert "September, 1996" in citation["quote"] and citation["n"] == 1
    assert "September, 1996" in asked.content[0].text  # the same as text, for any client
    other = result["other"].structuredContent
    assert "cobalt blue" in other["answer"] and other["citations"][0]["source"] == "zeta.md"
    passages = result["search"].structuredContent["passages"]
    assert len(passages) == 2 and passages[0]["score"] >= passages[1]["score"]
    assert result["span"].structuredContent["text"] == "Afghanistan - Pakistan Relations"[:32]
    assert result["bad"].isError and "no indexed document" in result["bad"].content[0].text
    assert result["empty"].isError and "empty" in result["empty"].content[0].text


def test_mcp_over_http_on_the_web_server(api):
    check(asyncio.run(over_http(api.url, exercise)))


@pytest.mark.timeout(300)
def test_mcp_over_stdio_from_rag_mcp(api):
    settings = api.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env |= {"HF_HUB_OFFLINE": "1", "RAG_COLLECTIONS_DIR": str(settings.collections_dir)}
    server = StdioServerParameters(
        command=sys.executable,
        args=[
            "-m",
            "rag",
            "mcp",
            "--corpus",
            str(settings.corpus_dir),
            "--index",
            str(settings.index_dir),
        ],
        env=env,
    )

    async def run() -> dict:
        async with stdio_client(server) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            return await exercise(session)

    check(asyncio.run(run()))
