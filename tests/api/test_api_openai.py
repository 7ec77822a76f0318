"""The OpenAI-compatible endpoint, asked by OpenAI's own Python client."""

from __future__ import annotations

import httpx
import openai
import pytest

from rag.results import ABSTAIN_TEXT
from tests.api.conftest import KABUL, LIGHTHOUSE

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(api):
    return openai.OpenAI(base_url=f"{api.url}/v1", api_key="unused", max_retries=0, timeout=120)


def ask(client, content, model="rag", **extra):
    return client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": content}], **extra
    )


def test_an_answer_is_a_normal_message_with_its_citations_beside_it(client):
    response = ask(client, KABUL, temperature=0.2, max_tokens=50)  # sampling options ignored
    message = response.choices[0].message
    assert message.role == "assistant" and response.choices[0].finish_reason == "stop"
    assert message.content.startswith("September, 1996") and "[1]" in message.content
    (citation,) = message.model_extra["citations"]
    assert citation["n"] == 1 and citation["source"] == "afghanistan-pakistan-relations.txt"
    assert "seized Kabul in September, 1996" in citation["quote"]
    assert citation["end"] - citation["start"] == len(citation["quote"])
    assert message.model_extra["abstained"] is False
    assert response.model == "rag" and response.usage.completion_tokens > 0


def test_a_streamed_answer_arrives_as_openai_chunks_with_the_citations_last(client):
    chunks = list(ask(client, KABUL, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text.startswith("September, 1996") and "[1]" in text
    assert chunks[0].choices[0].delta.role == "assistant"
    last = chunks[-1].choices[0]
    assert last.finish_reason == "stop"
    (citation,) = last.delta.model_extra["citations"]
    assert "September, 1996" in citation["quote"]
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])


def test_an_abstention_is_a_plain_message_without_citations(client):
    message = ask(client, "Who won the 2018 FIFA World Cup?").choices[0].message
    assert message.content == ABSTAIN_TEXT
    assert message.model_extra["citations"] == [] and message.model_extra["abstained"] is True


def test_a_follow_up_is_resolved_from_the_earlier_messages(client):
    messages = [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": KABUL},
        {"role": "assistant", "content": "September, 1996 [1]"},
        {"role": "user", "content": "And when did they first defeat local warlords?"},
    ]
    message = client.chat.completions.create(model="rag", messages=messages).choices[0].message
    assert message.model_extra["citations"], message.content
    # alone, the follow-up names no one: only the earlier turn brings the Taliban in
    assert "Taliban" in message.model_extra["query"]
    alone = ask(client, "And when did they first defeat local warlords?").choices[0].message
    assert "Taliban" not in alone.model_extra["query"]


def test_the_model_picks_the_collection(api, client):
    # a model per collection: the server's own, "lighthouses", and any a test run before
    # this one made (the server is shared, and test order is not fixed under xdist)
    ids = {m.id for m in client.models.list()}
    assert {"rag", "rag:lighthouses"} <= ids
    home = api.settings.collections_dir
    assert all(i == "rag" or (home / i.removeprefix("rag:")).is_dir() for i in ids), ids
    assert client.models.retrieve("rag:lighthouses").id == "rag:lighthouses"
    there = ask(client, LIGHTHOUSE, model="rag:lighthouses").choices[0].message
    assert "cobalt blue" in there.content
    assert there.model_extra["citations"][0]["source"] == "zeta.md"
    here = ask(client, LIGHTHOUSE, model="rag").choices[0].message
    assert all(c["source"] != "zeta.md" for c in here.model_extra["citations"])


def test_an_unknown_model_is_a_404_that_lists_the_models(client):
    with pytest.raises(openai.NotFoundError) as caught:
        ask(client, KABUL, model="rag:nope")
    error = caught.value.body
    assert error["code"] == "model_not_found" and "rag:lighthouses" in error["message"]
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")


@pytest.mark.parametrize(
    ("body", "status", "code", "words"),
    [
        (
            {"model": "rag", "messages": [{"role": "user", "content": "  "}]},
            400,
            "invalid_question",
            "empty",
        ),
        ({"model": "rag", "messages": []}, 422, "invalid_request", "messages"),
        (
            {"model": "rag", "messages": [{"role": "user", "content": 7}]},
            422,
            "invalid_request",
            "content",
        ),
        (
            {"model": "rag", "messages": [{"role": "assistant", "content": "hi"}]},
            400,
            "invalid_request",
            "last message",
        ),
        (
            {"model": "rag", "messages": [{"role": "user", "content": "x" * 3000}]},
            400,
            "invalid_question",
            "too long",
        ),
    ],
)
def test_bad_requests_get_a_4xx_with_a_clear_message(api, body, status, code, words):
    response = httpx.post(f"{api.url}/v1/chat/completions", json=body, timeout=60)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and words in error["message"]
    assert "Traceback" not in response.text


def test_a_1_mb_body_is_refused_before_it_is_read(api):
    body = b'{"model": "rag", "messages": [{"role": "user", "content": "' + b"a" * (1 << 20)
    response = httpx.post(
        f"{api.url}/v1/chat/completions",
        content=body + b'"}]}',
        headers={"content-type": "application/json"},
        timeout=60,
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"
