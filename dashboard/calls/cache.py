"""Fetching a batch of calls through the shared cache.

Placeholder contract for the caching layer: `fetch_batch` returns a `Fetched` whatever
happens upstream; errors are data, never exceptions, so views stay simple.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dashboard.lines.crypto import KeyDecryptionError
from dashboard.lines.models import Line
from dashboard.smsmobileapi.conf import get_client
from dashboard.smsmobileapi.errors import UpstreamError
from dashboard.smsmobileapi.records import CallBatch, CallKind, CallQuery


class StoredKeyUnreadable(UpstreamError):
    """The line's stored key cannot be decrypted: an encryption-key setup problem, not the provider's."""

    code = "stored_key_unreadable"
    user_message = _(
        "This line's stored API key cannot be decrypted with the configured "
        "FIELD_ENCRYPTION_KEYS. An administrator needs to restore the missing encryption key."
    )
    transient = False


@dataclass(frozen=True)
class Fetched:
    batch: CallBatch | None
    fetched_at: datetime | None
    error: UpstreamError | None = None
    stale: bool = False
    source: str = "upstream"  # "upstream" | "cache" | "stale"


def fetch_batch(line: Line, kind: CallKind, query: CallQuery, *, refresh: bool = False) -> Fetched:
    """One batch of `kind` calls for `line`, from the cache when fresh."""
    try:
        api_key = line.get_api_key()
    except KeyDecryptionError:
        return Fetched(batch=None, fetched_at=None, error=StoredKeyUnreadable())
    try:
        batch = get_client().list_calls(api_key, kind, query)
    except UpstreamError as exc:
        return Fetched(batch=None, fetched_at=None, error=exc)
    return Fetched(batch=batch, fetched_at=timezone.now())
