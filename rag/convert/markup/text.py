"""Layout helpers shared by the reStructuredText and Markdown converters.

They fix the output contract of :mod:`rag.convert.markup`: one line per paragraph, blocks separated
by one blank line, lines right-stripped, table rows as self-describing lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from rag.text.whitespace import one_line


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def tidy(text: str) -> str:
    """Right-strip every line and drop blank lines at both ends: the output contract."""
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def join_blocks(blocks: Iterable[str]) -> str:
    return tidy("\n\n".join(block.strip("\n") for block in blocks if block.strip()))


def flatten(blocks: Iterable[str]) -> str:
    """Blocks (a table cell, a field body) as one line."""
    return one_line(" ".join(blocks))


def indent_item(marker: str, lines: Sequence[str]) -> list[str]:
    """A list item: the marker on its first line, the rest indented under its text."""
    pad = " " * (len(marker) + 1)
    out = [f"{marker} {lines[0]}" if lines else marker]
    out.extend(pad + line if line.strip() else "" for line in lines[1:])
    return out


def table_lines(header: Sequence[Sequence[str]], body: Sequence[Sequence[str]]) -> list[str]:
    """One line per row: ``Column: value; ...`` under a header row, else ``value | value``.

    A header makes each row self-describing, which is what a retrieved or quoted row needs:
    "Version: 3.12; Release date: 2023-10-02" is a sentence, "3.12 | 2023-10-02" is not.
    """
    width = max((len(row) for row in (*header, *body)), default=0)
    names = [one_line(" ".join(row[i] for row in header if i < len(row))) for i in range(width)]
    if not any(names):
        return [" | ".join(row) for row in (*header, *body) if any(row)]
    if not body:
        return [" | ".join(names)]
    return [line for row in body if (line := row_line(names, row))]


def row_line(names: Sequence[str], cells: Sequence[str]) -> str:
    """One table row as ``Name: value; Name: value``, empty cells left out.

    Shared by every table the system reads (reStructuredText, Markdown, spreadsheets, Word
    and slide tables), so a row reads the same whatever file it came from. Without any column
    name the cells are joined with ``" | "``.
    """
    pairs = []
    for i, cell in enumerate(cells):
        value = one_line(cell)
        if value:
            name = one_line(names[i]) if i < len(names) else ""
            pairs.append(f"{name}: {value}" if name else value)
    return "; ".join(pairs) if any(names) else " | ".join(pairs)


def child_blocks(block: Callable[[Any], list[str]], node: Any) -> list[str]:
    """The blocks of ``node``'s children, in order, rendered by ``block``."""
    return [piece for child in node.children for piece in block(child)]
