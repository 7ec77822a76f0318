"""PDF text: extraction of real-world PDFs, cleaning of layout artefacts, OCR of scanned pages.

The PDFs in ``tests/data/pdfs/`` are copies of ``../shared/corpora/pdfs/`` (see its README).
OCR needs Tesseract (Debian's ``tesseract-ocr`` and ``tesseract-ocr-eng``, installed by the
Makefile); without it the OCR tests fail, naming the packages.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rag.convert import pdf as pdf_module
from rag.convert.pdf import Unreadable, parse_pdf
from rag.preprocess.pdf_cleaning import clean_pages
from tests.pdfs import encrypt_pdf, make_pdf, scanned_pdf

PDFS = Path(__file__).resolve().parents[1] / "data" / "pdfs"
FR = "federal-register-2020-17221.pdf"
READABLE = sorted(
    p.name
    for p in PDFS.glob("*.pdf")
    if p.name not in ("password-example.pdf", "malformed-from-issue-932.pdf")
)
SPLIT_WORD = re.compile(r"\w-[ \t]*\n[ \t]*\w")
LIGATURE = re.compile("[\ufb00-\ufb06]")
INSTALL = "apt-get install tesseract-ocr tesseract-ocr-eng"


def flat(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def cleaned(name: str) -> list[str]:
    parts, _, _ = parse_pdf((PDFS / name).read_bytes())
    return clean_pages([text for text, _ in parts])


# --- clean_pages on hand-written pages -------------------------------------------------


def test_ligatures_become_letters_and_nothing_else_changes():
    text = "the modiﬁcations we made to the ﬂow, eﬀect and oﬃce: 5 m² in ½ h™"
    assert clean_pages([text]) == [
        "the modifications we made to the flow, effect and office: 5 m² in ½ h™"
    ]


def test_words_hyphenated_at_a_line_end_are_rejoined():
    page = "we pre-train BERT using two unsuper-\nvised tasks, and the modi-\nfications."
    assert clean_pages([page]) == [
        "we pre-train BERT using two unsupervised\ntasks, and the modifications."
    ]


def test_compounds_keep_their_hyphen_without_the_line_break():
    pages = ["from Soekarno-\nHatta airport, an FAA-\napproved list; email 9-\nANM-Seattle@faa.gov"]
    assert clean_pages(pages) == [
        "from Soekarno-Hatta\nairport, an FAA-approved\nlist; email 9-ANM-Seattle@faa.gov"
    ]


def test_the_documents_own_spelling_decides_a_lower_case_split():
    page = "a non-normal checklist, and then a non-\nnormal procedure per work-\nhour."
    assert clean_pages([page]) == [
        "a non-normal checklist, and then a non-normal\nprocedure per workhour."
    ]


def test_suspended_hyphen_and_soft_hyphens_and_pdfium_marks():
    assert clean_pages(["pre-\nand post-war"]) == ["pre- and post-war"]
    assert clean_pages(["unsuper\u00ad\nvised, in\u00advisible"]) == ["unsupervised, invisible"]
    assert clean_pages(["Soekarno\ufffeHatta and modi\ufffefied"]) == [
        "Soekarno-Hatta\nand modified"
    ]


def test_a_word_split_across_pages_is_completed_on_the_first_page():
    pages = ["the two unsuper-", "vised tasks are", "from Soekarno-", "1 A footnote first."]
    assert clean_pages(pages) == [
        "the two unsupervised",
        "tasks are",
        "from Soekarno-",
        "1 A footnote first.",
    ]


BODIES = [
    "Sailing ships carried tea from Canton.\nThe clipper era ended with steam.",
    "Harbour dues were paid in silver.\nCustoms houses kept the ledgers.",
    "Whalers left from Nantucket.\nVoyages lasted up to four years.",
    "Lighthouses were lit by oil lamps.\nKeepers trimmed the wicks nightly.",
]


def test_running_headers_footers_and_page_numbers_are_dropped():
    # recto/verso headers (the page number on alternate sides), a footer, a page number
    pages = [
        (f"{10 + n} Journal of Things, Vol. 3" if n % 2 else f"Journal of Things, Vol. 3 {10 + n}")
        + f"\n{body}\nPrinted in 2024 by the Press\n{10 + n}"
        for n, body in enumerate(BODIES, 1)
    ]
    assert clean_pages(pages) == BODIES


@pytest.mark.parametrize("footer", ["Page {n} of 3", "- {n} -", "{n}/3", "page {n}"])
def test_page_number_shapes(footer):
    pages = [f"Some text on page {n}.\n" + footer.format(n=n) for n in (1, 2, 3)]
    assert clean_pages(pages) == [f"Some text on page {n}." for n in (1, 2, 3)]


def test_a_number_that_does_not_follow_the_pages_is_table_data():
    pages = ["Region totals\n47", "Region totals again\n5\n38", "Third page\n13"]
    assert clean_pages(pages) == pages


def test_repetition_on_one_or_two_pages_is_not_a_header():
    pages = ["Chapter One\nText of one.", "Chapter One\nText of two."]
    assert clean_pages(pages) == pages


def test_transcript_line_numbers_are_dropped_in_both_layouts():
    lines = [f"Line {i} of the transcript." if i % 3 else "" for i in range(1, 26)]
    inline = "\n".join(f"{i}   {text}".rstrip() for i, text in enumerate(lines, 1))
    block = "\n".join(str(i) for i in range(1, 26)) + "\n" + "\n".join(t for t in lines if t)
    expected = "\n".join(t for t in lines if t)
    assert clean_pages([inline]) == [expected]
    assert clean_pages([block]) == [expected]


def test_a_few_numbered_footnotes_keep_their_numbers():
    page = "\n".join(["Prose line one.", *[f"{i} Footnote {i}." for i in range(1, 10)], "End."])
    assert clean_pages([page]) == [page]


# --- the shared real-world PDFs -------------------------------------------------------


@pytest.mark.parametrize("name", READABLE)
def test_shared_pdfs_have_no_ligatures_or_split_words(name):
    text = "\n\n".join(cleaned(name))
    assert not LIGATURE.search(text)
    assert not SPLIT_WORD.search(text), SPLIT_WORD.findall(text)[:5]


def test_federal_register_headers_footers_dropped_and_columns_in_order():
    pages = cleaned(FR)
    assert len(pages) == 15
    for page in pages[1:]:
        for running in ("Federal Register / Vol", "VerDate", "jbell on DSK"):
            assert running not in page
    text = "\n".join(pages)
    for compound in ("non-normal", "FAA-approved", "work-hour", "pilatus-aircraft.com"):
        assert compound in text
    page2 = flat(pages[1])
    # sentences that run from one column into the next
    assert "activation airspeed disagree alert and altitude disagree alert" in page2
    assert "the manufacturer the operator and the ethiopian civil aviation authority ecaa" in page2
    columns = [
        page2.find(flat(s))
        for s in ("Hatta International Airport", "On November 7, 2018", "To address the unsafe")
    ]
    assert -1 not in columns and columns == sorted(columns)


def test_transcript_line_numbers_and_page_number_dropped():
    (page,) = cleaned("scotus-transcript-p1.pdf")
    lines = [line.strip() for line in page.split("\n")]
    assert not [line for line in lines if re.fullmatch(r"\d{1,2}|\d{1,2}\s{2,}.*", line)]
    assert (
        "the above entitled matter came on for oral argument before the supreme court of the "
        "united states at 1 01 p m" in flat(page)
    )


def test_page_of_pages_footer_dropped_and_table_rows_kept():
    (page,) = cleaned("nics-background-checks-2015-11.pdf")
    assert "Page 1 of 205" not in page
    assert "Alabama 18,870 23,022 22,650" in page


def test_title_and_metadata_come_from_the_pdf():
    parts, title, metadata = parse_pdf((PDFS / "scotus-transcript-p1.pdf").read_bytes())
    assert [number for _, number in parts] == [1]
    assert title == "10811.exe" and metadata["author"] == "Supreme"
    assert metadata["creationdate"].startswith("D:2009")


def test_encrypted_pdfs_need_their_password_unless_it_is_empty():
    with pytest.raises(Unreadable, match=re.escape("encrypted PDF (needs a password)")):
        parse_pdf((PDFS / "password-example.pdf").read_bytes())
    parts, _, _ = parse_pdf(encrypt_pdf(make_pdf(["Open to all."]), password=""))
    assert parts[0][0].strip() == "Open to all."


def test_damaged_pdfs_give_text_or_a_specific_reason():
    parts, _, _ = parse_pdf((PDFS / "malformed-from-issue-932.pdf").read_bytes())
    assert "2021" in parts[0][0]  # its Chinese fonts map to no characters; the digits do
    data = (PDFS / FR).read_bytes()
    with pytest.raises(Unreadable, match=r"corrupt or unreadable PDF \(damaged structure"):
        parse_pdf(data[: len(data) // 2])


# --- OCR -------------------------------------------------------------------------------


LINES = ["The harbour master logs every ship.", "Cargo from Lisbon arrived on Tuesday."]


@pytest.fixture(scope="module")
def tesseract() -> str:
    found = shutil.which("tesseract")
    if not found:
        pytest.fail(f"OCR engine missing: `{INSTALL}` (the Makefile installs it)")
    return found


def test_a_scanned_page_is_ocrd_and_marked(tesseract):
    parts, _, metadata = parse_pdf(scanned_pdf(LINES))
    text = flat(parts[0][0])
    for line in LINES:
        assert flat(line) in text
    assert metadata["ocr_pages"] == "1"
    assert metadata["ocr"].startswith("tesseract ")


def test_only_pages_without_text_are_ocrd_in_the_child_process(tesseract):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for data in (make_pdf(["A page with a real text layer, long enough."]), scanned_pdf(LINES)):
        writer.append(PdfReader(io.BytesIO(data)))
    out = io.BytesIO()
    writer.write(out)
    done = subprocess.run(
        [sys.executable, "-P", pdf_module.__file__],
        input=out.getvalue(),
        capture_output=True,
        timeout=60,
        check=True,
    )
    result = json.loads(done.stdout)
    assert result["ok"], result
    assert result["metadata"]["ocr_pages"] == "2"
    assert "real text layer" in result["parts"][0][0]
    assert "cargo from lisbon" in flat(result["parts"][1][0])


def test_without_the_ocr_engine_the_reason_names_what_to_install(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}  # no tesseract on this PATH
    done = subprocess.run(
        [sys.executable, "-P", pdf_module.__file__],
        input=scanned_pdf(LINES),
        capture_output=True,
        timeout=60,
        env=env,
        check=True,
    )
    result = json.loads(done.stdout)
    assert not result["ok"]
    assert "install Tesseract (apt-get install tesseract-ocr" in result["reason"]
