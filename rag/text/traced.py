"""Strings that remember where each of their characters came from.

A PDF's text is cleaned before any offset is taken (ligatures expanded, hyphenated words
rejoined, running headers dropped, see :mod:`rag.preprocess.pdf_cleaning`), yet a citation must
be drawn on the page, where the characters are. A :class:`Traced` string is a ``str`` with a
parallel tuple ``src``: for each character, the index of the extracted character it came from
(``-1`` for text the cleaning inserted, such as the space of a suspended compound). Slicing,
concatenation, ``split``, ``strip``, ``replace`` and ``translate`` keep it; so do :func:`sub` and
:func:`join` here, which the cleaning code calls instead of ``re.sub`` and ``str.join``.

Being a ``str``, a traced line goes through the same cleaning functions as a plain one: code
that only looks at text (regular expressions, ``Counter``, comparisons) needs no change, and
plain strings in give plain strings out, so the cleaning steps keep one code path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, SupportsIndex, TypeVar

S = TypeVar("S", bound=str)
NO_SOURCE = -1


class Traced(str):
    """A string and, per character, the index of the source character it stands for."""

    src: tuple[int, ...]

    def __new__(cls, text: str, src: Sequence[int] | None = None) -> Traced:
        self = super().__new__(cls, text)
        self.src = tuple(range(len(text))) if src is None else tuple(src)
        if len(self.src) != len(self):
            raise ValueError(f"{len(self.src)} sources for {len(self)} characters")
        return self

    @classmethod
    def inserted(cls, text: str, at: int = NO_SOURCE) -> Traced:
        """``text`` standing for the one source character ``at`` (or none)."""
        return cls(text, (at,) * len(text))

    def __getitem__(self, key: SupportsIndex | slice) -> str:  # type: ignore[override]
        if isinstance(key, slice):
            return Traced(str.__getitem__(self, key), self.src[key])
        return str.__getitem__(self, key)

    def __add__(self, other: str) -> Traced:  # type: ignore[override]
        return Traced("".join((self, other)), self.src + _src(other))

    def __radd__(self, other: str) -> Traced:
        return Traced("".join((other, self)), _src(other) + self.src)

    def split(  # type: ignore[override]
        self, sep: str | None = None, maxsplit: SupportsIndex = -1
    ) -> list[str]:
        """With a separator, traced parts; on whitespace, plain ones (for counting words)."""
        if sep is None or int(maxsplit) != -1:
            return str(self).split(sep, maxsplit)
        parts: list[str] = []
        start = 0
        while (at := self.find(sep, start)) >= 0:
            parts.append(self[start:at])
            start = at + len(sep)
        parts.append(self[start:])
        return parts

    def strip(self, chars: str | None = None) -> Traced:  # type: ignore[override]
        return self.lstrip(chars).rstrip(chars)

    def lstrip(self, chars: str | None = None) -> Traced:  # type: ignore[override]
        return self[len(self) - len(str.lstrip(self, chars)) :]  # type: ignore[return-value]

    def rstrip(self, chars: str | None = None) -> Traced:  # type: ignore[override]
        return self[: len(str.rstrip(self, chars))]  # type: ignore[return-value]

    def replace(self, old: str, new: str, count: SupportsIndex = -1) -> Traced:  # type: ignore[override]
        """Each replacement stands for the first character it replaced."""
        if not old:
            raise NotImplementedError("Traced.replace needs a non-empty old string")
        text, src, start, left = str(self), self.src, 0, int(count)
        pieces: list[Traced] = []
        while left != 0 and (at := text.find(old, start)) >= 0:
            pieces += [self[start:at], Traced.inserted(new, src[at])]  # type: ignore[list-item]
            start, left = at + len(old), left - 1
        pieces.append(self[start:])  # type: ignore[arg-type]
        return _concat(pieces)

    def translate(self, table: Mapping[int, Any]) -> Traced:  # type: ignore[override]
        """Each character's replacement (any length) stands for that character."""
        chars: list[str] = []
        src: list[int] = []
        for ch, at in zip(str(self), self.src, strict=True):
            new = table.get(ord(ch), ch)
            new = chr(new) if isinstance(new, int) else (new or "")
            chars.append(new)
            src.extend([at] * len(new))
        return Traced("".join(chars), src)


def sub(pattern: re.Pattern[str], repl: str, text: S) -> S:
    """``pattern.sub(repl, text)`` with a literal ``repl``, keeping a :class:`Traced` traced.

    The replacement of a match stands for the match's first character.
    """
    if not isinstance(text, Traced):
        return pattern.sub(repl.replace("\\", "\\\\"), text)  # type: ignore[return-value]
    pieces: list[Traced] = []
    start = 0
    for match in pattern.finditer(text):
        at = text.src[match.start()] if match.end() > match.start() else NO_SOURCE
        pieces += [text[start : match.start()], Traced.inserted(repl, at)]  # type: ignore[list-item]
        start = match.end()
    pieces.append(text[start:])  # type: ignore[arg-type]
    return _concat(pieces)  # type: ignore[return-value]


def join(sep: str, parts: Iterable[S]) -> S:
    """``sep.join(parts)``, traced when any part is (the separator has no source)."""
    parts = list(parts)
    if not any(isinstance(part, Traced) for part in parts):
        return sep.join(parts)  # type: ignore[return-value]
    pieces: list[str] = []
    for i, part in enumerate(parts):
        if i:
            pieces.append(sep)
        pieces.append(part)
    return _concat(pieces)  # type: ignore[return-value]


def _concat(pieces: Sequence[str]) -> Traced:
    src: list[int] = []
    for piece in pieces:
        src.extend(_src(piece))
    return Traced("".join(pieces), src)


def _src(text: str) -> tuple[int, ...]:
    return text.src if isinstance(text, Traced) else (NO_SOURCE,) * len(text)
