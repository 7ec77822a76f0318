"""PDF text extractors compared on real-world PDFs: text quality after our cleaning, and speed.

``python -m bench.pdf_extractors [--runs 3] [--extractors pypdf,pypdfium2,pdfminer]``

For each extractor (pypdf, pypdfium2, pdfminer.six) and each PDF of ``../shared/corpora/pdfs/``
(see its README), the pages' text goes through
:func:`rag.preprocess.pdf_cleaning.clean_pages`, as in ingestion, and is checked for:

* ligature glyphs (U+FB00-U+FB06) and words split by a hyphen at a line end ("-\\n") left;
* compounds whose hyphen must stay (the notice's "non-normal", "FAA-approved", ...);
* reading order of the three-column Federal Register notice: sentences that run from one
  column into the next must come out whole, and the columns in order (picked from the
  pages rendered to PNG);
* running headers, footers, page numbers and the transcript's line numbers left;
* table rows that must stay on one line;
* the password-protected file (without its password) and the damaged ones: the specific
  error, or how much text came out.

Speed is pages per second of extraction alone (median of ``--runs`` runs, one thread).
A benchmark, not a test: nothing is asserted; it prints Markdown tables.

``rag/preprocess/pdf_cleaning.py`` is loaded from its file, so this runs in any environment
with the three extractors installed, without the project's own dependencies.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import io
import logging
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PDFS = ROOT.parent / "shared" / "corpora" / "pdfs"
FR = "federal-register-2020-17221.pdf"
SCOTUS = "scotus-transcript-p1.pdf"
ENCRYPTED = "password-example.pdf"
DAMAGED = "malformed-from-issue-932.pdf"

# (page, phrase): text that runs across a column break, so it is whole only in reading order
COLUMN_BREAKS = [
    (1, "by any of the following methods federal erulemaking portal go to"),
    (1, "most helpful comments reference a specific portion of the proposal explain the reason"),
    (2, "activation airspeed disagree alert and altitude disagree alert"),
    (2, "the manufacturer the operator and the ethiopian civil aviation authority ecaa"),
]
# (page, phrases that open columns 1, 2 and 3, in reading order)
COLUMN_ORDER = [
    (
        2,
        [
            "hatta international airport in jakarta",
            "on november 7 2018 the faa issued",
            "to address the unsafe condition the faa proposes",
        ],
    ),
]
COMPOUNDS = ["non-normal", "FAA-approved", "work-hour)", "pilatus-aircraft.com"]
TABLE_ROWS = {
    "WARN-Report-for-7-1-2015-to-03-25-2016.pdf": "hilton san francisco union square san francisco 78",  # noqa: E501
    "nics-background-checks-2015-11.pdf": "alabama 18 870 23 022 22 650",
    "senate-expenditures.pdf": "bain j matthew district director 37 499 96",
}
SCOTUS_SENTENCE = (
    "the above entitled matter came on for oral argument before the supreme court of the "
    "united states at 1 01 p m"
)
_RUNNING = re.compile(
    r"Federal\s+Register\s*/\s*Vol|VerDate|jbell on DSK|^\s*Page \d+ of \d+", re.M
)
_SPLIT = re.compile(r"\w-[ \t]*\n[ \t]*\w")
_LIGATURE = re.compile("[\ufb00-\ufb06]")


def load_pdftext():
    spec = importlib.util.spec_from_file_location(
        "pdftext", ROOT / "rag" / "preprocess" / "pdf_cleaning.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def flat(text: str) -> str:
    """Lower case, every run of non-alphanumerics one space: for phrase matching."""
    return " " + " ".join(re.findall(r"[a-z0-9]+", text.lower())) + " "


def pypdf_pages(data: bytes) -> list[str]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):
        raise PermissionError("encrypted")
    return [page.extract_text() or "" for page in reader.pages]


def pdfium_pages(data: bytes) -> list[str]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        pages = []
        for page in document:
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return pages
    finally:
        document.close()


def pdfminer_pages(data: bytes) -> list[str]:
    from pdfminer.high_level import extract_text

    text = extract_text(io.BytesIO(data))
    pages = text.split("\x0c")
    return pages[:-1] if pages and not pages[-1].strip() else pages


EXTRACTORS: dict[str, tuple[str, Callable[[bytes], list[str]]]] = {
    "pypdf": ("pypdf", pypdf_pages),
    "pypdfium2": ("pypdfium2", pdfium_pages),
    "pdfminer": ("pdfminer.six", pdfminer_pages),
}


def timed(fn: Callable[[bytes], list[str]], data: bytes, runs: int) -> tuple[list[str], float]:
    times, pages = [], []
    for _ in range(runs):
        started = time.perf_counter()
        pages = fn(data)
        times.append(time.perf_counter() - started)
    return pages, statistics.median(times)


def failure(fn: Callable[[bytes], list[str]], data: bytes) -> str:
    try:
        pages = fn(data)
    except Exception as exc:
        return f"error: {type(exc).__name__}: {str(exc)[:60]}"
    chars = sum(len(page.strip()) for page in pages)
    return f"{len(pages)} pages, {chars} chars"


def evaluate(name: str, runs: int, clean_pages: Callable[[list[str]], list[str]]) -> dict:
    package, fn = EXTRACTORS[name]
    readable = sorted(p for p in PDFS.glob("*.pdf") if p.name not in (ENCRYPTED, DAMAGED))
    speed, cleaned = {}, {}
    for path in readable:
        pages, seconds = timed(fn, path.read_bytes(), runs)
        speed[path.name] = (len(pages), seconds)
        cleaned[path.name] = clean_pages(pages)
    everything = "\n\n".join("\n\n".join(pages) for pages in cleaned.values())
    fr = cleaned[FR]
    breaks = sum(phrase in flat(fr[page - 1]) for page, phrase in COLUMN_BREAKS)
    ordered = 0
    for page, phrases in COLUMN_ORDER:
        text = flat(fr[page - 1])
        where = [text.find(phrase) for phrase in phrases]
        ordered += all(w >= 0 for w in where) and where == sorted(where)
    fr_text = "\n".join(fr)
    compounds = sum(compound in fr_text for compound in COMPOUNDS)
    running = len(_RUNNING.findall("\n".join(fr[1:]))) + len(
        _RUNNING.findall("\n".join(cleaned["nics-background-checks-2015-11.pdf"]))
    )
    scotus = cleaned[SCOTUS][0]
    numbers = len(re.findall(r"^\s*\d{1,2}\s*$|^\s*\d{1,2}\s{2,}\S", scotus, re.M))
    rows = sum(phrase in flat("\n".join(cleaned[file])) for file, phrase in TABLE_ROWS.items())
    data = (PDFS / FR).read_bytes()
    pages = sum(n for n, _ in speed.values())
    seconds = sum(s for _, s in speed.values())
    return {
        "name": f"{name} {importlib.metadata.version(package)}",
        "pages/s": pages / seconds,
        "ligatures": len(_LIGATURE.findall(everything)),
        "split words": len(_SPLIT.findall(everything)),
        "column breaks": f"{breaks}/{len(COLUMN_BREAKS)}",
        "column order": f"{ordered}/{len(COLUMN_ORDER)}",
        "compounds kept": f"{compounds}/{len(COMPOUNDS)}",
        "running lines left": running,
        "scotus line numbers left": numbers,
        "scotus sentence": "yes" if SCOTUS_SENTENCE in flat(scotus) else "no",
        "table rows": f"{rows}/{len(TABLE_ROWS)}",
        "encrypted": failure(fn, (PDFS / ENCRYPTED).read_bytes()),
        "damaged": failure(fn, (PDFS / DAMAGED).read_bytes()),
        "truncated": failure(fn, data[: len(data) // 2]),
        "speed": speed,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--extractors", default=",".join(EXTRACTORS))
    args = parser.parse_args(argv)
    for noisy in ("pdfminer", "pypdf"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    clean_pages = load_pdftext().clean_pages
    results = [evaluate(name, args.runs, clean_pages) for name in args.extractors.split(",")]
    keys = [key for key in results[0] if key not in ("name", "speed")]
    print("\n## Text quality after rag.preprocess.pdf_cleaning.clean_pages, and speed\n")
    print("| check | " + " | ".join(r["name"] for r in results) + " |")
    print("| --- |" + " --- |" * len(results))
    for key in keys:
        cells = [f"{r[key]:.1f}" if key == "pages/s" else str(r[key]) for r in results]
        print(f"| {key} | " + " | ".join(cells) + " |")
    print("\n## Pages per second per PDF (median of runs)\n")
    print("| PDF | pages | " + " | ".join(r["name"] for r in results) + " |")
    print("| --- | --- |" + " --- |" * len(results))
    for file in results[0]["speed"]:
        n = results[0]["speed"][file][0]
        cells = [f"{r['speed'][file][0] / r['speed'][file][1]:.1f}" for r in results]
        print(f"| {file} | {n} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
