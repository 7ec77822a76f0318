"""OCR engines compared on real pages: accuracy against the text layer, and seconds per page.

``python -m bench.ocr [--pages N] [--dpi 300] [--engines tesseract,rapidocr]``

Pages of the shared PDFs (``../shared/corpora/pdfs/``) that do have a text layer are rendered
to images with pypdfium2 and OCR'd; the text layer (pypdfium2's) is the reference. Two
accuracy figures, because the engines and the text layer may order a multi-column page
differently:

* **word F1**: bag of words (lower-cased, punctuation stripped), so reading order does not count;
* **word accuracy**: ``1 - word edit distance / reference words`` (1 - WER), which counts order;
* **char accuracy**: the share of the reference's characters (whitespace removed) that difflib
  matches in the OCR text, in order (spacing errors such as "SubjecttoFinal" do not count).

Engines: Tesseract (the ``tesseract`` command from Debian's ``tesseract-ocr``, run on one
thread) and RapidOCR (``rapidocr-onnxruntime``, models inside the wheel, one ONNX thread).
A benchmark, not a test: nothing is asserted. The damaged Chinese page of
``malformed-from-issue-932.pdf`` has no usable text layer; it is OCR'd too and its CJK
character count reported, since that is the case where the two engines differ most.
"""

from __future__ import annotations

import argparse
import difflib
import io
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

PDFS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "pdfs"
# (file, 1-based page): a transcript, a dense 3-column page, two tables, a bulletin
PAGES = [
    ("scotus-transcript-p1.pdf", 1),
    ("federal-register-2020-17221.pdf", 2),
    ("la-precinct-bulletin-2014-p1.pdf", 1),
    ("WARN-Report-for-7-1-2015-to-03-25-2016.pdf", 2),
    ("nics-background-checks-2015-11.pdf", 1),
]
NO_TEXT_LAYER = ("malformed-from-issue-932.pdf", 1)
_WORD = re.compile(r"[a-z0-9]+")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def words(text: str) -> Counter[str]:
    return Counter(_WORD.findall(text.lower()))


def word_f1(reference: str, hypothesis: str) -> float:
    ref, hyp = words(reference), words(hypothesis)
    common = sum((ref & hyp).values())
    if not common:
        return 0.0
    precision, recall = common / sum(hyp.values()), common / sum(ref.values())
    return 2 * precision * recall / (precision + recall)


def edit_distance(a: list[str], b: list[str]) -> int:
    """Levenshtein distance between two word lists, O(len(a) * len(b)) time."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def word_accuracy(reference: str, hypothesis: str) -> float:
    ref = _WORD.findall(reference.lower())
    hyp = _WORD.findall(hypothesis.lower())
    return max(0.0, 1 - edit_distance(ref, hyp) / max(1, len(ref)))


def char_accuracy(reference: str, hypothesis: str) -> float:
    ref = "".join(reference.split())
    hyp = "".join(hypothesis.split())
    matcher = difflib.SequenceMatcher(None, ref, hyp, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / max(1, len(ref))


def render(path: Path, page: int, dpi: int) -> Any:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(path)
    return document[page - 1].render(scale=dpi / 72, grayscale=True).to_pil()


def text_layer(path: Path, page: int) -> str:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(path)
    return document[page - 1].get_textpage().get_text_range().replace("\r\n", "\n")


class Tesseract:
    name = "tesseract"

    def __init__(self) -> None:
        if not shutil.which("tesseract"):
            raise RuntimeError("not found: apt-get install tesseract-ocr tesseract-ocr-eng")
        first = subprocess.run(
            ["tesseract", "--version"], capture_output=True, text=True, check=True
        ).stdout.splitlines()[0]
        self.version = first.split()[-1]

    def __call__(self, image: Any) -> str:
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        done = subprocess.run(
            ["tesseract", "stdin", "stdout", "-l", "eng", "--psm", "3"],
            input=buffer.getvalue(),
            capture_output=True,
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
            check=True,
        )
        return done.stdout.decode()


class Rapid:
    name = "rapidocr"

    def __init__(self) -> None:
        import importlib.metadata

        from rapidocr_onnxruntime import RapidOCR

        self.version = importlib.metadata.version("rapidocr-onnxruntime")
        self.engine = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)

    def __call__(self, image: Any) -> str:
        import numpy as np

        result, _ = self.engine(np.array(image.convert("RGB")))
        return "\n".join(text for _, text, _ in result or [])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=len(PAGES), help="how many of the pages")
    parser.add_argument("--dpi", type=int, default=300)
    parser.add_argument("--engines", default="tesseract,rapidocr")
    args = parser.parse_args(argv)
    pages = PAGES[: args.pages]
    rows = []
    per_page = []
    for name in args.engines.split(","):
        started = time.perf_counter()
        try:
            engine = Tesseract() if name == "tesseract" else Rapid()
        except Exception as exc:
            print(f"{name}: unavailable ({exc})", file=sys.stderr)
            continue
        load = time.perf_counter() - started
        f1s, wacc, chars, seconds = [], [], [], []
        for file, page in pages:
            path = PDFS / file
            image = render(path, page, args.dpi)
            started = time.perf_counter()
            text = engine(image)
            seconds.append(time.perf_counter() - started)
            reference = text_layer(path, page)
            f1s.append(word_f1(reference, text))
            wacc.append(word_accuracy(reference, text))
            chars.append(char_accuracy(reference, text))
            per_page.append(
                (engine.name, f"{file} p{page}", f1s[-1], wacc[-1], chars[-1], seconds[-1])
            )
        file, page = NO_TEXT_LAYER
        cjk = len(_CJK.findall(engine(render(PDFS / file, page, args.dpi))))
        rows.append(
            (
                f"{engine.name} {engine.version}",
                statistics.fmean(f1s),
                statistics.fmean(wacc),
                statistics.fmean(chars),
                statistics.median(seconds),
                load,
                cjk,
            )
        )
    print(f"\nOCR at {args.dpi} dpi on {len(pages)} pages (reference: the text layer)\n")
    print(
        "| engine | word F1 | word accuracy | char accuracy | s/page (median) | load s "
        "| CJK chars on malformed p1 |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for engine_name, f1, acc, char, sec, load, cjk in rows:
        print(
            f"| {engine_name} | {f1:.3f} | {acc:.3f} | {char:.3f} | {sec:.2f} | {load:.2f} "
            f"| {cjk} |"
        )
    print("\n| engine | page | word F1 | word accuracy | char accuracy | s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for engine_name, where, f1, acc, char, sec in per_page:
        print(f"| {engine_name} | {where} | {f1:.3f} | {acc:.3f} | {char:.3f} | {sec:.2f} |")


if __name__ == "__main__":
    main()
