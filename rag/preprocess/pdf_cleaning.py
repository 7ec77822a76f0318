"""Clean the text of a PDF's pages before the per-part cleaning in :mod:`rag.preprocess.cleaning`.

A PDF stores glyphs at positions, not prose. Extracted text therefore carries artefacts of the
page layout that a reader never sees as text: ligature glyphs (``ﬁ``), words split by a
hyphen at a line end, the running header and footer printed on every page, page numbers, and
the line numbers of transcripts and pleadings. They break quotes ("the modiﬁcations",
"unsuper-vised") and pollute retrieval with text repeated on every page, so
:func:`clean_pages` removes them. It runs before any offset is taken: every chunk and
citation offset points into the text this returns.

The module is pure (no I/O, nothing from :mod:`rag` but :mod:`rag.text.traced`) and works on
plain strings, so it applies equally to a text layer and to OCR output. Given
:class:`~rag.text.traced.Traced` pages it returns traced pages: every cleaned character still
knows which extracted character it stands for, which is how a citation is drawn on the page.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter

from rag.text.traced import join, sub

# Latin ligatures of the Alphabetic Presentation Forms block (ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ) -> letters.
_LIGATURES = {cp: unicodedata.normalize("NFKC", chr(cp)) for cp in range(0xFB00, 0xFB07)}
_SOFT_HYPHEN = "\u00ad"
_SOFT_BREAK = re.compile(_SOFT_HYPHEN + r"[ \t]*\n[ \t]*")
# pdfium writes U+FFFE where it removed a line break after a hyphen ("Soekarno\ufffeHatta").
_PDFIUM_HYPHEN = "\ufffe"
_HEADER_ZONE = 3  # non-empty lines at the top and at the bottom of a page
_PAGE_NUMBER_ZONE = 2
_PAGE_NUMBER = re.compile(
    r"""^(?:
        page\s+(?P<a>\d{1,4})(?:\s*(?:of|/)\s*\d{1,4})?    # Page 3, Page 3 of 10, page 3/10
      | (?P<b>\d{1,4})\s*(?:of|/)\s*\d{1,4}                # 3 of 10, 3/10
      | [-\u2013\u2014]\s*(?P<c>\d{1,4})\s*[-\u2013\u2014] # - 3 -
      | (?P<bare>\d{1,4})                                  # 3
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
_NUMBERED_LINE = re.compile(r"^\s*(\d{1,3})(?:\s+(\S.*))?$")
_MIN_LINE_NUMBERS = 10
_LINE_NUMBER_SHARE = 0.4
_TRAILING_HYPHEN = re.compile(r"([^\W_]+)-$")
_LEADING_WORD = re.compile(r"^(\w+)(\S*)\s*(.*)$")
_SUSPENDED = {"and", "or", "nor", "to", "und", "oder"}
_WORDS = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def clean_pages(pages: list[str]) -> list[str]:
    """Remove page-layout artefacts from the text of each page of one PDF.

    The steps run in this order, each documented in its own function: characters
    (:func:`normalise_characters`), transcript line numbers (:func:`drop_line_numbers`),
    running headers and footers (:func:`drop_running_lines`), page numbers
    (:func:`drop_page_numbers`), then words hyphenated across line ends and page ends
    (:func:`rejoin_hyphenated`). Line numbers go first because a column of them at the top of a
    page would otherwise look like page numbers; hyphenation goes last because a footer
    between "Soekarno-" and "Hatta" must be gone before the two halves can meet.

    Args:
        pages: The text of each page, in page order (one string per page; may be empty).

    Returns:
        One cleaned string per page, the same length as ``pages``. Lines keep their order;
        trailing spaces are removed.
    """
    lines = [normalise_characters(page).split("\n") for page in pages]
    lines = [[line.rstrip() for line in page] for page in lines]
    lines = [drop_line_numbers(page) for page in lines]
    lines = drop_running_lines(lines)
    lines = drop_page_numbers(lines)
    lines = rejoin_hyphenated(lines)
    return [join("\n", page) for page in lines]


def normalise_characters(text: str) -> str:
    """Ligature glyphs to letters, line ends to newlines, extractor hyphen marks to hyphens.

    Only the seven Latin ligatures (U+FB00-U+FB06) are NFKC-normalised, not the whole text:
    NFKC would also turn "m²" into "m2", "½" into "1⁄2" and "™" into "TM", losing meaning that
    an ordinary text keeps, whereas a ligature is only ever a typesetting choice. A soft hyphen
    (U+00AD) marks where a word may break: invisible inside a line, and at a line end it means
    the word continues on the next line, so it is joined without a hyphen. pdfium's U+FFFE
    stands for "a hyphen, then a line break" and becomes exactly that, so that the hyphenation
    rule (:func:`rejoin_hyphenated`) decides, the same way for every extractor.

    Args:
        text: The raw text of one page.

    Returns:
        The text with those characters replaced.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_LIGATURES)
    text = sub(_SOFT_BREAK, "", text).replace(_SOFT_HYPHEN, "")
    return text.replace(_PDFIUM_HYPHEN, "-\n")


def drop_line_numbers(lines: list[str]) -> list[str]:
    """Remove the line numbers of a transcript or pleading page (1, 2, 3, ... down the margin).

    Court transcripts number every line of a page from 1 (to 25 or 28). Extractors return
    those numbers either at the start of each line ("12  The above-entitled matter") or as
    a block of bare numbers before or after the text. Both are taken out when the page holds a
    run 1, 2, 3, ... of at least ten numbered lines (numbers at a line start, in order, other
    lines allowed in between) that makes up at least 40 % of its non-empty lines. A list of
    nine footnotes, or numbered paragraphs among prose, does not reach that.

    Args:
        lines: The lines of one page.

    Returns:
        The lines with the numbers removed (a line that was only a number is dropped).
    """
    expected, chain = 1, []
    for i, line in enumerate(lines):
        match = _NUMBERED_LINE.match(line)
        if match and int(match[1]) == expected:
            chain.append(i)
            expected += 1
    non_empty = sum(1 for line in lines if line.strip())
    if len(chain) < _MIN_LINE_NUMBERS or len(chain) < _LINE_NUMBER_SHARE * non_empty:
        return lines
    numbered = set(chain)
    kept = []
    for i, line in enumerate(lines):
        if i in numbered:
            match = _NUMBERED_LINE.match(line)
            if match and match[2]:
                kept.append(line[match.start(2) : match.end(2)])
            continue
        kept.append(line)
    return kept


def _zone(page: list[str], size: int) -> list[int]:
    """Indices of the first and last ``size`` non-empty lines of a page."""
    filled = [i for i, line in enumerate(page) if line.strip()]
    return sorted(set(filled[:size] + filled[-size:]))


def drop_running_lines(pages: list[list[str]]) -> list[list[str]]:
    """Remove running headers and footers: lines repeated at the top or bottom of most pages.

    A line among the first or last three non-empty lines of a page is a running line when,
    with its digits removed (page numbers and dates change from page to page) and its case
    and spacing ignored, it is also in that zone on at least half of the pages (and on at
    least two). Removing the digits rather than masking them makes an even page's
    "47699 Federal Register / Vol. 85 ..." match an odd page's "Federal Register / Vol. 85 ...
    47700", where the page number sits on the other side. A line that ends like a sentence
    must repeat with its digits too (see :func:`_running_key`). A line must hold two letters
    to count: a repeated number-only line is a page number (see :func:`drop_page_numbers`)
    or table data.
    Documents of fewer than three pages are left alone: with one or two pages, repetition
    does not tell a header from content.

    Args:
        pages: The lines of each page.

    Returns:
        The pages without their running lines.
    """
    if len(pages) < 3:
        return pages
    counts: Counter[str] = Counter()
    zones = [_zone(page, _HEADER_ZONE) for page in pages]
    for page, zone in zip(pages, zones, strict=True):
        counts.update({_running_key(page[i]) for i in zone})
    needed = max(2, math.ceil(len(pages) / 2))
    running = {
        key
        for key, count in counts.items()
        if count >= needed and sum(ch.isalpha() for ch in key) >= 2
    }
    return [
        [line for i, line in enumerate(page) if not (i in zone and _running_key(line) in running)]
        for page, zone in zip(pages, zones, strict=True)
    ]


def _running_key(line: str) -> str:
    """The key of :func:`drop_running_lines`: lower case, no digits, spaces collapsed.

    A line ending like a sentence keeps its digits: "Some text on page 3." is content that
    happens to repeat, while a header rarely ends in a full stop; a repeated sentence-like
    footer ("Printed by the Press.") still matches itself exactly.
    """
    line = line.lower().strip()
    if not line.endswith((".", "!", "?")):
        line = re.sub(r"\d+", " ", line)
    return re.sub(r"\s+", " ", line).strip()


def drop_page_numbers(pages: list[list[str]]) -> list[list[str]]:
    """Remove page-number lines ("3", "- 3 -", "Page 3", "Page 3 of 10", "3 of 10").

    Only the first and last two non-empty lines of a page are looked at. A line with a
    page-number shape beyond the bare number ("Page 3", "- 3 -", "3 of 10") is one. A bare
    number is ambiguous (a table's first or last cell is often one), so it is taken for a page
    number only when it follows the physical page order: its value minus the page's index is
    the same on at least two pages and on at least 40 % of the pages (a document numbered from
    any start), or it equals the page's position (page 1 says "1").

    Args:
        pages: The lines of each page.

    Returns:
        The pages without their page-number lines.
    """
    explicit: list[set[int]] = []
    bare: list[dict[int, int]] = []  # line index -> value minus page position
    offsets: Counter[int] = Counter()
    for position, page in enumerate(pages, 1):
        sure, maybe = set(), {}
        for i in _zone(page, _PAGE_NUMBER_ZONE):
            match = _PAGE_NUMBER.match(page[i].strip())
            if not match:
                continue
            if match["bare"] is None:
                sure.add(i)
            else:
                maybe[i] = int(match["bare"]) - position
        explicit.append(sure)
        bare.append(maybe)
        offsets.update(set(maybe.values()))
    needed = max(2, math.ceil(0.4 * len(pages)))
    accepted = {offset for offset, count in offsets.items() if count >= needed} | {0}
    return [
        [
            line
            for i, line in enumerate(page)
            if i not in sure and not (i in maybe and maybe[i] in accepted)
        ]
        for page, sure, maybe in zip(pages, explicit, bare, strict=True)
    ]


def rejoin_hyphenated(pages: list[list[str]]) -> list[list[str]]:
    """Rejoin words split by a hyphen at a line end ("unsuper-" / "vised" -> "unsupervised").

    A line ending in a letter or digit and a hyphen, followed by a line starting with a
    word, is a split word. The rule for keeping the hyphen:

    * lower case on both sides ("unsuper-" / "vised"): the hyphen goes, since a typesetter's
      hyphenation is far more common at a line end than a compound's own hyphen, unless the
      document itself writes the hyphenated form elsewhere and never the joined one
      ("non-normal", "work-hour" in a notice that uses them inside lines);
    * anything else ("FAA-" / "approved", "Soekarno-" / "Hatta", "9-" / "ANM"): a capital,
      a digit or an acronym marks a compound or a code, and the hyphen stays;
    * "pre-" / "and post-war": a suspended compound, left as "pre- and" on one line.

    In every case the line break inside the word goes: the completed word ends the upper
    line and the lower line keeps the rest (or disappears if nothing is left). The last line
    of a page joins the first line of the next page the same way, the completed word staying
    on the earlier page; only a lower-case split is joined across pages, since what an
    extractor returns first on a page is often a footnote or a caption rather than the
    continuation ("Soekarno-" at the foot of page 1 of a Federal Register notice, page 2
    starting with its footnotes). Hyphens in the middle of a line are never touched.

    Args:
        pages: The lines of each page.

    Returns:
        The pages with split words rejoined.
    """
    vocabulary: Counter[str] = Counter()
    for page in pages:
        for line in page:
            vocabulary.update(word.lower() for word in _WORDS.findall(line))
    pages = [list(page) for page in pages]
    for p, page in enumerate(pages):
        i = 0
        while i < len(page):
            if _TRAILING_HYPHEN.search(page[i]):
                target = _next_line(pages, p, i)
                if target is not None:
                    q, j = target
                    page[i], rest = _join(page[i], pages[q][j], vocabulary, same_page=q == p)
                    if rest:
                        pages[q][j] = rest
                    elif rest is not None:
                        del pages[q][j]
                    if rest is not None:
                        continue  # the completed line may end in a hyphen again
            i += 1
    return pages


def _next_line(pages: list[list[str]], p: int, i: int) -> tuple[int, int] | None:
    """Where line ``i`` of page ``p`` continues: the next line, or the next page's first line.

    The next page is looked at only when ``i`` is the last line of its page.
    """
    page = pages[p]
    if any(line.strip() for line in page[i + 1 :]):
        return (p, i + 1) if page[i + 1].strip() else None
    for q in range(p + 1, len(pages)):
        for j, line in enumerate(pages[q]):
            if line.strip():
                return q, j
        # an empty page in between: keep looking
    return None


def _join(
    upper: str, lower: str, vocabulary: Counter[str], *, same_page: bool
) -> tuple[str, str | None]:
    """``(new upper line, rest of the lower line)``; rest None when nothing was joined."""
    lower = lower.strip()
    match = _LEADING_WORD.match(lower)
    head = _TRAILING_HYPHEN.search(upper)
    if not match or not head:
        return upper, None
    # Slices rather than f-strings, so that a traced line keeps its sources.
    word, completion, rest = match[1], lower[: match.end(2)], lower[match.start(3) :]
    left = head[1]
    lower_case = left[-1:].islower() and word[:1].islower()
    if not same_page and not lower_case:
        return upper, None
    if word.lower() in _SUSPENDED:
        return upper + " " + lower, ""
    stem, hyphen = upper[: head.end(1)], upper[head.end(1) : head.end()]
    if lower_case:
        joined, hyphenated = (left + word).lower(), f"{left}-{word}".lower()
        if vocabulary[hyphenated] and not vocabulary[joined]:
            return stem + hyphen + completion, rest
        return stem + completion, rest
    return stem + hyphen + completion, rest
