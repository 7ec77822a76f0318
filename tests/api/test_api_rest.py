"""The REST API: answers, documents, saved conversations, and bad requests."""

from __future__ import annotations

import json

import httpx
import pytest

from rag.history import conversation_from_json
from tests.api.conftest import KABUL

pytestmark = pytest.mark.slow


def test_ask_returns_the_library_answer(http):
    response = http.post("/api/v1/ask", json={"question": KABUL})
    assert response.status_code == 200, response.text
    body = response.json()
    answer = body["answer"]
    assert answer["text"].startswith("September, 1996") and not answer["abstained"]
    assert answer["citations"][0]["quote"] in answer["citations"][0]["passage"]
    assert body["conversation_id"] is None  # not saved unless asked


def test_a_saved_conversation_is_listed_read_continued_and_exported(http):
    first = http.post("/api/v1/ask", json={"question": KABUL, "save": True}).json()
    cid = first["conversation_id"]
    assert cid
    follow = http.post(
        "/api/v1/ask",
        json={"question": "And when did they first defeat local warlords?", "conversation_id": cid},
    ).json()
    assert follow["conversation_id"] == cid and "Taliban" in follow["answer"]["query"]
    listed = http.get("/api/v1/conversations").json()
    assert {"id": cid, "turns": 2}.items() <= next(c for c in listed if c["id"] == cid).items()
    saved = http.get(f"/api/v1/conversations/{cid}").json()
    assert [t["question"] for t in saved["turns"]] == [
        KABUL,
        "And when did they first defeat local warlords?",
    ]
    exported = http.get(f"/api/v1/conversations/{cid}/export", params={"format": "json"})
    assert exported.headers["content-type"].startswith("application/json")
    back = conversation_from_json(exported.text)
    assert back.turns[0].answer.citations[0].quote == first["answer"]["citations"][0]["quote"]
    markdown = http.get(f"/api/v1/conversations/{cid}/export").text
    assert markdown.startswith("# When did the Taliban seize Kabul?") and "[^1-1]" in markdown


def test_documents_are_listed_and_read_by_span(http):
    (doc,) = http.get("/api/v1/documents").json()
    assert doc["source"] == "afghanistan-pakistan-relations.txt" and doc["chunks"] > 0
    answer = http.post("/api/v1/ask", json={"question": KABUL}).json()["answer"]
    c = answer["citations"][0]
    span = http.get(
        f"/api/v1/documents/{doc['source']}",
        params={"start": c["start"], "length": c["end"] - c["start"]},
    ).json()
    assert span["text"] == c["quote"] and span["length"] > span["end"]


def test_search_returns_scored_passages(http):
    passages = http.post("/api/v1/search", json={"query": "Taliban Kabul", "k": 2}).json()
    assert len(passages["passages"]) == 2
    first, second = passages["passages"]
    assert first["score"] >= second["score"] and "Taliban" in first["text"]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code", "words"),
    [
        ("post", "/api/v1/ask", {"json": {"question": ""}}, 400, "invalid_question", "empty"),
        ("post", "/api/v1/ask", {"json": {"question": ["a"]}}, 422, "invalid_request", "question"),
        ("post", "/api/v1/ask", {"json": {}}, 422, "invalid_request", "question: Field required"),
        (
            "post",
            "/api/v1/ask",
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            422,
            "invalid_request",
            "not valid JSON",
        ),
        (
            "post",
            "/api/v1/ask",
            {"json": {"question": KABUL, "collection": "nope"}},
            404,
            "unknown_collection",
            "nope",
        ),
        (
            "post",
            "/api/v1/ask",
            {"json": {"question": KABUL, "sources": ["*.pdf"]}},
            400,
            "unknown_source",
            "*.pdf",
        ),
        (
            "post",
            "/api/v1/ask",
            {"json": {"question": KABUL, "extra": 1}},
            422,
            "invalid_request",
            "extra",
        ),
        (
            "get",
            "/api/v1/documents",
            {"params": {"collection": "../etc"}},
            404,
            "unknown_collection",
            "collection",
        ),
        ("get", "/api/v1/documents/..%2F..%2Fetc%2Fpasswd", {}, 404, "unknown_document", "passwd"),
        ("get", "/api/v1/conversations/0123", {}, 404, "conversation_not_found", "0123"),
        ("post", "/api/v1/search", {"json": {"query": "x", "k": 0}}, 422, "invalid_request", "k"),
    ],
)
def test_bad_requests_get_a_4xx_with_a_clear_message(
    http, method, path, kwargs, status, code, words
):
    response = getattr(http, method)(path, **kwargs)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and words in error["message"], error
    assert "Traceback" not in response.text and "&#" not in response.text


def test_a_1_mb_body_is_refused(http):
    response = http.post("/api/v1/ask", json={"question": "a" * (1 << 20)})
    assert response.status_code == 413 and "limit" in response.json()["error"]["message"]


def test_the_openapi_schema_describes_every_route_with_library_types(http):
    schema = http.get("/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    paths = set(schema["paths"])
    assert {
        "/api/v1/ask",
        "/api/v1/search",
        "/api/v1/documents",
        "/api/v1/documents/{source}",
        "/api/v1/ingest",
        "/api/v1/conversations",
        "/api/v1/conversations/{conversation_id}",
        "/api/v1/conversations/{conversation_id}/export",
        "/v1/chat/completions",
        "/v1/models",
    } <= paths
    components = schema["components"]["schemas"]
    assert {"Answer", "Citation", "Passage", "DocumentInfo", "IngestSummary", "ErrorBody"} <= set(
        components
    )
    assert set(components["Citation"]["properties"]) >= {"n", "source", "quote", "start", "end"}
    assert http.get("/docs").status_code == 200
    json.dumps(schema)  # plain JSON all through


def test_uploads_are_indexed_and_deleted(api, tmp_path):
    scratch = api.settings.for_collection("scratch")
    scratch.corpus_dir.mkdir(parents=True)
    (scratch.corpus_dir / "base.txt").write_text("The base camp sits at 5,364 metres.\n")
    with httpx.Client(base_url=api.url, timeout=300) as http:
        files = [
            (
                "files",
                ("../../evil/orchard.md", b"# Orchard\n\nThe orchard grows 42 pear trees.\n"),
            ),
            ("files", ("notes.exe", b"MZ")),
        ]
        report = http.post("/api/v1/documents", params={"collection": "scratch"}, files=files)
        assert report.status_code == 200, report.text
        body = report.json()
        assert body["saved"] == ["orchard.md"]
        assert (
            body["rejected"][0]["name"] == "notes.exe" and ".exe" in body["rejected"][0]["reason"]
        )
        assert "orchard.md" in body["ingest"]["added"]
        asked = http.post(
            "/api/v1/ask",
            json={"question": "How many pear trees grow in the orchard?", "collection": "scratch"},
        ).json()["answer"]
        assert "42" in asked["text"] and asked["citations"][0]["source"] == "orchard.md"
        gone = http.delete("/api/v1/documents/orchard.md", params={"collection": "scratch"})
        assert gone.status_code == 200 and gone.json()["removed"] == ["orchard.md"]
        listed = http.get("/api/v1/documents", params={"collection": "scratch"}).json()
        assert [d["source"] for d in listed] == ["base.txt"]
        last = http.delete("/api/v1/documents/base.txt", params={"collection": "scratch"})
        assert last.status_code == 400 and "only document" in last.json()["error"]["message"]
        again = http.post("/api/v1/ingest", params={"collection": "scratch"}).json()
        assert again["unchanged"] == ["base.txt"] and not again["added"] + again["removed"]
    assert not (tmp_path.parent / "evil").exists()
