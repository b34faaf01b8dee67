"""Webhook V2 signatures: `v1=` + hex HMAC-SHA256(secret, timestamp + "." + raw body).

Plain functions over bytes and strings (no Django), so the rules are tested on their own.
The provider's contract: /work/shared/smsmobileapi-webhooks.md ("Delivery").
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

PREFIX = "v1="
# A timestamp further than this from our clock is refused: a captured delivery cannot be
# replayed later, and a sender with a badly wrong clock is told so.
TOLERANCE_SECONDS = 300


class SignatureError(Exception):
    """Why a delivery's signature is refused (a short code for logs and counters)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp`."""
    message = str(timestamp).encode("ascii") + b"." + body
    return PREFIX + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def parse_timestamp(raw: str | None) -> int:
    """The timestamp header as Unix seconds; SignatureError("timestamp_missing"/"_invalid")."""
    if not raw:
        raise SignatureError("timestamp_missing")
    raw = raw.strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise SignatureError("timestamp_invalid")
    return int(raw)


def verify(
    *,
    secrets: Iterable[str],
    timestamp: str | None,
    signatures: Iterable[str | None],
    body: bytes,
    now: float,
) -> None:
    """Raise SignatureError unless one of `signatures` matches one of `secrets` over the
    raw `body`, and the timestamp is within TOLERANCE_SECONDS of `now`."""
    sent_at = parse_timestamp(timestamp)
    if abs(now - sent_at) > TOLERANCE_SECONDS:
        raise SignatureError("timestamp_out_of_window")
    offered = [s.strip() for s in signatures if s and s.strip()]
    if not offered:
        raise SignatureError("signature_missing")
    expected = [sign(secret, sent_at, body) for secret in secrets]
    if not expected:
        raise SignatureError("no_secret_configured")
    matched = False
    # Every pair is compared (no early exit), each in constant time: the time taken does
    # not say which secret or header came close.
    for candidate in offered:
        for good in expected:
            matched |= hmac.compare_digest(candidate.encode(), good.encode())
    if not matched:
        raise SignatureError("signature_mismatch")
