"""Office files, spreadsheets, e-books: real files written in the test, read, indexed and asked.

Each file holds a fact found nowhere else in its corpus, so an answer cited from it (with its
location) shows the whole path works: loader, cleaning, locations, index, reader, citation.
"""

from __future__ import annotations

import csv
import io
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import pytest

from rag import QA, Settings
from rag.convert.loaders import SkipFile, load
from rag.convert.office import load_csv
from rag.preprocess.chunking import chunk_text
from rag.preprocess.cleaning import clean


def write_docx(path: Path) -> None:
    import docx

    document = docx.Document()
    document.core_properties.title = "Harbour Survey"
    document.core_properties.author = "Ines Calder"
    document.add_heading("Harbour Survey", level=1)
    document.add_paragraph("The survey covered the northern breakwater in spring.")
    document.add_heading("Findings", level=2)
    document.add_paragraph(
        "The lighthouse keeper reported that the foghorn was last repaired in 1987."
    )
    table = document.add_table(rows=3, cols=2)
    for row, cells in zip(
        table.rows, [("Pier", "Depth"), ("North", "12 m"), ("East", "9 m")], strict=True
    ):
        for cell, value in zip(row.cells, cells, strict=True):
            cell.text = value
    document.save(path)


def write_pptx(path: Path) -> None:
    from pptx import Presentation

    deck = Presentation()
    for title, body, notes in [
        ("Quarterly review", "Sales grew in every region.", ""),
        (
            "Launch plan",
            "The Falcon rover ships to customers in October.",
            "Mention that the Falcon battery lasts eleven hours.",
        ),
    ]:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    deck.save(path)


def write_xlsx(path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Prices"
    sheet.append(["Product", "Price", "Colour"])
    sheet.append(["Widget", 42.5, "blue"])
    sheet.append(["Gizmo", 17, "green"])
    other = book.create_sheet("Staff")
    other.append(["Name", "Office"])
    other.append(["Orla Brennan", "Galway"])
    book.save(path)


def write_epub(path: Path, chapters: list[tuple[str, str]]) -> None:
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("test-book")
    book.set_title("Tales of the Lagoon")
    book.set_language("en")
    book.add_author("Mara Venn")
    items = []
    for i, (heading, text) in enumerate(chapters, 1):
        item = epub.EpubHtml(title=heading, file_name=f"chap{i}.xhtml", lang="en")
        item.content = f"<html><body><h1>{heading}</h1><p>{text}</p></body></html>"
        book.add_item(item)
        items.append(item)
    book.toc = items
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = items
    epub.write_epub(str(path), book)


def write_odt(path: Path) -> None:
    from odf import text
    from odf.opendocument import OpenDocumentText

    document = OpenDocumentText()
    document.text.addElement(text.H(outlinelevel=1, text="Garden Notes"))
    document.text.addElement(text.P(text="The quince tree was planted by the east wall in 2011."))
    document.save(str(path))


CHAPTERS = [
    ("The Crossing", "The ferry left the island at dawn with forty passengers."),
    ("The Storm", "The boatman Teodor steered the ferry into the sheltered cove of Brava."),
]


@pytest.fixture(scope="module")
def formats_corpus(tmp_path_factory: pytest.TempPathFactory, embedder) -> tuple[Settings, Any]:
    """The corpus of one file per format plus bad files, indexed once: (settings, summary)."""
    root = tmp_path_factory.mktemp("formats")
    corpus = root / "corpus"
    corpus.mkdir()
    write_docx(corpus / "survey.docx")
    write_pptx(corpus / "review.pptx")
    write_xlsx(corpus / "catalogue.xlsx")
    write_epub(corpus / "lagoon.epub", CHAPTERS)
    write_odt(corpus / "garden.odt")
    (corpus / "trains.csv").write_text(
        "Route,Departure,Platform\nDublin to Cork,08:15,4\nDublin to Sligo,09:40,7\n"
    )
    # bad inputs: each skipped with its own reason, none stopping the rest
    junk = io.BytesIO()
    with zipfile.ZipFile(junk, "w") as archive:
        archive.writestr("junk.bin", b"\x00\x01 not a word document " * 50)
    (corpus / "junk.docx").write_bytes(junk.getvalue())
    (corpus / "locked.xlsx").write_bytes(_encrypted_xlsx(root))
    write_epub(corpus / "empty.epub", [])
    settings = Settings(corpus_dir=corpus, index_dir=root / "index")
    with QA(settings, embedder=embedder) as qa:
        summary = qa.ingest()
    return settings, summary


def _encrypted_xlsx(root: Path) -> bytes:
    """A real password-protected workbook (msoffcrypto-tool encrypts like Excel does)."""
    import msoffcrypto.format.ooxml as ooxml

    plain = root / "plain.xlsx"
    write_xlsx(plain)
    out = io.BytesIO()
    with plain.open("rb") as handle:
        ooxml.OOXMLFile(handle).encrypt("s3cret", out)
    return out.getvalue()


def test_bad_files_are_skipped_with_specific_reasons(formats_corpus) -> None:
    _, summary = formats_corpus
    reasons = {s.path: s.reason for s in summary.skipped}
    assert set(reasons) == {"junk.docx", "locked.xlsx", "empty.epub"}
    assert "corrupt or unreadable Word document" in reasons["junk.docx"]
    assert "password-protected" in reasons["locked.xlsx"]
    assert "without any chapter text" in reasons["empty.epub"]
    assert sorted(summary.added) == [
        "catalogue.xlsx",
        "garden.odt",
        "lagoon.epub",
        "review.pptx",
        "survey.docx",
        "trains.csv",
    ]


@pytest.mark.parametrize(
    ("question", "source", "answer", "location"),
    [
        ("When was the foghorn last repaired?", "survey.docx", "1987", "section “Findings”"),
        ("How long does the Falcon battery last?", "review.pptx", "eleven hours", "slide 2"),
        ("When does the Falcon rover ship?", "review.pptx", "October", "slide 2"),
        ("What is the price of the Widget?", "catalogue.xlsx", "42.5", "sheet Prices, row 2"),
        (
            "In which office does Orla Brennan work?",
            "catalogue.xlsx",
            "Galway",
            "sheet Staff, row 2",
        ),
        (
            "Into which cove did Teodor steer the ferry?",
            "lagoon.epub",
            "Brava",
            "chapter 2: The Storm",
        ),
        ("When was the quince tree planted?", "garden.odt", "2011", "section “Garden Notes”"),
        # the row that names Sligo is read on its own (rag.read.tables): reader v2 alone
        # quoted the Cork row's departure (08:15)
        ("What time does the train to Sligo depart?", "trains.csv", "09:40", "row 3"),
    ],
)
def test_each_format_answers_with_its_location(
    formats_corpus, embedder, question: str, source: str, answer: str, location: str
) -> None:
    with QA(formats_corpus[0], embedder=embedder) as qa:
        result = qa.ask(question)
    assert not result.abstained, result
    assert answer in result.text
    citation = result.citations[0]
    assert citation.source == source
    assert citation.location == location
    assert answer in citation.quote


def test_metadata_and_titles_are_kept(formats_corpus, embedder) -> None:
    with QA(formats_corpus[0], embedder=embedder) as qa:
        docs = {d.source: d for d in qa.documents()}
    assert docs["lagoon.epub"].title == "Tales of the Lagoon"
    assert docs["lagoon.epub"].metadata["author"] == "Mara Venn"
    assert docs["survey.docx"].title == "Harbour Survey"
    assert docs["survey.docx"].metadata["author"] == "Ines Calder"
    assert docs["catalogue.xlsx"].metadata["sheets"] == "Prices, Staff"


def test_rows_repeat_their_headers_and_docx_tables_become_rows(tmp_path: Path) -> None:
    write_xlsx(tmp_path / "c.xlsx")
    write_docx(tmp_path / "s.docx")
    sheet = _clean(tmp_path / "c.xlsx")
    assert "Product: Widget; Price: 42.5; Colour: blue." in sheet.text.split("\n\n")
    assert sheet.location_at(sheet.text.index("Gizmo")) == "sheet Prices, row 3"
    doc = _clean(tmp_path / "s.docx")
    assert "Pier: North; Depth: 12 m.\nPier: East; Depth: 9 m." in doc.text
    assert doc.text.startswith("Harbour Survey\n\nThe survey covered")


@pytest.mark.parametrize(
    ("csv", "first"),
    [
        # an unnamed date column: still a header row, the column named by its place
        (",Ship,Yard\n6 March,Aurora,Kiel\n", "Column 1: 6 March; Ship: Aurora; Yard: Kiel."),
        # two unnamed columns: no header row, cells joined as they are
        (",,Yard\n6 March,Aurora,Kiel\n", "Yard."),
        # a number among the names: data, not a header row
        ("Ship,1928,Yard\nAurora,3,Kiel\n", "Ship | 1928 | Yard."),
    ],
)
def test_a_header_row_may_leave_one_column_unnamed(csv: str, first: str) -> None:
    assert load_csv(csv).parts[0][0] == first


@pytest.mark.parametrize(
    ("csv", "second"),
    [
        # quotes escaped by a backslash (a MySQL or pandas export): a comma in a quoted title
        # must not split it, or every later cell of the row lands under the wrong header
        (
            'Draw,Song,Place\n1,"\\"Eu só quero\\"",2nd\n2,"\\"Qualquer dia, quem diria\\"",6th\n',
            'Draw: 2; Song: "Qualquer dia, quem diria"; Place: 6th.',
        ),
        # the standard doubled quotes, beside a backslash that escapes nothing
        (
            'Path,Note\nC:\\"temp","say ""hi"", then go"\nD:\\x,"a, b"\n',
            "Path: D:\\x; Note: a, b.",
        ),
    ],
)
def test_a_csv_is_read_with_the_quoting_that_keeps_its_rows_whole(csv: str, second: str) -> None:
    assert load_csv(csv).parts[1][0] == second


def test_pptx_sections_follow_slides_with_notes(tmp_path: Path) -> None:
    write_pptx(tmp_path / "r.pptx")
    doc = _clean(tmp_path / "r.pptx")
    slide2 = doc.text.index("Launch plan")
    assert doc.location_at(slide2) == "slide 2"
    assert doc.location_at(slide2 - 3) == "slide 1"
    assert "Notes: Mention that the Falcon battery lasts eleven hours." in doc.text


def test_epub_chapters_are_in_spine_order(tmp_path: Path) -> None:
    write_epub(tmp_path / "b.epub", CHAPTERS)
    doc = _clean(tmp_path / "b.epub")
    assert doc.text.index("The Crossing") < doc.text.index("The Storm")
    assert [label for _, label in doc.locations] == [
        "chapter 1: The Crossing",
        "chapter 2: The Storm",
    ]


@pytest.mark.timeout(30)
def test_a_10000_row_csv_loads_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Id", "City", "Population"])
        for i in range(10_000):
            writer.writerow([i, f"Town {i}", 1000 + i])
    tracemalloc.start()
    doc = _clean(path)
    chunks = chunk_text(doc.text, chunk_size=200, chunk_overlap=20)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert doc.location_at(doc.text.index("City: Town 9999;")) == "row 10001"
    assert all(doc.text[c.start : c.end] == c.text for c in chunks)
    # measured 6.2 MB (0.21 MB file, 385 chunks): 30 MB catches a copy per row, not noise
    assert peak < 30e6, f"{peak / 1e6:.0f} MB to read a 10,000-row CSV"


def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path: Path) -> None:
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"\0" * 30_000_000)
    with pytest.raises(SkipFile, match="zip bomb"):
        load(path, path.name, path.read_bytes(), "x", max_bytes=1_000_000)


def _clean(path: Path):
    return clean(load(path, path.name, path.read_bytes(), "x"))
