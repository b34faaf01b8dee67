"""Reading a verified Webhook V2 envelope into a `CallEvent`, tolerating schema drift.

Assumptions about the provider, each made here and only here (contract: "Unknowns"):
- `call.incoming` / `call.outgoing` carry the same `data` as the public `call.missed`
  fixture; unknown fields are ignored, missing optional ones are empty.
- `data.call_at` has no zone: it is read in SMSMOBILEAPI_TIMEZONE, like the missed list's
  dates; `occurred_at` (ISO-8601 UTC) wins when present.
- One destination URL per line: the URL says which line an event belongs to.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

CALL_TYPES = ("call.missed", "call.incoming", "call.outgoing")
# call.missed -> the dashboard's kind name ("missed").
KIND_OF = {t: t.removeprefix("call.") for t in CALL_TYPES}
MAX_TEXT = 200


class EnvelopeError(ValueError):
    """The body is not a Webhook V2 envelope we can read (answered 400)."""


@dataclass(frozen=True)
class CallEvent:
    event_id: uuid.UUID
    type: str  # one of CALL_TYPES, or another provider event type (ignored)
    occurred_at: datetime | None
    call: dict  # guid, number, name, duration_seconds, device_id, call_at (ISO, UTC)

    @property
    def is_call(self) -> bool:
        return self.type in CALL_TYPES

    @property
    def kind(self) -> str | None:
        return KIND_OF.get(self.type)


def parse(body: bytes, *, header_type: str | None, header_id: str | None, zone: str) -> CallEvent:
    """The envelope in `body` (already verified). EnvelopeError when it is malformed or its
    id/type contradict the delivery's headers."""
    try:
        envelope = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise EnvelopeError("body is not JSON") from None
    if not isinstance(envelope, dict):
        raise EnvelopeError("envelope is not an object")
    event_id = _uuid(envelope.get("id"))
    if header_id and _uuid(header_id) != event_id:
        raise EnvelopeError("event id differs from its header")
    event_type = envelope.get("type")
    if not isinstance(event_type, str) or not event_type or len(event_type) > 64:
        raise EnvelopeError("type missing")
    if header_type and header_type.strip() != event_type:
        raise EnvelopeError("type differs from its header")
    occurred_at = _instant(envelope.get("occurred_at"))
    call: dict = {}
    if event_type in CALL_TYPES:
        data = envelope.get("data")
        if not isinstance(data, dict):
            raise EnvelopeError("data missing")
        call = _call(data, occurred_at, zone)
    return CallEvent(event_id=event_id, type=event_type, occurred_at=occurred_at, call=call)


def _uuid(value: object) -> uuid.UUID:
    if not isinstance(value, str):
        raise EnvelopeError("id missing")
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        raise EnvelopeError("id is not a UUID") from None


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _text(value: object) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return ""
    # Control characters never reach a page or a log line.
    cleaned = "".join(ch for ch in value if ch.isprintable())
    return cleaned.strip()[:MAX_TEXT]


def _call(data: dict, occurred_at: datetime | None, zone: str) -> dict:
    number = _text(data.get("number"))
    if not number:
        raise EnvelopeError("data.number missing")
    duration = data.get("duration_seconds")
    if isinstance(duration, str) and duration.strip().isdigit():
        duration = int(duration.strip())
    if not isinstance(duration, int) or isinstance(duration, bool) or duration < 0:
        duration = 0
    at = occurred_at or _local_call_time(data.get("call_at"), zone)
    if at is None:
        raise EnvelopeError("no call time (occurred_at or data.call_at)")
    return {
        "guid": _text(data.get("guid")),
        "number": number,
        "name": _text(data.get("name")),
        "duration_seconds": min(duration, 10**7),
        "device_id": _text(data.get("device_id")),
        "call_at": at.isoformat(),
    }


def _local_call_time(value: object, zone: str) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        naive = datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return naive.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
