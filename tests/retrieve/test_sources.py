"""Asking within chosen documents: ``sources=`` in the library, ``--source`` and ``/ask``.

One small corpus of distinct facts, indexed once for the module with the real models; each
fact lives in exactly one document, so a question whose document is left out must abstain.
"""

from __future__ import annotations

import json

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from langchain_core.language_models import FakeListChatModel

from rag import QA, RagError, Settings
from rag.errors import SourceError
from rag.questions import abstain_text
from rag.results import ABSTAIN_TEXT
from rag.retrieve.source_filter import resolve_sources
from tests.clirun import rag

BRIDGE = "When did the kappa bridge open?"
LEAVE = "How many days of paid annual leave do Orlan employees receive?"
FILES = {
    "bridges.txt": (
        "The kappa bridge over the Vell river opened in 1931 in Bergen. "
        "It was designed by the engineer Solveig Brandt and carries two tram lines."
    ),
    "policies/leave.txt": (
        "Employees of the Orlan company receive 27 days of paid annual leave. "
        "Unused leave expires at the end of March of the following year."
    ),
    "policies/travel.txt": (
        "Travel expenses at the Orlan company are reimbursed within 14 days "
        "when the receipts are filed with the finance office."
    ),
    "notes/lighthouse.md": (
        "# Lighthouse\n\nThe zeta lighthouse was painted cobalt blue in 1911 "
        "by its keeper, Ilse Marrow."
    ),
}
POLICIES = ("policies/leave.txt", "policies/travel.txt")


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, embedder) -> Settings:
    root = tmp_path_factory.mktemp("sources")
    for name, text in FILES.items():
        path = root / "corpus" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    built = Settings(corpus_dir=root / "corpus", index_dir=root / "index")
    with QA(built, embedder=embedder) as qa:
        qa.ingest()
    return built


@pytest.fixture(scope="module")
def qa(settings: Settings, embedder):
    session = QA(settings, embedder=embedder)
    yield session
    session.close()


def passage_sources(answer) -> set[str]:
    return {p.source for p in answer.passages}


# -- the library ----------------------------------------------------------------------------------
def test_an_answer_in_an_excluded_document_abstains_and_says_where_it_looked(qa):
    everywhere = qa.ask(BRIDGE)
    assert not everywhere.abstained and "1931" in everywhere.text
    assert everywhere.citations[0].source == "bridges.txt"

    within = qa.ask(BRIDGE, sources=["policies/*"])
    assert within.abstained and within.citations == []
    assert within.text == abstain_text(POLICIES)
    assert within.text == "The 2 chosen documents do not answer this question."
    assert within.text != ABSTAIN_TEXT
    assert passage_sources(within) <= set(POLICIES)  # related passages come from them only

    one = qa.ask(BRIDGE, sources=["notes/lighthouse.md"])
    assert one.abstained
    assert one.text == "The chosen document (notes/lighthouse.md) does not answer this question."


def test_the_chosen_document_still_answers(qa):
    answer = qa.ask(BRIDGE, sources=["bridges.txt"])
    assert not answer.abstained and "1931" in answer.text
    assert {c.source for c in answer.citations} == {"bridges.txt"}
    assert passage_sources(answer) == {"bridges.txt"}


def test_no_filter_is_the_whole_corpus_and_old_callers_keep_working(qa):
    plain = qa.ask(LEAVE)
    assert qa.ask(LEAVE, None).text == plain.text == qa.ask(LEAVE, [], sources=None).text
    assert not plain.abstained and plain.citations[0].source == "policies/leave.txt"
    assert len(passage_sources(plain)) > 1  # the unfiltered search ranges over everything


@pytest.mark.parametrize(
    ("patterns", "expected"),
    [
        (["*.txt"], {"bridges.txt", *POLICIES}),
        (["policies/*"], set(POLICIES)),
        (["policies"], set(POLICIES)),  # a folder: everything under it
        (["policies/"], set(POLICIES)),
        (["*.md"], {"notes/lighthouse.md"}),
        (["policies/l*.txt", "bridges.txt"], {"policies/leave.txt", "bridges.txt"}),
        ("./bridges.txt", {"bridges.txt"}),  # one string is one pattern, not its letters
        (["policies/*", "policies/leave.txt"], set(POLICIES)),  # overlaps count once
    ],
)
def test_patterns_select_the_right_documents(qa, patterns, expected):
    assert set(qa.resolve_sources(patterns)) == expected
    answer = qa.ask(LEAVE, sources=patterns)
    assert passage_sources(answer) <= expected
    assert {c.source for c in answer.citations} <= expected
    assert answer.abstained == ("policies/leave.txt" not in expected)


def test_a_path_into_the_corpus_folder_is_understood(qa, settings):
    """Shell completion gives ``corpus/bridges.txt`` or an absolute path: both mean the file."""
    assert qa.resolve_sources([str(settings.corpus_dir / "bridges.txt")]) == ("bridges.txt",)
    assert qa.resolve_sources([str(settings.corpus_dir / "policies" / "*")]) == POLICIES


def test_filtered_retrieval_keeps_both_retrievers_inside_the_sources(qa):
    # "cobalt lighthouse keeper" shares words with one document only, so BM25 alone would
    # find nothing in the others; dense retrieval still ranks them, and must stay inside.
    docs = qa.retrieve("Who painted the lighthouse cobalt blue?", sources=["*.txt"])
    assert docs and {d.metadata["source"] for d in docs} <= {"bridges.txt", *POLICIES}
    assert any(d.metadata["dense_rank"] is not None for d in docs)
    bm25_only = qa.retrieve("Orlan receipts finance office", sources=["policies/leave.txt"])
    assert {d.metadata["source"] for d in bm25_only} == {"policies/leave.txt"}


@pytest.mark.parametrize(
    ("patterns", "message"),
    [
        (["nowhere.pdf"], "'nowhere.pdf'"),
        (["bridges.txt", "missing/*"], "'missing/*'"),
        (["bridge.txt"], "did you mean 'bridges.txt'"),
        ([], "no sources given"),
        ([""], "empty"),
        ([3], "document paths or patterns"),
    ],
)
def test_an_unknown_source_is_a_clear_error(qa, patterns, message):
    with pytest.raises(SourceError) as caught:
        qa.ask(BRIDGE, sources=patterns)
    assert message in str(caught.value)
    assert isinstance(caught.value, RagError)
    if patterns and patterns[0] == "nowhere.pdf":
        assert "`rag documents`" in str(caught.value)


def test_resolution_is_a_pure_function_of_the_indexed_names():
    names = ["a.txt", "sub/b.txt", "sub/deeper/c.pdf"]
    assert resolve_sources(names, ["*.pdf"]) == ("sub/deeper/c.pdf",)  # * crosses folders
    assert resolve_sources(names, ["sub"]) == ("sub/b.txt", "sub/deeper/c.pdf")
    assert resolve_sources(names, ["sub\\b.txt"]) == ("sub/b.txt",)
    with pytest.raises(SourceError, match="holds no documents"):
        resolve_sources([], ["a.txt"])
    with pytest.raises(SourceError, match=r"'A\.TXT'"):  # paths are case-sensitive
        resolve_sources(names, ["A.TXT"])


def test_a_follow_up_is_rewritten_and_still_searched_only_in_the_sources(qa):
    history = [(BRIDGE, "1931 [1]")]
    follow = qa.ask("And who designed it?", history, sources=["bridges.txt"])
    assert "kappa bridge" in follow.query and "Solveig Brandt" in follow.text
    elsewhere = qa.ask("And who designed it?", history, sources=["policies/*"])
    assert elsewhere.abstained and elsewhere.text == abstain_text(POLICIES)


def test_the_generative_path_gets_only_the_chosen_documents(settings, embedder):
    model = FakeListChatModel(responses=["The kappa bridge opened in 1931 [1]."])
    with QA(settings, embedder=embedder, chat_model=model) as qa:
        *deltas, refused = qa.stream(BRIDGE, sources=["policies/*"])
        assert refused.abstained and refused.text == abstain_text(POLICIES)
        assert "".join(deltas) == refused.text  # the streamed text says so too
        *_, answer = qa.stream(BRIDGE, sources=["bridges.txt"])
        assert not answer.abstained and answer.answerer.startswith("chat:")
        assert {c.source for c in answer.citations} == {"bridges.txt"}
        assert passage_sources(answer) == {"bridges.txt"}


# -- the command line -----------------------------------------------------------------------------
@pytest.mark.slow
def test_the_cli_source_option(settings, tmp_path):
    where = ("--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir))
    chosen = ("--source", "policies/*", "--source", "*.md")
    done = rag("ask", BRIDGE, *where, *chosen, "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["abstained"]
    assert data["text"] == "The 3 chosen documents do not answer this question."
    assert {p["source"] for p in data["passages"]} <= {*POLICIES, "notes/lighthouse.md"}

    found = rag("ask", BRIDGE, *where, "--source", "bridges.txt", cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    assert "1931 [1]" in found.stdout and "[1] bridges.txt" in found.stdout

    unknown = rag("ask", BRIDGE, *where, "--source", "nowhere.pdf", cwd=tmp_path)
    assert unknown.returncode == 1 and "Traceback" not in unknown.stderr
    assert "'nowhere.pdf'" in unknown.stderr and "rag documents" in unknown.stderr

    listed = rag("documents", *where, "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert [d["source"] for d in json.loads(listed.stdout)] == sorted(FILES)


# -- the web app's /ask API -----------------------------------------------------------------------
@pytest.mark.slow
def test_the_ask_api_takes_sources(tmp_path, embedder):
    from tests.uiserver import serve

    extra = {"bridges.txt": FILES["bridges.txt"], "leave.txt": FILES["policies/leave.txt"]}
    with serve(tmp_path, embedder, extra) as server:
        client = Client(server.url, verbose=False, download_files=False, analytics_enabled=False)
        text, payload = client.predict(BRIDGE, None, api_name="/ask")  # the old call shape
        assert "1931" in text and payload["citations"][0]["source"] == "bridges.txt"
        text, payload = client.predict(BRIDGE, None, ["leave.txt"], api_name="/ask")
        assert payload["abstained"] and text == abstain_text(["leave.txt"])
        assert {p["source"] for p in payload["related"]} <= {"leave.txt"}
        text, payload = client.predict(BRIDGE, None, ["*.txt"], api_name="/ask")
        assert "1931" in text and payload["citations"][0]["source"] == "bridges.txt"
        text, _ = client.predict(BRIDGE, None, [], api_name="/ask")  # empty: every document
        assert "1931" in text
        with pytest.raises(AppError, match=r"nowhere\.pdf"):
            client.predict(BRIDGE, None, ["nowhere.pdf"], api_name="/ask")


# -- a Chroma server holds the vectors ------------------------------------------------------------
@pytest.mark.slow
def test_the_filter_works_with_a_chroma_server(tmp_path, embedder):
    from tests.test_chroma_server import ChromaServer

    server = ChromaServer(tmp_path / "chroma")
    server.start()
    try:
        corpus = tmp_path / "corpus"
        for name, text in FILES.items():
            (corpus / name).parent.mkdir(parents=True, exist_ok=True)
            (corpus / name).write_text(text, encoding="utf-8")
        remote = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", chroma_url=server.url)
        with QA(remote, embedder=embedder) as qa:
            qa.ingest()
            assert qa.snapshot().vectors.remote
            assert "1931" in qa.ask(BRIDGE).text
            within = qa.ask(BRIDGE, sources=["policies/*"])
            assert within.abstained and within.text == abstain_text(POLICIES)
            assert passage_sources(within) <= set(POLICIES)
            assert "1931" in qa.ask(BRIDGE, sources=["bridges.txt"]).text
    finally:
        server.stop()
