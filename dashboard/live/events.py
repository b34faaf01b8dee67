"""Stored webhook events as the live stream sends them (server-sent events).

The stream's event id is the stored row's primary key: increasing, so `Last-Event-ID`
says exactly what a reconnecting browser has seen, and resuming reads only later rows.
The stream also sends a line's open count (`OpenCount`), which is not a stored event: it
carries no id, so the browser's Last-Event-ID stays that of the last call it got.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from dashboard.webhooks.models import WebhookEvent

# A reconnecting browser gets at most this many missed events (the newest ones).
RESUME_MAX = 200


def latest_id(line_id: int | None = None) -> int:
    """The newest stored event's id (of one line, or of every line), 0 when none."""
    events = (
        WebhookEvent.objects.all()
        if line_id is None
        else WebhookEvent.objects.filter(line_id=line_id)
    )
    return events.order_by("-pk").values_list("pk", flat=True).first() or 0


def after(last_id: int, *, line_ids: set[int] | None = None, limit: int = 500) -> list[dict]:
    """Events stored after `last_id` (of these lines), oldest first, as payloads."""
    events = WebhookEvent.objects.filter(pk__gt=last_id)
    if line_ids is not None:
        events = events.filter(line_id__in=line_ids)
    return [payload(e) for e in events.order_by("pk")[:limit]]


def resume(line_id: int, last_id: int) -> list[dict]:
    """What a browser that saw `last_id` missed on this line: the newest RESUME_MAX."""
    events = WebhookEvent.objects.filter(line_id=line_id, pk__gt=last_id).order_by("-pk")
    return [payload(e) for e in reversed(events[:RESUME_MAX])]


def payload(event: WebhookEvent) -> dict:
    """What a browser needs to decide where the call goes; the row itself it asks the
    dashboard for (one template for rows), never the provider."""
    call = event.call or {}
    return {
        "id": event.pk,
        "line": event.line_id,
        "kind": event.type.removeprefix("call."),
        "number": str(call.get("number", "")),
        "guid": str(call.get("guid", "")),
        "at": str(call.get("call_at", "")),
    }


def sse(event: dict) -> str:
    """One server-sent event (no newline can occur in the JSON)."""
    return f"id: {event['id']}\nevent: call\ndata: {json.dumps(event, ensure_ascii=False)}\n\n"


@dataclass(frozen=True)
class OpenCount:
    """The line's open callers now (dashboard/inbox/counts.py says when it is sent)."""

    line: int
    open: int

    def sse(self) -> str:
        """`event: counts`, the data shaped as the inbox-changed event; no `id:` line."""
        data = json.dumps({"line": self.line, "open": self.open})
        return f"event: counts\ndata: {data}\n\n"
