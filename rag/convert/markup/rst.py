"""reStructuredText to plain text, with docutils (see :mod:`rag.convert.markup` for the layout).

The module stays over 400 lines on purpose: most of it is one docutils tree walker
(:class:`_RstWalker`), a method per node kind that share the walker's state and its helpers,
and cutting one visitor across modules would leave each half unreadable without the other.
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rag.convert.markup.inline import enumerator, plain_inline
from rag.convert.markup.text import (
    child_blocks,
    flatten,
    indent_item,
    join_blocks,
    table_lines,
)
from rag.text.whitespace import one_line

# A PEP-style RFC 822 header at the very top: "PEP: 8", "Title: ...", indented continuations.
_HEADER_LINE = re.compile(r"^(?P<key>[A-Za-z][A-Za-z0-9-]{0,40}):(?:[ \t]+(?P<value>.*))?$")
_RULE = re.compile(r"""^[=\-~^"'`#*+_.]{3,}$""")  # a line of punctuation alone: a rule
_MIN_HEADER_FIELDS = 2
_MAX_LINE = 10_000  # docutils drops a document with a longer line; its parse is quadratic in it
_MAX_FRAGMENT_DEPTH = 8  # unknown directives nested in unknown directives, parsed again

# Inline reStructuredText left as raw text by docutils (unknown roles, dangling references).
_UNKNOWN_DIRECTIVE = re.compile(r'^Unknown directive type "(?P<name>[^"]+)"')
_DIRECTIVE_START = re.compile(r"^\.\.[ \t]+(?P<name>[^\s:]+(?::[^\s:]+)*)[ \t]*::(?P<head>.*)$")
_OPTION_LINE = re.compile(r"^:[\w-]+:(?:\s|$)")

# Sphinx directives docutils does not know. Their content is always kept; their arguments
# only where they are text a reader sees (a signature, a version, a grammar).
_DROPPED_DIRECTIVES = frozenset({"toctree", "index", "autosummary", "tabularcolumns"})
_SIGNATURE_DIRECTIVES = frozenset(
    {"function", "method", "attribute", "data", "exception", "describe", "object", "envvar"}
)
_VERSION_DIRECTIVES = {
    "versionadded": "New in version",
    "versionchanged": "Changed in version",
    "deprecated": "Deprecated since version",
    "versionremoved": "Removed in version",
}


def rst_document(text: str) -> tuple[str, dict[str, str]]:
    header, body = _split_pep_header(_wrap_long_lines(text))
    metadata = {key.lower(): value for key, value in header}
    walker = _RstWalker(metadata)
    blocks = [f"{key}: {value}" for key, value in header]
    if header:
        blocks = ["\n".join(blocks)]
    blocks.extend(walker.document(body))
    if walker.first_title:
        metadata.setdefault("title", walker.first_title)
    return join_blocks(blocks), metadata


def _wrap_long_lines(text: str) -> str:
    """Break lines longer than docutils accepts at spaces, keeping their indentation.

    docutils refuses a document with a line past its limit (the whole text would be lost);
    a paragraph's wrapping is joined again anyway, so breaking a long line costs nothing.
    """
    if all(len(line) <= _MAX_LINE for line in text.split("\n")):
        return text
    out: list[str] = []
    for line in text.split("\n"):
        indent = line[: len(line) - len(line.lstrip())]
        rest = line[len(indent) :]
        width = max(_MAX_LINE - len(indent), _MAX_LINE // 2)
        while len(rest) > width:
            cut = rest.rfind(" ", 0, width)
            cut = cut if cut > 0 else width
            out.append(indent + rest[:cut].rstrip())
            rest = rest[cut:].lstrip()
        out.append(indent + rest)
    return "\n".join(out)


def _split_pep_header(text: str) -> tuple[list[tuple[str, str]], str]:
    """A leading RFC 822 header (``Key: value`` lines, indented continuations) and the rest.

    docutils would read a PEP's header as a paragraph or a definition list; as ``Key: value``
    lines at the top, :mod:`rag.preprocess.cleaning` lifts it into metadata like any other header.
    """
    lines = text.split("\n")
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    fields: list[list[str]] = []
    end = start
    while end < len(lines) and lines[end].strip():
        line = lines[end]
        match = _HEADER_LINE.match(line)
        if match and not line[:1].isspace():
            fields.append([match["key"], (match["value"] or "").strip()])
        elif fields and line[:1].isspace():
            fields[-1][1] = f"{fields[-1][1]} {line.strip()}".strip()
        else:
            return [], text
        end += 1
    if len(fields) < _MIN_HEADER_FIELDS:
        return [], text
    return [(key, value) for key, value in fields], "\n".join(lines[end:])


class _Discard(io.TextIOBase):
    """A stream that swallows docutils' warnings (it must never print)."""

    def write(self, text: str) -> int:
        return len(text)


@lru_cache(maxsize=1)
def _rst_settings() -> Any:
    """Settings for untrusted input, built once (building them costs milliseconds a file).

    Each parse gets a shallow copy, so a document cannot change the next one's settings.
    """
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser

    settings = get_default_settings(Parser)
    overrides = {
        "report_level": 5,  # never report ...
        "halt_level": 5,  # ... never stop ...
        "warning_stream": _Discard(),  # ... and never print
        "traceback": True,  # raise errors to us instead of printing them
        "file_insertion_enabled": False,  # no include::, no :file: / :url: options
        "raw_enabled": False,
        "_disable_config": True,  # no docutils.conf from the working or home directory
        "input_encoding": "unicode",
        "syntax_highlight": "none",  # code stays text nodes; no Pygments pass
        "smart_quotes": False,  # quotes must match the source
        "doctitle_xform": True,  # a lone top-level title, then :Field: docinfo
        "sectsubtitle_xform": False,
        "docinfo_xform": True,
        "pep_references": False,
        "rfc_references": False,
        "character_level_inline_markup": False,
        "line_length_limit": _MAX_LINE + 1,
    }
    for key, value in overrides.items():
        setattr(settings, key, value)
    return settings


def _parse_rst(text: str, *, fragment: bool = False) -> Any:
    """The doctree of ``text``; a ``fragment`` (directive content) gets no title or docinfo."""
    import copy

    from docutils.core import publish_doctree

    settings = copy.copy(_rst_settings())
    if fragment:
        settings.doctitle_xform = settings.docinfo_xform = False
    return publish_doctree(text, settings=settings)


@dataclass
class _RstWalker:
    """Renders a docutils doctree as plain-text blocks, collecting metadata on the way."""

    metadata: dict[str, str]
    depth: int = 0
    first_title: str = ""
    seen_body: bool = False
    _handlers: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._handlers = {
            "title": self._title,
            "subtitle": self._title,
            "rubric": self._title,
            "paragraph": self._paragraph,
            "literal_block": self._verbatim,
            "doctest_block": self._verbatim,
            "math_block": self._verbatim,
            "line_block": self._line_block,
            "bullet_list": self._bullet_list,
            "enumerated_list": self._enumerated_list,
            "definition_list": self._definition_list,
            "field_list": self._field_list,
            "option_list": self._option_list,
            "docinfo": self._docinfo,
            "table": self._table,
            "footnote": self._footnote,
            "citation": self._footnote,
            "attribution": self._attribution,
            "image": self._image,
            "system_message": self._system_message,
            "topic": self._topic,
        }

    def document(self, text: str) -> list[str]:
        """Parse ``text`` and return its blocks."""
        if not text.strip():
            return []
        return self.blocks(_parse_rst(text, fragment=self.depth > 0))

    def blocks(self, node: Any) -> list[str]:
        """The blocks of ``node``'s children, in order."""
        return child_blocks(self.block, node)

    def block(self, node: Any) -> list[str]:
        """Dispatch on the node's class; containers (sections, admonitions) recurse."""
        from docutils import nodes

        name = node.__class__.__name__
        if handler := self._handlers.get(name):
            return handler(node)
        if isinstance(node, nodes.Invisible | nodes.decoration | nodes.raw | nodes.comment):
            return []  # targets, substitution definitions, pending, headers/footers, meta
        if isinstance(node, nodes.transition):
            return []
        if isinstance(node, nodes.Text):  # stray text between blocks is still text
            return [one_line(node.astext())] if node.astext().strip() else []
        if isinstance(node, nodes.TextElement):
            return self._paragraph(node)
        return self.blocks(node)

    def inline(self, node: Any) -> str:
        """The text of an inline node: markup stripped, unresolved markup made readable."""
        from docutils import nodes

        if isinstance(node, nodes.Text):
            return node.astext()
        if isinstance(node, nodes.footnote_reference | nodes.citation_reference):
            return f"[{node.astext()}]"
        if isinstance(node, nodes.problematic):
            return plain_inline(node.astext())
        if isinstance(node, nodes.image):
            return node.get("alt", "")
        if isinstance(node, nodes.raw | nodes.system_message | nodes.comment):
            return ""
        return "".join(self.inline(child) for child in node.children)

    def _text(self, node: Any) -> str:
        return one_line(self.inline(node))

    def _title(self, node: Any) -> list[str]:
        text = self._text(node)
        parent = node.parent.__class__.__name__ if node.parent is not None else ""
        if not self.first_title and parent in ("document", "section"):
            self.first_title = text
        return [text]

    def _paragraph(self, node: Any) -> list[str]:
        self.seen_body = True
        text = self._text(node)
        return [] if _RULE.match(text) else [text]  # a "---" separator is not text

    def _verbatim(self, node: Any) -> list[str]:
        self.seen_body = True
        return [node.astext().strip("\n")]

    def _line_block(self, node: Any, indent: str = "") -> list[str]:
        lines: list[str] = []
        for child in node.children:
            if child.__class__.__name__ == "line_block":
                lines.extend(self._line_block(child, indent + "  "))
            else:
                lines.append(indent + self._text(child))
        return ["\n".join(lines)]

    def _item_lines(self, item: Any) -> list[str]:
        return [line for block in self.blocks(item) for line in block.split("\n")]

    def _bullet_list(self, node: Any) -> list[str]:
        self.seen_body = True
        lines: list[str] = []
        for item in node.children:
            lines.extend(indent_item("-", self._item_lines(item)))
        return ["\n".join(lines)]

    def _enumerated_list(self, node: Any) -> list[str]:
        self.seen_body = True
        lines: list[str] = []
        for index, item in enumerate(node.children):
            lines.extend(indent_item(enumerator(node, index), self._item_lines(item)))
        return ["\n".join(lines)]

    def _definition_list(self, node: Any) -> list[str]:
        """``term: definition`` (one paragraph per item), so the definition names its term."""
        self.seen_body = True
        out: list[str] = []
        for item in node.children:
            terms, definition = [], []
            for child in item.children:
                kind = child.__class__.__name__
                if kind == "term":
                    terms.append(self._text(child))
                elif kind == "classifier":
                    terms.append(f"({self._text(child)})")
                elif kind == "definition":
                    definition = self.blocks(child)
            term = " ".join(terms)
            lead = term if term.endswith((":", "?", "!", ".")) else f"{term}:"
            if definition and "\n" not in definition[0]:
                out.append(f"{lead} {definition[0]}")
                out.extend(definition[1:])
            else:
                out.append(lead)
                out.extend(definition)
        return out

    def _field_list(self, node: Any) -> list[str]:
        lines = []
        for item in node.children:
            name = self._text(item.children[0]) if item.children else ""
            value = flatten(self.blocks(item.children[1])) if len(item.children) > 1 else ""
            lines.append(f"{name}: {value}".rstrip())
            if not self.seen_body and name:
                self.metadata.setdefault(name.lower(), value)
        self.seen_body = True
        return ["\n".join(lines)]

    def _option_list(self, node: Any) -> list[str]:
        self.seen_body = True
        lines = []
        for item in node.children:
            options = [
                ", ".join(self._text(option) for option in group.children)
                for group in item.children
                if group.tagname == "option_group"
            ]
            described = [
                flatten(self.blocks(child))
                for child in item.children
                if child.tagname == "description"
            ]
            lines.append(": ".join(part for part in (*options, *described) if part))
        return ["\n".join(lines)]

    def _docinfo(self, node: Any) -> list[str]:
        """Bibliographic fields (``:Author:``, ``:Date:`` ...) as ``Key: value`` lines."""
        lines = []
        for child in node.children:
            name, value = self._docinfo_field(child)
            lines.append(f"{name}: {value}".rstrip())
            self.metadata.setdefault(name.lower(), value)
        return ["\n".join(lines)] if lines else []

    def _docinfo_field(self, node: Any) -> tuple[str, str]:
        if node.tagname == "field" and len(node.children) >= 2:
            return self._text(node.children[0]), flatten(self.blocks(node.children[1]))
        if node.tagname == "authors":
            return "Authors", ", ".join(self._text(author) for author in node.children)
        return node.tagname.capitalize(), self._text(node)

    def _table(self, node: Any) -> list[str]:
        self.seen_body = True
        lines: list[str] = []
        for child in node.children:
            if child.tagname == "title":
                lines.append(self._text(child))
            elif child.tagname == "tgroup":
                header = _rst_grid(self, _rows(child, "thead"))
                body = _rst_grid(self, _rows(child, "tbody"))
                lines.extend(table_lines(header, body))
        return ["\n".join(lines)] if lines else []

    def _footnote(self, node: Any) -> list[str]:
        """``[label] text``: footnotes are kept, their references in the text read ``[label]``."""
        self.seen_body = True
        label = ""
        rest = []
        for child in node.children:
            if child.tagname == "label":
                label = f"[{self._text(child)}]"
            else:
                rest.extend(self.block(child))
        if rest and "\n" not in rest[0]:
            return [f"{label} {rest[0]}".strip(), *rest[1:]]
        return [label, *rest] if label else rest

    def _attribution(self, node: Any) -> list[str]:
        return [f"\u2014 {self._text(node)}"]  # a dash: not read as a heading, as rendered

    def _image(self, node: Any) -> list[str]:
        alt = one_line(node.get("alt", ""))
        return [alt] if alt else []

    def _topic(self, node: Any) -> list[str]:
        if "contents" in node.get("classes", []):
            return []  # a generated table of contents repeats the headings
        return self.blocks(node)

    def _system_message(self, node: Any) -> list[str]:
        """Drop docutils' messages, but keep the text of directives it does not know."""
        if not node.children:
            return []
        match = _UNKNOWN_DIRECTIVE.match(node.children[0].astext())
        literal = [c for c in node.children if c.tagname == "literal_block"]
        if not match or not literal:
            return []
        return self._unknown_directive(match["name"], literal[0].astext())

    def _unknown_directive(self, name: str, source: str) -> list[str]:
        """A Sphinx (or PEP) directive: its content parsed as rst, arguments where readable."""
        short = name.rsplit(":", 1)[-1].lower()
        if short in _DROPPED_DIRECTIVES:
            return []
        arguments, content = _split_directive(source)
        if self.depth >= _MAX_FRAGMENT_DEPTH:  # too deep to parse again: keep the words
            return [one_line(content)] if content.strip() else []
        nested = _RstWalker(self.metadata, depth=self.depth + 1, seen_body=True)
        blocks = nested.document(content) if content.strip() else []
        if short == "productionlist":
            grammar = [ln for ln in arguments if ":" in ln] or arguments
            return ["\n".join(grammar), *blocks] if grammar else blocks
        argument = one_line(" ".join(arguments))
        if short in _VERSION_DIRECTIVES:
            return _version_blocks(_VERSION_DIRECTIVES[short], argument, blocks)
        if argument and (":" in name or short in _SIGNATURE_DIRECTIVES):
            return [plain_inline(argument), *blocks]
        return blocks


def _version_blocks(label: str, argument: str, blocks: list[str]) -> list[str]:
    """``Deprecated since version 3.4: ...``, as Sphinx renders it."""
    version, _, note = argument.partition(" ")
    lead = f"{label} {version}".rstrip()
    if note:
        return [f"{lead}: {note}", *blocks]
    if blocks and "\n" not in blocks[0]:
        return [f"{lead}: {blocks[0]}", *blocks[1:]]
    return [f"{lead}.", *blocks]


def _rows(tgroup: Any, section: str) -> list[Any]:
    return [row for part in tgroup.children if part.tagname == section for row in part.children]


def _split_directive(source: str) -> tuple[list[str], str]:
    """A directive's argument lines (options dropped) and its dedented content."""
    lines = source.split("\n")
    match = _DIRECTIVE_START.match(lines[0]) if lines else None
    head = match["head"].strip() if match else ""
    rest = textwrap.dedent("\n".join(lines[1:])).split("\n")
    arguments = [head] if head else []
    index = 0
    # The first block (up to a blank line): argument continuation lines, then options.
    in_options = False
    while index < len(rest) and rest[index].strip():
        line = rest[index]
        if _OPTION_LINE.match(line):
            in_options = True
        elif not in_options and head:
            arguments.append(line.strip())
        elif not in_options:
            break  # no arguments and no options: the content starts right away
        index += 1
    return arguments, "\n".join(rest[index:])


def _rst_grid(walker: _RstWalker, rows: Sequence[Any]) -> list[list[str]]:
    """Table rows as lists of cell texts, with row-spanning cells repeated below."""
    grid: list[list[str]] = []
    carried: dict[int, tuple[str, int]] = {}  # column -> (text, rows still spanned)
    for row in rows:
        cells: list[str] = []
        column = 0
        entries = list(row.children)
        while entries or any(col >= column for col in carried):
            if column in carried:
                text, left = carried[column]
                cells.append(text)
                carried[column] = (text, left - 1)
                if left <= 1:
                    del carried[column]
                column += 1
                continue
            if not entries:
                column += 1
                continue
            entry = entries.pop(0)
            text = flatten(walker.blocks(entry))
            span_cols, span_rows = int(entry.get("morecols", 0)), int(entry.get("morerows", 0))
            cells.extend([text] + [""] * span_cols)
            if span_rows:
                for col in range(column, column + span_cols + 1):
                    carried[col] = (text, span_rows)
            column += span_cols + 1
        grid.append(cells)
    return grid
