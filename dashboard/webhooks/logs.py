"""A logging filter that hides webhook URL tokens: Django's own `django.request` lines
("Unauthorized: /webhooks/smsmobileapi/<token>/") and any other record naming the path."""

from __future__ import annotations

import logging
import re

_TOKEN_IN_PATH = re.compile(r"(/webhooks/smsmobileapi/)[^/\s\"']+")


def redact(text: str) -> str:
    return _TOKEN_IN_PATH.sub(r"\1<token>", text)


class RedactWebhookTokens(logging.Filter):
    """On the handler, so every logger's records pass through it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/webhooks/" in message:
            record.msg, record.args = redact(message), None
        return True
