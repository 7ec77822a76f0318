"""An answer's confidence in the API payloads: REST (the Answer itself) and OpenAI's message."""

from __future__ import annotations

import pytest

from rag.read.confidence import confidence_label
from tests.api.conftest import KABUL

pytestmark = pytest.mark.slow


def test_rest_and_openai_answers_carry_the_confidence(http):
    answer = http.post("/api/v1/ask", json={"question": KABUL}).json()["answer"]
    sure = answer["confidence"]
    assert isinstance(sure, float) and 0.0 <= sure <= 1.0
    assert answer["confidence_label"] == confidence_label(sure)
    chat = http.post(
        "/v1/chat/completions",
        json={"model": "rag", "messages": [{"role": "user", "content": KABUL}]},
    ).json()
    message = chat["choices"][0]["message"]
    assert message["confidence"] == sure and message["confidence_label"] == confidence_label(sure)
