"""An answer span never shows half a bracket or a quote (rag.read.windows.balanced)."""

import pytest

from rag.read import balanced


@pytest.mark.parametrize(
    ("text", "span", "shown"),
    [
        # the other half lies just past the span: taken in
        ("Fax: (816) 329-4090.", "816) 329-4090", "(816) 329-4090"),
        ("about two-thirds (68%) of voters", "two-thirds (68%", "two-thirds (68%)"),
        (
            'the song "Ocean Breathes Salty"; B-side',
            'Ocean Breathes Salty"',
            '"Ocean Breathes Salty"',
        ),
        ("it is called \u201cthe Line\u201d here", "\u201cthe Line", "\u201cthe Line\u201d"),
        ("see [Smith 2001] and", "Smith 2001]", "[Smith 2001]"),
        # no other half within reach: the lone half at the edge is left out
        (
            'defined as "the exercise of authority over forces in the field. Next',
            '"the exercise of authority',
            "the exercise of authority",
        ),
        ("x ((a) y", "((a)", "(a)"),
        # balanced already, or nothing to balance: unchanged
        ("the Durand Line (1893) is", "the Durand Line (1893)", "the Durand Line (1893)"),
        ("in 1979 the Soviets", "1979", "1979"),
    ],
)
def test_a_span_keeps_both_halves_of_a_pair(text, span, shown):
    start = text.index(span)
    a, b = balanced(text, start, start + len(span))
    assert text[a:b] == shown


@pytest.mark.parametrize(
    ("span", "shown"),
    [
        ("816) 329-4090 (ext. 1", "(816) 329-4090 (ext. 12)"),  # its close one past: taken
        ("816) 329-4090 (ext", "(816) 329-4090 (ext"),  # five past: out of reach, left
    ],
)
def test_a_span_reaches_two_characters_at_most(span, shown):
    text = "Fax (816) 329-4090 (ext. 12) today"
    start = text.index(span)
    a, b = balanced(text, start, start + len(span))
    assert text[a:b] == shown
