"""What the UI renders, checked without a browser: escaping, links, highlights, uploads."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from rag.ingest.uploads import (
    UPLOAD_SUFFIXES,
    UploadError,
    add_uploads,
    corpus_path,
    remove_document,
    safe_filename,
)
from rag.results import (
    ABSTAIN_TEXT,
    Answer,
    Citation,
    DocumentInfo,
    IngestSummary,
    Passage,
    SkippedFile,
)
from tests.conftest import SEED
from ui.listings import document_rows, ingest_report
from ui.present import (
    Session,
    Turn,
    answer_markdown,
    chat_messages,
    citation_card,
    citation_payload,
    document_html,
    highlight,
    markdown_literal,
    quote_in_passage,
    sources_html,
)

MD = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
NASTY = (
    '![pic](http://192.0.2.7/a.png) <img src="http://192.0.2.7/b.png" onerror="alert(1)"> '
    "[link](javascript:alert(1)) <script>alert(2)</script> $$x^2$$ **bold** `code` # h & &amp;"
)

DOC = 'Intro line.\n\nThe bridge opened in 1931 in <Bergen> & "friends". More text follows here.'
QUOTE = 'The bridge opened in 1931 in <Bergen> & "friends".'
QSTART = DOC.index(QUOTE)


def citation(**changes) -> Citation:
    fields = {
        "n": 1,
        "source": 'docs/a "b" <c>.txt',
        "quote": QUOTE,
        "start": QSTART,
        "end": QSTART + len(QUOTE),
        "passage": DOC,
        "score": 0.83456,
        "title": "The <i>bridge</i>",
        "passage_start": 0,
    }
    fields.update(changes)
    return Citation(**fields)


def passage(text: str = DOC, **changes) -> Passage:
    fields = {
        "chunk_id": "c1",
        "source": "a.txt",
        "text": text,
        "start": 0,
        "end": len(text),
        "score": 0.0327,
    }
    fields.update(changes)
    return Passage(**fields)


class Tags(HTMLParser):
    """Collects the elements of an HTML fragment and its visible text."""

    def __init__(self, fragment: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(fragment)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def names(self) -> set[str]:
        return {tag for tag, _ in self.tags}


def marked(fragment: str) -> list[str]:
    return re.findall(r"<mark[^>]*>(.*?)</mark>", fragment, re.S)


# -- Markdown for the chat -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "text", [NASTY, "a\\b [1] <b>x</b>", "line one\nline two", "1. not a list"]
)
def test_markdown_literal_renders_as_the_same_characters(text):
    rendered = MD.render(markdown_literal(text))
    tags = Tags(rendered)
    assert tags.names() <= {"p", "br"}, rendered  # no img, a, script, em, code, h1, ol
    assert "".join(tags.text).strip() == text.strip()


@given(st.text(max_size=200))
def test_markdown_literal_never_lets_markup_through(text):
    rendered = MD.render(markdown_literal(text))
    assert Tags(rendered).names() <= {"p", "br"}


def test_citation_markers_link_to_their_cards_and_unknown_markers_stay_text():
    answer = Answer(
        text="It opened in 1931 [1], see also [7] and ![x](http://192.0.2.7/x.png).",
        abstained=False,
        citations=[citation()],
        question="When did it open?",
        query="When did it open?",
    )
    rendered = MD.render(answer_markdown(answer, turn=4))
    tags = Tags(rendered)
    links = [attrs for tag, attrs in tags.tags if tag == "a"]
    assert links == [{"href": "#src-4-1"}]
    assert "img" not in tags.names()
    assert "[7]" in "".join(tags.text) and "Searched for" not in rendered


def test_a_rewritten_follow_up_says_what_was_searched_for():
    answer = Answer(
        text="1994 [1]",
        abstained=False,
        citations=[citation()],
        question="and when did they win?",
        query="and when did they win? (Taliban <seize>)",
    )
    text = "".join(Tags(MD.render(answer_markdown(answer, 0))).text)
    assert "Searched for: and when did they win? (Taliban <seize>)" in text


def test_an_abstention_is_shown_as_such_and_points_to_related_passages():
    answer = Answer(
        text=ABSTAIN_TEXT, abstained=True, passages=[passage()], question="q", query="q"
    )
    text = "".join(Tags(MD.render(answer_markdown(answer, 0))).text)
    assert ABSTAIN_TEXT in text and "related, but not an answer" in text
    panel = sources_html(Session([Turn("q", answer)]))
    assert "related, but not an answer" in panel
    assert 'class="rag-card rag-related"' in panel and "Bergen" in panel


def test_chat_messages_follow_the_turns_and_shorten_a_long_question():
    answer = Answer(text="1931 [1]", abstained=False, citations=[citation()], question="q")
    session = Session(
        [
            Turn("When?", answer),
            Turn("x" * 5000, error="the question is too long"),
            Turn("Still thinking?", partial="19"),
        ]
    )
    messages = chat_messages(session)
    assert [m["role"] for m in messages] == ["user", "assistant"] * 3
    assert len(messages[2]["content"]) < 400
    assert "too long" in messages[3]["content"] and messages[5]["content"] == "19"
    assert session.history() == [("When?", "1931 [1]")]
    assert session.shown() == 2
    session.selected = 0
    assert session.shown() == 0


# -- source cards and the document viewer --------------------------------------------------------
def test_a_card_highlights_the_quote_inside_its_passage_and_escapes_everything():
    card = citation_card(citation(page=3), turn=2)
    assert marked(card) == [html.escape(QUOTE, quote=True)]
    tags = Tags(card)
    assert tags.names() == {"article", "header", "span", "div", "blockquote", "mark", "button"}
    article = tags.tags[0][1]
    assert article["id"] == "src-2-1"
    button = next(attrs for tag, attrs in tags.tags if tag == "button")
    assert button["data-source"] == 'docs/a "b" <c>.txt'
    assert (button["data-start"], button["data-end"]) == (str(QSTART), str(QSTART + len(QUOTE)))
    text = "".join(tags.text)
    assert "page 3" in text and f"characters {QSTART}" in text and "score 0.835" in text
    assert "The <i>bridge</i>" in text  # the title is text, not markup


def test_a_card_shows_the_location_of_any_format_and_marks_ocr():
    for place in ("sheet <Prices>, row 12", "page 2 (OCR)", "slide 4"):
        card = citation_card(citation(page=2, location=place), turn=1)
        text = "".join(Tags(card).text)
        assert f"{place}, characters {QSTART:,}" in text
        assert html.escape(place, quote=True) in card


def test_quote_offsets_are_trusted_only_when_they_match():
    assert quote_in_passage(citation()) == (QSTART, QSTART + len(QUOTE))
    shifted = citation(passage="xx" + DOC, passage_start=-2)
    assert quote_in_passage(shifted) == (QSTART + 2, QSTART + 2 + len(QUOTE))
    lying = citation(start=0, end=len(QUOTE))  # offsets point elsewhere: found by search
    assert quote_in_passage(lying) == (QSTART, QSTART + len(QUOTE))
    assert quote_in_passage(citation(quote="not in the passage")) is None
    card = citation_card(citation(quote="not in the passage"), 0)
    assert marked(card) == ["not in the passage"]


@pytest.mark.parametrize(("start", "end"), [(-1, 4), (5, 2), (0, 10_000), (3, 3)])
def test_highlight_ignores_impossible_spans(start, end):
    out = highlight("a <b> c", start, end)
    assert "<mark" not in out and out == "a &lt;b&gt; c"


def test_the_document_view_marks_the_span_for_scrolling():
    view = document_html("a.txt", DOC, QSTART, QSTART + len(QUOTE), title="T")
    assert re.search(r'<mark class="rag-hit" id="rag-doc-hit">', view)
    assert marked(view) == [html.escape(QUOTE, quote=True)]
    assert "".join(Tags(view).text).count("More text follows here.") == 1


def test_cards_from_a_real_answer_quote_the_document(qa):
    answer = qa.ask("When did the Taliban seize Kabul?")
    c = answer.citations[0]
    assert marked(citation_card(c, 0)) == [html.escape(c.quote, quote=True)]
    text = qa.document_text(c.source)
    view = document_html(c.source, text, c.start, c.end)
    assert html.unescape(marked(view)[0]) == text[c.start : c.end] == c.quote
    assert c.source == SEED


def test_empty_and_pending_panels_say_what_is_going_on():
    assert "Ask a question" in sources_html(Session())
    assert "Searching" in sources_html(Session([Turn("q")]))
    assert "No answer" in sources_html(Session([Turn("q", error="index is busy")]))


# -- API payload and documents tab -------------------------------------------------------------
def test_the_citation_payload_is_plain_json():
    answer = Answer(
        text="1931 [1]", abstained=False, citations=[citation()], question="q", query="q"
    )
    data = json.loads(json.dumps(citation_payload(answer)))
    assert data["citations"][0]["quote"] == QUOTE and data["related"] == []
    abstained = Answer(text=ABSTAIN_TEXT, abstained=True, passages=[passage()], question="q")
    assert citation_payload(abstained)["related"][0]["source"] == "a.txt"


def test_document_rows_and_ingest_report():
    stamp = "2026-01-02T03:04:05.123456+00:00"  # as rag.clock writes it
    rows = document_rows([DocumentInfo("a.txt", "A", "text", 2048, 3, stamp)])
    assert rows == [["a.txt", "A", "text", "2.0 KB", 3, "2026-01-02 03:04"]]
    summary = IngestSummary(added=["b.txt"], skipped=[SkippedFile("bad.pdf", "not a PDF")])
    report = ingest_report(summary, rejected=[("<evil>.exe", ".exe files are not accepted")])
    text = "".join(Tags(MD.render(report)).text)
    assert "1 added" in text and "bad.pdf: not a PDF" in text
    assert "<evil>.exe: .exe files are not accepted" in text


# -- uploads --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("notes.txt", "notes.txt"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\evil.md", "evil.md"),
        ("/abs/path/Report 2024.PDF", "Report 2024.pdf"),
        (".hidden.html", "hidden.html"),
        ("a\x00b\nc.txt", "abc.txt"),
        ("we<i>rd|na:me?.md", "we_i_rd_na_me.md"),
        ("x" * 400 + ".txt", "x" * 116 + ".txt"),
    ],
)
def test_upload_names_are_reduced_to_one_safe_file_name(name, safe):
    assert safe_filename(name) == safe


@pytest.mark.parametrize("name", ["", "..", ".txt", "notes", "evil.exe", "a.txt.sh", "../"])
def test_unusable_upload_names_are_refused_with_a_reason(name):
    with pytest.raises(UploadError):
        safe_filename(name)


@given(st.text(min_size=1, max_size=80), st.sampled_from(UPLOAD_SUFFIXES))
def test_a_safe_name_never_leaves_the_folder(stem, suffix):
    try:
        name = safe_filename(stem + suffix)
    except UploadError:
        return
    assert "/" not in name and "\\" not in name and not name.startswith(".")
    assert name.endswith(suffix) and len(name) <= 120


def test_uploads_are_copied_under_safe_names_and_bad_ones_refused(tmp_path):
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "good.txt").write_text("hello")
    (incoming / "big.md").write_bytes(b"x" * 3000)
    (incoming / "empty.html").write_bytes(b"")
    (incoming / "tool.exe").write_bytes(b"MZ")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text("old")
    files = [incoming / n for n in ("good.txt", "big.md", "empty.html", "tool.exe", "gone.txt")]
    result = add_uploads(files, corpus, max_mb=0.002)
    assert result.saved == [] and result.replaced == ["good.txt"]
    assert [name for name, _ in result.rejected] == ["big.md", "empty.html", "tool.exe", "gone.txt"]
    reasons = dict(result.rejected)
    assert "limit" in reasons["big.md"] and "empty" in reasons["empty.html"]
    assert (corpus / "good.txt").read_text() == "hello"
    assert sorted(p.name for p in corpus.iterdir()) == ["good.txt"]  # no temp files left


def test_documents_are_removed_only_inside_the_corpus(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "sub" / "a.txt").write_text("a")
    (tmp_path / "outside.txt").write_text("keep me")
    for bad in ["../outside.txt", str(tmp_path / "outside.txt"), "", ".", "sub/../../outside.txt"]:
        with pytest.raises(UploadError):
            corpus_path(corpus, bad)
    remove_document(corpus, "sub/a.txt")
    remove_document(corpus, "sub/a.txt")  # already gone is fine
    assert not (corpus / "sub" / "a.txt").exists() and (tmp_path / "outside.txt").exists()


@pytest.mark.parametrize("text", ["\t0", "    code?", "line\n\n    indented", " \t x"])
def test_indentation_stays_text_not_a_code_block(text):
    tags = Tags(MD.render(markdown_literal(text)))
    assert tags.names() <= {"p", "br"}
    assert " ".join("".join(tags.text).split()) == " ".join(text.split())
