"""Text checks shared by every place that accepts a single line from a person or a proxy."""

from __future__ import annotations

import unicodedata

# Cc (controls: newlines, tabs, NUL), Cf (zero-width and direction marks), and line and
# paragraph separators: invisible in a form or a header, harmful in a query string or log.
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


def has_invisible_characters(text: str) -> bool:
    """True when `text` holds a control, format or line-separator character."""
    return any(unicodedata.category(ch) in INVISIBLE_CATEGORIES for ch in text)
