"""The main text of an HTML page (or an e-book chapter's XHTML), without the page around it.

Scripts, styles, navigation, headers and footers, forms, hidden elements and comments are
dropped, and block elements become paragraph breaks, so what is indexed is what a reader of the
page reads. Web pages (:mod:`rag.convert.loaders`) and EPUB chapters (:mod:`rag.convert.office`)
share this one extraction, so both are cleaned alike. (Not named ``html``: that is a
standard-library module.)
"""

from __future__ import annotations


def main_text(html: str) -> tuple[str, str, dict[str, str], str]:
    """``(main text, title, metadata, first heading)`` of an HTML page, parsed once."""
    from bs4 import BeautifulSoup, Comment

    soup = BeautifulSoup(html, "lxml")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    metadata: dict[str, str] = {}
    for meta in soup.find_all("meta"):
        name = (meta.get("name") or meta.get("property") or "").lower()
        content = meta.get("content")
        if content and name in {
            "author",
            "description",
            "date",
            "last-modified",
            "article:modified_time",
            "article:published_time",
        }:
            metadata[name.replace("article:", "")] = str(content)
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in soup.find_all(
        [
            "script",
            "style",
            "noscript",
            "template",
            "iframe",
            "object",
            "embed",
            "svg",
            "canvas",
            "nav",
            "header",
            "footer",
            "aside",
            "form",
            "button",
            "select",
            "input",
            "textarea",
            "head",
            "img",
            "video",
            "audio",
        ]
    ):
        tag.decompose()
    for tag in soup.find_all(True):
        if tag.decomposed:
            continue
        style = (tag.get("style") or "").replace(" ", "").lower()
        if (
            tag.has_attr("hidden")
            or str(tag.get("aria-hidden", "")).lower() == "true"
            or "display:none" in style
            or "visibility:hidden" in style
        ):
            tag.decompose()
    root = soup.find("main") or soup.find("article") or soup.body or soup
    h1 = root.find("h1")
    if not title and h1:
        title = h1.get_text(" ", strip=True)
    first = root.find(["h1", "h2", "h3"])
    heading = first.get_text(" ", strip=True) if first else ""
    for tag in root.find_all(_HTML_BLOCKS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    for br in root.find_all("br"):
        br.replace_with("\n")
    lines = (" ".join(line.split()) for line in root.get_text().split("\n"))
    text = "\n".join(lines)
    return text, title, metadata, heading


_HTML_BLOCKS = [
    "p",
    "div",
    "section",
    "article",
    "main",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "tr",
    "table",
    "pre",
    "blockquote",
    "figcaption",
    "figure",
    "hr",
    "address",
]


def chapter_text(xhtml: str) -> tuple[str, str]:
    """An e-book chapter's main text and its heading.

    The first ``<h1>``-``<h3>`` names a chapter better than ``<title>``, which e-books often
    fill with the book's title on every page.
    """
    text, title, _, heading = main_text(xhtml)
    return text, heading or title
