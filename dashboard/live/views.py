"""The live stream of a line's new calls (server-sent events) and the row of one pushed
call, drawn by the table's own template. Both go through the one access check."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import datetime
from types import SimpleNamespace

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_safe

from dashboard.calls.filters import CallFilterForm
from dashboard.calls.table import columns_for
from dashboard.calls.timeline import timeline_columns
from dashboard.followup.later import Later
from dashboard.followup.screens import followup_column
from dashboard.followup.state import followups_for
from dashboard.lines.access import line_view, may_still_see_line
from dashboard.lines.models import Line
from dashboard.live import events
from dashboard.live.database import live_read
from dashboard.live.hub import get_hub
from dashboard.live.matching import matches
from dashboard.smsmobileapi.records import CallKind
from dashboard.webhooks.models import WebhookEvent

TABS = {"all", *CallKind}
# Browsers wait this long before reconnecting a stream that ended.
RETRY_MS = 3000
# Served by a WSGI worker (no live process behind this URL): a thread per open stream
# would exhaust the workers, so the browser is told to refresh on the cache's pace.
UNAVAILABLE = "retry: 60000\nevent: unavailable\ndata: {}\n\n"


def _stream_response(body) -> StreamingHttpResponse:
    response = StreamingHttpResponse(body, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache, no-transform"
    # nginx would otherwise buffer the stream and deliver events in bursts.
    response["X-Accel-Buffering"] = "no"
    return response


def _position(request: HttpRequest) -> int | None:
    """The last event the browser has: Last-Event-ID on a reconnect, `since` (the id the
    page was drawn at) on the first connection. None: from now on."""
    raw = request.headers.get("Last-Event-ID") or request.GET.get("since") or ""
    raw = raw.strip()
    if raw.isascii() and raw.isdigit() and len(raw) < 19:
        return int(raw)
    return None


@line_view()
@require_GET
async def line_live(request: HttpRequest, line: Line) -> HttpResponse:
    """Server-sent events, one per call stored for `line` from the browser's position on,
    and the line's open count whenever it changes (`event: counts`)."""
    if not isinstance(request, ASGIRequest):
        return _stream_response(iter([UNAVAILABLE]))
    return _stream_response(_events(request, line.pk, _position(request)))


async def _events(request: HttpRequest, line_id: int, position: int | None) -> AsyncIterator[str]:
    hub = get_hub()
    queue = await hub.subscribe(line_id)  # before reading the backlog: nothing falls between
    try:
        yield f"retry: {RETRY_MS}\n\n"
        sent = position if position is not None else await live_read(events.latest_id)(line_id)
        if position is not None:
            for event in await live_read(events.resume)(line_id, position):
                sent = event["id"]
                yield events.sse(event)
        ends = time.monotonic() + settings.LIVE_STREAM_MAX_SECONDS
        while (left := ends - time.monotonic()) > 0:
            try:
                async with asyncio.timeout(min(settings.LIVE_HEARTBEAT_SECONDS, left)):
                    event = await queue.get()
            except TimeoutError:
                event = None
            # Access can be removed while the stream is open (a share revoked): check again
            # before every event and on every heartbeat (one query), and end the stream when
            # it is gone; the browser's reconnection then gets the view's 404.
            if not await live_read(may_still_see_line)(request, line_id):
                return
            if event is None:
                yield ": keep-alive\n\n"
                continue
            if isinstance(event, events.OpenCount):
                yield event.sse()  # no id: the position stays the last call's
                continue
            if event["id"] > sent:
                sent = event["id"]
                yield events.sse(event)
    finally:
        with contextlib.suppress(Exception):
            hub.unsubscribe(line_id, queue)


class _NothingLater:
    """A call that has just arrived: nothing can have answered it yet."""

    # As a LaterContacts that read nothing: followups_for's keep_later stores nothing.
    shared = None
    read_more = False

    def after(self, number: str, when: datetime) -> Later:
        return Later(None, known=True)


@line_view()
@require_safe
def live_row(request: HttpRequest, line: Line, event_id: int) -> HttpResponse:
    """The table row of a pushed call for the tab and filters in the query string; 204
    when this table would not list it. Drawn from the stored event: no provider call."""
    tab = request.GET.get("tab", "")
    if tab not in TABS:
        return HttpResponseBadRequest("tab must be all, missed, incoming or outgoing")
    event = get_object_or_404(WebhookEvent, line=line, pk=event_id)
    call = event.as_call()
    call_filter = CallFilterForm(request.GET, region=line.default_region).to_filter()
    if (tab != "all" and call.kind != tab) or not matches(
        call, call_filter, timezone.get_current_timezone()
    ):
        return HttpResponse(status=204)
    context = {
        "line": line,
        "filter": call_filter,
        "page": SimpleNamespace(calls=[call]),
        "today": timezone.localdate(),
        "time_zone": getattr(request, "time_zone", settings.TIME_ZONE),
    }
    if tab == "all":
        context["columns"] = timeline_columns()
    elif call.kind is CallKind.MISSED:
        context["columns"] = [*columns_for(call.kind, call_filter), followup_column()]
        context["followups"] = followups_for(line, [call], _NothingLater())
    else:
        context["columns"] = columns_for(call.kind, call_filter)
    return render(request, "calls/call_list.html#rows", context)
