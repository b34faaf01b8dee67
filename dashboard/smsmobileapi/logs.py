"""Keep API keys out of log records at the source.

httpx logs `HTTP Request: GET https://...?apikey=SECRET "HTTP/1.1 200 OK"` at INFO. A filter
on the emitting loggers rewrites such records before any handler (ours, a test's, an APM
agent's) sees them; raising the level alone would not protect a DEBUG-level deployment.
"""

from __future__ import annotations

import logging
import re

# apikey=... in a query string, and "apikey": "..." in a JSON body.
_QUERY_KEY = re.compile(r"(?i)(apikey=)[^&\s\"'#]*")
_JSON_KEY = re.compile(r'(?i)("apikey"\s*:\s*")[^"]*')
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """Return `text` with any apikey value replaced by a marker."""
    return _JSON_KEY.sub(rf"\g<1>{REDACTED}", _QUERY_KEY.sub(rf"\g<1>{REDACTED}", text))


class RedactApiKeyFilter(logging.Filter):
    """Render the record's message once, redacted, so formatting cannot re-insert a key."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not take logging down with it
            message = str(record.msg)
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, ()
        return True


# Loggers that may see request URLs: httpx and httpcore (the transport below it).
LOGGERS = ("httpx", "httpcore", "httpcore.http11", "httpcore.connection", "httpcore.proxy")
_FILTER = RedactApiKeyFilter()


def install_redaction() -> None:
    """Attach the filter to every logger that may see a request URL (idempotent)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
