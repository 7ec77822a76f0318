"""A cited quote is marked on its PDF page exactly: the boxes cover the quote's characters.

The boxes come from the offset map that cleaning keeps (rag.text.traced) and the character
boxes taken at extraction (rag.convert.pdf), stored with the index (rag.store.page_boxes). The
check is PDFium's own: the page characters inside the rectangles
(``PdfTextPage.get_text_bounded``) must spell the quote, whitespace aside.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image

from rag import QA, Citation, Settings
from rag.cite.page_image import FILL, OUTLINE, render_marked_page
from rag.convert.loaders import load
from rag.errors import SourceError
from rag.preprocess.cleaning import CleanDocument, clean
from tests.pdfs import _pdf, scanned_pdf

PDFS = Path(__file__).resolve().parent / "data" / "pdfs"
FR = "federal-register-2020-17221.pdf"  # three columns a page
SENATE = "senate-expenditures.pdf"


def cleaned(name: str, data: bytes | None = None) -> CleanDocument:
    path = PDFS / name
    return clean(load(path, name, data if data is not None else path.read_bytes(), "-"))


def flat(text: str) -> str:
    """Whitespace removed; PDFium's marks for a hyphen at a line end read as hyphens."""
    return re.sub(r"\s+", "", text.replace("\x02", "-").replace("\ufffe", "-"))


def text_in(pdf: bytes | Path, page: int, rects) -> list[str]:
    document = pdfium.PdfDocument(pdf)
    textpage = document[page - 1].get_textpage()
    return [textpage.get_text_bounded(*rect) for rect in rects]


def marked(doc: CleanDocument, quote: str) -> tuple[int, tuple, int]:
    start = doc.text.index(quote)
    page, rects = doc.boxes.marks(start, start + len(quote))
    return page, rects, start


def test_a_quote_across_a_line_break_is_one_rectangle_per_line() -> None:
    doc = cleaned(FR)
    quote = "On March 10, 2019, a Boeing Model\n737–8 airplane operated by Ethiopian"
    page, rects, _ = marked(doc, quote)
    assert page == 2 and len(rects) == 2
    assert rects[1][3] < rects[0][1] + 1  # the second line is below the first
    assert flat("".join(text_in(PDFS / FR, page, rects))) == flat(quote)


def test_a_quote_that_runs_into_the_next_column_is_marked_in_both() -> None:
    doc = cleaned(FR)
    quote = (
        "The most helpful comments\nreference a specific portion of the\nproposal, explain the "
        "reason for any\nrecommended change, and include\nsupporting data."
    )
    page, rects, _ = marked(doc, quote)
    assert page == 1 and len(rects) == 5
    columns = sorted({round(rect[0], -1) for rect in rects})
    assert rects[2][0] > rects[1][2] and rects[2][3] > rects[1][3] + 500  # top of the next column
    assert len(columns) >= 2
    assert flat("".join(text_in(PDFS / FR, page, rects))) == flat(quote)


def test_a_word_rejoined_across_a_line_end_is_marked_on_both_lines() -> None:
    """Real PDF: PDFium's U+FFFE in "non-normal", the completion moved up by the cleaning."""
    doc = cleaned(FR)
    quote = "airplanes have non-normal\nchecklists"
    page, rects, _ = marked(doc, quote)
    assert page == 3 and len(rects) == 2
    lines = text_in(PDFS / FR, page, rects)
    assert flat("".join(lines)) == flat(quote)
    assert flat(lines[0]).endswith("non-")  # the page's line ends in the hyphen


def test_a_dehyphenated_word_is_marked_where_its_halves_are(tmp_path: Path) -> None:
    """The hyphen at the line end goes from the text ("unsupervised"), not from the page."""
    page_text = (
        b"BT /F1 12 Tf 72 720 Td (The model was trained in an unsuper-) Tj "
        b"0 -15 Td (vised way on the archive.) Tj ET"
    )
    data = _pdf([page_text])
    doc = _clean_bytes(data, tmp_path)
    assert "unsupervised\nway" in doc.text  # the completed word ends the upper line
    page, rects, _ = marked(doc, "an unsupervised\nway")
    assert page == 1 and len(rects) == 2
    lines = text_in(data, page, rects)
    # exactly the quoted characters: the hyphen the text dropped is left out of the mark
    assert [flat(line) for line in lines] == ["anunsuper", "visedway"]


def _clean_bytes(data: bytes, folder: Path) -> CleanDocument:
    (folder / "made.pdf").write_bytes(data)
    return clean(load(folder / "made.pdf", "made.pdf", data, "-"))


def test_every_character_of_the_shared_pdfs_that_shows_has_a_box() -> None:
    for name in (FR, SENATE, "scotus-transcript-p1.pdf", "la-precinct-bulletin-2014-p1.pdf"):
        doc = cleaned(name)
        shown = sum(not ch.isspace() for ch in doc.text)
        assert int((doc.boxes.pages > 0).sum()) == shown, name


def test_a_scanned_page_is_marked_with_the_ocr_words_boxes(tmp_path: Path) -> None:
    assert shutil.which("tesseract"), "tesseract is needed: apt-get install tesseract-ocr"
    data = scanned_pdf(["The harbour lights were", "repaired by Marta Quill", "in the spring."])
    doc = _clean_bytes(data, tmp_path)
    quote = "repaired by Marta Quill"
    assert doc.metadata.get("ocr_pages") == "1" and quote in doc.text
    page, rects, _ = marked(doc, quote)
    assert page == 1 and len(rects) == 1
    # Read the rectangle back from a picture of the page: it holds the quote and nothing else.
    document = pdfium.PdfDocument(data)
    scale = 200 / 72
    image = document[0].render(scale=scale, grayscale=True).to_pil()
    left, bottom, right, top = rects[0]
    height = document[0].get_size()[1]
    crop = image.crop(
        (
            int((left - 2) * scale),
            int((height - top - 2) * scale),
            int((right + 2) * scale),
            int((height - bottom + 2) * scale),
        )
    )
    png = tmp_path / "crop.png"
    crop.save(png)
    read = subprocess.run(
        ["tesseract", str(png), "stdout", "--psm", "7"], capture_output=True, text=True, check=True
    ).stdout
    assert flat(read) == flat(quote)


def test_a_citation_without_boxes_keeps_its_defaults() -> None:
    citation = Citation(1, "a.txt", "quote", 0, 5, "quote.", 1.0)
    assert citation.box_page is None and citation.boxes == ()
    assert citation.to_dict()["boxes"] == []  # JSON-ready: lists


# --- through the index: answers, rendering, access ------------------------------------------
@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, embedder) -> Settings:
    root = tmp_path_factory.mktemp("boxes")
    (root / "corpus").mkdir()
    shutil.copy(PDFS / FR, root / "corpus" / FR)
    (root / "corpus" / "notes.txt").write_text(
        "The lighthouse keeper Ilse Marrow painted the tower cobalt blue in 1911.\n"
    )
    settings = Settings(corpus_dir=root / "corpus", index_dir=root / "index")
    with QA(settings, embedder=embedder) as qa:
        qa.ingest()
    return settings


def test_an_answer_from_a_pdf_carries_the_marks_of_its_quote(indexed: Settings, embedder) -> None:
    with QA(indexed, embedder=embedder) as qa:
        answer = qa.ask(
            "How many fatalities resulted from the Ethiopian Airlines Flight 302 accident?"
        )
        other = qa.ask("Who painted the lighthouse tower?")
    citation = answer.citations[0]
    assert citation.source == FR and citation.box_page == citation.page == 2
    assert citation.boxes and all(len(rect) == 4 for rect in citation.boxes)
    quote_on_page = flat("".join(text_in(PDFS / FR, citation.box_page, citation.boxes)))
    assert quote_on_page == flat(citation.quote)
    assert answer.to_dict()["citations"][0]["box_page"] == 2
    text_citation = other.citations[0]
    assert text_citation.source == "notes.txt"
    assert text_citation.box_page is None and text_citation.boxes == ()


def test_the_page_image_marks_the_quote_and_is_cached(indexed: Settings, embedder) -> None:
    with QA(indexed, embedder=embedder) as qa:
        answer = qa.ask(
            "How many fatalities resulted from the Ethiopian Airlines Flight 302 accident?"
        )
        citation = answer.citations[0]
        path = qa.page_image(citation.source, citation.box_page, citation.boxes)
        again = qa.page_image(citation.source, citation.box_page, citation.boxes)
    assert path == again and path.parent == indexed.index_dir / "page-cache"
    image = Image.open(path).convert("RGB")
    assert abs(image.width - 900) <= 1
    scale = image.width / pdfium.PdfDocument(PDFS / FR)[1].get_size()[0]
    left, bottom, right, top = citation.boxes[0]
    box = (
        int(left * scale) - 6,
        int(image.height - top * scale) - 6,
        int(right * scale) + 6,
        int(image.height - bottom * scale) + 6,
    )
    pixels = list(image.crop(box).getdata())
    frame = sum(1 for pixel in pixels if _near(pixel, OUTLINE[:3]))
    fill = sum(1 for r, g, b in pixels if r > 200 and g > 170 and b < 200)
    assert frame > (box[2] - box[0])  # the orange frame around the quote's first line
    assert fill > 0.2 * len(pixels)  # and the translucent yellow between its letters
    assert FILL[3] < 255
    elsewhere = list(image.crop((0, 0, image.width, 40)).getdata())  # the page's header
    assert not any(_near(pixel, OUTLINE[:3]) for pixel in elsewhere)


def _near(pixel: tuple[int, int, int], colour: tuple[int, ...]) -> bool:
    return all(abs(a - b) < 40 for a, b in zip(pixel, colour, strict=True))


def test_only_indexed_pdfs_inside_the_corpus_are_rendered(indexed: Settings, embedder) -> None:
    with QA(indexed, embedder=embedder) as qa:
        with pytest.raises(SourceError, match="not a PDF of the current index"):
            qa.page_image("notes.txt", 1)
        with pytest.raises(SourceError, match="not a PDF of the current index"):
            qa.page_image("../../etc/passwd", 1)
        with pytest.raises(SourceError, match="no page 99"):
            qa.page_image(FR, 99)


def test_a_pdf_changed_since_indexing_is_refused(tmp_path: Path, embedder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(PDFS / SENATE, corpus / SENATE)
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    with QA(settings, embedder=embedder) as qa:
        qa.ingest()
        assert qa.page_image(SENATE, 1).exists()
        (corpus / SENATE).write_bytes((PDFS / FR).read_bytes())
        with pytest.raises(SourceError, match="changed since it was indexed"):
            qa.page_image(SENATE, 1)
        # the cache is bounded: a tiny budget keeps only the newest image
        snapshot = qa.snapshot()
        (corpus / SENATE).write_bytes((PDFS / SENATE).read_bytes())
        first = render_marked_page(snapshot, corpus, SENATE, 1, [(100, 100, 200, 120)], max_bytes=1)
        second = render_marked_page(
            snapshot, corpus, SENATE, 1, [(100, 200, 200, 220)], max_bytes=1
        )
        assert second.exists() and not first.exists()
        assert sorted(p.name for p in second.parent.iterdir()) == [second.name]


def test_the_rest_and_openai_payloads_carry_the_marks(indexed: Settings, embedder) -> None:
    import httpx

    from tests.api.apiserver import serve_app

    question = "How many fatalities resulted from the Ethiopian Airlines Flight 302 accident?"
    with QA(indexed, embedder=embedder) as qa, serve_app(indexed, qa, ui=False) as server:
        rest = httpx.post(f"{server.url}/api/v1/ask", json={"question": question}, timeout=120)
        openai = httpx.post(
            f"{server.url}/v1/chat/completions",
            json={"model": "rag", "messages": [{"role": "user", "content": question}]},
            timeout=120,
        )
    cited = rest.json()["answer"]["citations"][0]
    assert cited["box_page"] == 2 and len(cited["boxes"]) >= 1
    assert all(len(box) == 4 for box in cited["boxes"])
    (first, *_) = openai.json()["choices"][0]["message"]["citations"]
    assert first["box_page"] == 2 and first["boxes"] == cited["boxes"]
