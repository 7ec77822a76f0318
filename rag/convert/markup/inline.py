"""Inline reStructuredText as the text a reader sees, and list enumerators.

docutils leaves unknown roles (``:pep:`8```, ``:func:`~a.b```) and dangling references as raw
text; these functions turn them into what Sphinx would render ("PEP 8", "b"), so no backquote
or role name reaches a quote.
"""

from __future__ import annotations

import re
from typing import Any

_ROLE_PREFIX = re.compile(r"^:(?P<role>[\w.:+-]+):`(?P<body>.*)`$", re.DOTALL)
_ROLE_SUFFIX = re.compile(r"^`(?P<body>.*)`:(?P<role>[\w.:+-]+):$", re.DOTALL)
_EXPLICIT_TITLE = re.compile(r"^(?P<title>.*?)\s*<(?P<target>[^<>]*)>$", re.DOTALL)
_REFERENCE = re.compile(r"^`(?P<body>.+)`__?$|^(?P<word>[\w.+-]+)__?$", re.DOTALL)
_FOOTNOTE_REFERENCE = re.compile(r"^\[(?P<label>[^\]]+)\]_$")
_SUBSTITUTION = re.compile(r"^\|(?P<name>[^|]+)\|_{0,2}$")
_WRAPPED = re.compile(r"^(?P<mark>``|\*\*|\*|`)(?P<body>.+)(?P=mark)$", re.DOTALL)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_ROMAN = ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"),
          (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"))  # fmt: skip


def enumerator(node: Any, index: int) -> str:
    """The marker of item ``index`` of an enumerated list, as the source wrote it."""
    number = int(node.get("start", 1)) + index
    kind = node.get("enumtype", "arabic")
    if kind in ("loweralpha", "upperalpha"):
        label = _alpha(number)
    elif kind in ("lowerroman", "upperroman"):
        label = _roman(number)
    else:
        label = str(number)
    if kind.startswith("upper"):
        label = label.upper()
    return f"{node.get('prefix', '')}{label}{node.get('suffix', '.')}"


def _alpha(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters or "a"


def _roman(number: int) -> str:
    out = ""
    for value, letters in _ROMAN:
        count, number = divmod(number, value)
        out += letters * count
    return out or "i"


def plain_inline(raw: str) -> str:
    """The reader's text of inline markup docutils could not resolve (kept as raw text).

    Sphinx roles (``:ref:``, ``:func:`~a.b```), PEP references with a title, and references
    to targets defined elsewhere all arrive here; what remains is what Sphinx would show.
    """
    if match := _ROLE_PREFIX.match(raw) or _ROLE_SUFFIX.match(raw):
        return role_text(match["role"], match["body"])
    if match := _FOOTNOTE_REFERENCE.match(raw):
        return f"[{match['label']}]"
    if match := _SUBSTITUTION.match(raw):
        return match["name"]
    if match := _REFERENCE.match(raw):
        body = match["body"] or match["word"]
        title = _EXPLICIT_TITLE.match(body)
        return unescape(title["title"] or title["target"] if title else body)
    if match := _WRAPPED.match(raw):
        return unescape(match["body"])
    return raw


def role_text(role: str, body: str) -> str:
    body = unescape(body)
    if titled := _EXPLICIT_TITLE.match(body):
        if titled["title"]:
            return titled["title"]
        body = titled["target"]
    name = role.rsplit(":", 1)[-1].lower()
    if name in ("pep", "rfc") and body[:1].isdigit():
        return f"{name.upper()} {body}"
    body = body.lstrip("!")
    if body.startswith("~"):  # Sphinx shows only the last component of ~a.b.c
        body = body[1:].rsplit(".", 1)[-1]
    return body


def unescape(text: str) -> str:
    return _ESCAPE.sub(r"\1", text)
