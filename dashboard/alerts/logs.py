"""Apprise's log records, kept away from the logs and turned into a token-free error.

Apprise logs the services it calls, and some of its messages repeat parts of the URL
(hosts, paths, tokens). Its logger never propagates to ours (settings.LOGGING); the
records of one send come back in Apprise's result, and `redact` removes every part of
the destination URL from them before the text is stored or shown.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote, urlsplit

REDACTED = "…"


def quiet_apprise() -> None:
    """Apprise's logger writes nowhere (a NullHandler, so not even Python's last-resort
    handler on stderr) and never reaches ours; each send reads its own records from
    Apprise's result instead (channels.send_apprise)."""
    logger = logging.getLogger("apprise")
    logger.propagate = False
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())


def secret_parts(target: str) -> list[str]:
    """Every piece of `target` that could be a secret: the whole, and each part of it
    (user, password, host, path segments, query values), longest first."""
    parts = {target}
    try:
        split = urlsplit(target)
        pieces = [split.username, split.password, split.hostname, split.netloc, split.path]
        pieces += split.path.split("/")
        pieces += re.split(r"[&=]", split.query)
    except ValueError:
        pieces = []
    for piece in pieces:
        if piece and len(piece) >= 3:
            parts.add(piece)
            parts.add(unquote(piece))
    return sorted(parts, key=len, reverse=True)


def redact(text: str, target: str) -> str:
    """`text` with every part of `target` (see `secret_parts`) replaced by an ellipsis."""
    for part in secret_parts(target):
        text = text.replace(part, REDACTED)
    return text
