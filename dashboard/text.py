"""Text checks shared by every place that accepts a single line from a person or a proxy,
and the text comparison we assume the provider makes."""

from __future__ import annotations

import functools
import unicodedata

# Cc (controls: newlines, tabs, NUL), Cf (zero-width and direction marks), and line and
# paragraph separators: invisible in a form or a header, harmful in a query string or log.
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


def has_invisible_characters(text: str) -> bool:
    """True when `text` holds a control, format or line-separator character."""
    return any(unicodedata.category(ch) in INVISIBLE_CATEGORIES for ch in text)


def one_line(text: str) -> str:
    """One line of printable text (notes are shown in tables, not documents): line
    breaks and tabs become spaces, other control characters go."""
    return "".join(ch for ch in " ".join(text.split()) if ch.isprintable())


def fold(text: str) -> str:
    """`text` as the provider's search compares it, we assume: case- and accent-blind
    ("Zoë" and "zoe" are equal). Its MySQL collation (utf8mb4's *_ci / *_ai_ci) most
    likely does this; it is not documented, so the demo provider and the highlighting of
    matches share this one definition. Character by character, so `fold_spans` can map
    a match back onto `text`."""
    return "".join(map(_fold_char, text))


@functools.lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    decomposed = unicodedata.normalize("NFKD", ch)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def fold_spans(text: str, term: str) -> list[tuple[int, int]]:
    """Where `term` occurs in `text` when both are folded, as (start, end) indexes into
    `text`, left to right and never overlapping; [] for an empty term."""
    needle = fold(term)
    if not needle:
        return []
    folded: list[str] = []
    owner: list[int] = []  # owner[i]: the index in `text` of folded character i
    for index, ch in enumerate(text):
        piece = _fold_char(ch)
        folded.append(piece)
        owner.extend([index] * len(piece))
    haystack = "".join(folded)
    spans: list[tuple[int, int]] = []
    at = haystack.find(needle)
    while at != -1:
        start, end = owner[at], owner[at + len(needle) - 1] + 1
        # Marks that fold to nothing ("e" + a combining diaeresis) belong to their letter.
        while end < len(text) and not folded[end]:
            end += 1
        if spans and start < spans[-1][1]:  # a folded ligature split between two matches
            start = spans[-1][1]
        if start < end:
            spans.append((start, end))
        at = haystack.find(needle, at + len(needle))
    return spans
