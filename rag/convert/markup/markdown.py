"""Markdown to plain text, with markdown-it-py (see :mod:`rag.convert.markup` for the layout)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rag.convert.markup.text import child_blocks, indent_item, join_blocks, table_lines
from rag.text.whitespace import one_line

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?P<body>.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_FRONT_MATTER_FIELD = re.compile(r"^(?P<key>[A-Za-z_][\w -]{0,40}?)[ \t]*:[ \t]*(?P<value>.*)$")


# HTML in Markdown: tags whose text starts a line of its own, and tags with no reader text.
_HTML_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "dd", "details", "div", "dl", "dt",
        "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
        "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "thead",
        "tfoot", "tr", "ul",
    }
)  # fmt: skip
_HTML_HIDDEN_TAGS = ("script", "style", "template", "noscript")


@lru_cache(maxsize=1)
def _markdown_parser() -> Any:
    """CommonMark plus GitHub's pipe tables and strikethrough, built once."""
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    parser.options["maxNesting"] = 100  # 20 in the preset: deeper content is dropped silently
    return parser


def markdown_document(text: str) -> tuple[str, dict[str, str]]:
    from markdown_it.tree import SyntaxTreeNode

    metadata, body = _front_matter(text)
    walker = _MarkdownWalker()
    blocks = walker.blocks(SyntaxTreeNode(_markdown_parser().parse(body)))
    if walker.first_h1:
        metadata.setdefault("title", walker.first_h1)
    return join_blocks(blocks), metadata


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    """Simple ``key: value`` fields of a leading ``---`` block, and the text after it.

    Nested YAML (lists, mappings) is skipped rather than guessed at: only scalar fields are
    useful as document metadata here.
    """
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    metadata: dict[str, str] = {}
    for line in match["body"].split("\n"):
        field_match = _FRONT_MATTER_FIELD.match(line)
        if field_match and not line[:1].isspace():
            value = field_match["value"].strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            if value and value not in ("|", ">", "|-", ">-"):
                metadata.setdefault(field_match["key"].strip().lower(), value)
    return metadata, text[match.end() :]


@dataclass
class _MarkdownWalker:
    """Renders a markdown-it syntax tree as plain-text blocks."""

    first_h1: str = ""

    def blocks(self, node: Any) -> list[str]:
        """The blocks of ``node``'s children, in order."""
        return child_blocks(self.block, node)

    def block(self, node: Any) -> list[str]:
        kind = node.type
        if kind == "heading":
            text = self.inline(node)
            if node.tag == "h1" and not self.first_h1:
                self.first_h1 = text
            return [text]
        if kind == "paragraph":
            return [self.inline(node)]
        if kind in ("fence", "code_block"):
            return [node.content.strip("\n")]
        if kind == "html_block":
            return _html_text(node.content)
        if kind in ("bullet_list", "ordered_list"):
            return [self._list(node)]
        if kind == "table":
            return self._table(node)
        if kind == "hr":
            return []
        return self.blocks(node)

    def inline(self, node: Any) -> str:
        """The text of a block's inline content, joined into one line (hard breaks kept)."""
        lines = self._inline_text(node).split("\n")
        return "\n".join(one_line(line) for line in lines if line.strip())

    def _inline_text(self, node: Any) -> str:
        kind = node.type
        if kind in ("text", "code_inline"):
            return node.content
        if kind == "softbreak":
            return " "
        if kind == "hardbreak":
            return "\n"
        if kind == "html_inline":
            return " " if re.match(r"<br\b", node.content, re.IGNORECASE) else ""
        return "".join(self._inline_text(child) for child in node.children)

    def _list(self, node: Any) -> str:
        lines: list[str] = []
        for item in node.children:
            marker = f"{item.info}{item.markup}" if node.type == "ordered_list" else "-"
            item_lines = [line for block in self.blocks(item) for line in block.split("\n")]
            lines.extend(indent_item(marker, item_lines))
        return "\n".join(lines)

    def _table(self, node: Any) -> list[str]:
        header: list[list[str]] = []
        body: list[list[str]] = []
        for section in node.children:
            rows = [[self.inline(cell) for cell in row.children] for row in section.children]
            (header if section.type == "thead" else body).extend(rows)
        lines = table_lines(header, body)
        return ["\n".join(lines)] if lines else []


def _html_text(html: str) -> list[str]:
    """The text of an HTML block: tags and comments gone, block elements on their own lines."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for hidden in soup.find_all(_HTML_HIDDEN_TAGS):
        hidden.decompose()
    for row in soup.find_all("tr"):
        cells = [cell.get_text(" ", strip=True) for cell in row.find_all(["td", "th"])]
        row.replace_with(soup.new_string("\n" + " | ".join(c for c in cells if c) + "\n"))
    for tag in soup.find_all(True):
        if tag.name == "br":
            tag.replace_with(soup.new_string("\n"))
        elif tag.name in _HTML_BLOCK_TAGS:
            tag.insert_before(soup.new_string("\n"))
            tag.insert_after(soup.new_string("\n"))
    lines = [one_line(line) for line in soup.get_text().split("\n")]
    text = "\n".join(line for line in lines if line)
    return [text] if text else []
