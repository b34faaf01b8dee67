"""The live views in-process: the row of a pushed call (drawn by the table's template, only
where the table's filters list it, no provider call), the page's live settings, the
stream's refusals and its answer when a WSGI worker gets it, and the filter matching."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from dashboard.calls.filters import CallFilter
from dashboard.live import events
from dashboard.live.matching import matches
from dashboard.smsmobileapi.records import Call, CallKind
from dashboard.webhooks import services
from dashboard.webhooks.models import WebhookEvent
from tests.webhook_helpers import SECRET, deliver, envelope


@pytest.fixture
def endpoint(line):
    return services.set_secret(line, SECRET)


def push(endpoint, event_type="call.missed", **data) -> WebhookEvent:
    event = envelope(event_type, **data)
    event["occurred_at"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert deliver(Client(), endpoint, event).status_code == 202
    return WebhookEvent.objects.get(event_id=event["id"])


def row(client, line, event, **params):
    url = reverse("line-live-row", args=[line.pk, event.pk])
    return client.get(url, {"tab": "missed", **params})


def test_a_pushed_missed_call_is_drawn_as_a_row_of_the_missed_table(
    owner_client, line, endpoint, demo_upstream
):
    event = push(endpoint, number="+32486398674", name="Morgan Lefèvre")
    before = len(demo_upstream.recorded())
    response = row(owner_client, line, event)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("<tr>") == 1
    assert "Morgan Lefèvre" in html and 'class="col-followup"' in html
    assert reverse("line-caller", args=[line.pk, "+32486398674"]) in html
    assert len(demo_upstream.recorded()) == before  # drawn from the stored event alone


def test_a_search_that_does_not_match_gets_no_row(owner_client, line, endpoint):
    event = push(endpoint, number="+32486398674", name="Morgan")
    assert row(owner_client, line, event, q="Alice").status_code == 204
    assert row(owner_client, line, event, q="morgan").status_code == 200
    assert row(owner_client, line, event, q="0486 39 86").status_code == 200  # national form
    found = row(owner_client, line, event, q="486398").content.decode()
    assert "<mark>" in found  # the match is marked as in the table


def test_dates_that_exclude_the_call_get_no_row(owner_client, line, endpoint):
    event = push(endpoint)
    assert (
        row(owner_client, line, event, **{"from": "2020-01-01", "to": "2020-01-31"}).status_code
        == 204
    )
    today = datetime.now(UTC).date().isoformat()
    assert row(owner_client, line, event, **{"from": today}).status_code == 200


def test_other_kinds_tabs_get_no_row_but_the_all_tab_does(owner_client, line, endpoint):
    event = push(endpoint, "call.incoming", duration_seconds=61)
    assert row(owner_client, line, event, tab="missed").status_code == 204
    incoming = row(owner_client, line, event, tab="incoming")
    assert incoming.status_code == 200 and "1:01" in incoming.content.decode()
    assert 'class="col-kind"' in row(owner_client, line, event, tab="all").content.decode()


def test_an_unknown_tab_is_a_400_and_another_lines_event_a_404(owner_client, line, endpoint, owner):
    from tests.conftest import make_line

    event = push(endpoint)
    assert row(owner_client, line, event, tab="sms").status_code == 400
    other = make_line(owner, "demo-sales")
    assert (
        owner_client.get(
            reverse("line-live-row", args=[other.pk, event.pk]), {"tab": "missed"}
        ).status_code
        == 404
    )


def test_a_hostile_name_is_escaped_in_the_row(owner_client, line, endpoint):
    event = push(endpoint, name='<img src=x onerror="alert(1)">')
    html = row(owner_client, line, event).content.decode()
    assert "<img" not in html and "&lt;img" in html


def test_the_page_connects_to_the_stream_only_when_the_line_has_a_webhook(owner_client, line):
    url = reverse("line-calls", args=[line.pk, "missed"])
    html = owner_client.get(url).content.decode()
    assert 'id="live"' in html and "data-stream-url" not in html  # polls at the cache's pace
    assert 'data-ttl="30"' in html
    endpoint = services.set_secret(line, SECRET)
    push(endpoint)
    html = owner_client.get(url).content.decode()
    assert f'data-stream-url="{reverse("line-live", args=[line.pk])}"' in html
    assert f'data-since="{WebhookEvent.objects.get().pk}"' in html
    assert "js/live.js" in html and "<script>" not in html


def test_a_wsgi_worker_tells_the_browser_to_refresh_instead_of_holding_a_thread(owner_client, line):
    response = owner_client.get(reverse("line-live", args=[line.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert response["X-Accel-Buffering"] == "no"
    body = b"".join(response.streaming_content).decode()
    assert "event: unavailable" in body


def test_the_stream_goes_through_the_access_check(client, line, stranger, shared_user):
    url = reverse("line-live", args=[line.pk])
    assert client.get(url).status_code == 302
    client.force_login(stranger)
    assert client.get(url).status_code == 404
    client.force_login(shared_user)
    assert client.get(url).status_code == 200


# Matching -------------------------------------------------------------------------------

CALL = Call(
    CallKind.MISSED, "+32486398674", "Zoë Martin", datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
)


@pytest.mark.parametrize(
    ("search", "expected"),
    [("486398674", True), ("zoe", True), ("MARTIN", True), ("alice", False), ("4863999", False)],
)
def test_matching_follows_the_providers_like_on_number_and_name(search, expected):
    call_filter = CallFilter(q=search)
    assert matches(CALL, call_filter, UTC) is expected


def test_matching_reads_dates_in_the_viewers_zone():
    # 23:30 UTC on the 20th is already the 21st in Tokyo.
    tokyo = ZoneInfo("Asia/Tokyo")
    assert matches(CALL, CallFilter(date_from=date(2026, 11, 21)), tokyo)
    assert not matches(CALL, CallFilter(date_from=date(2026, 11, 21)), UTC)
    assert not matches(CALL, CallFilter(date_to=date(2026, 11, 20)), tokyo)


def test_a_warm_whole_page_knows_about_the_webhook_without_asking_the_database(
    owner_client, owner, line
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.conftest import make_line

    other = make_line(owner, "other-line-key", "Other line")
    services.set_secret(line, SECRET)
    url = reverse("line-calls", args=[line.pk, "missed"])
    other_url = reverse("line-calls", args=[other.pk, "missed"])
    owner_client.get(url)
    owner_client.get(other_url)
    with CaptureQueriesContext(connection) as queries:
        html = owner_client.get(url).content.decode()
        other_html = owner_client.get(other_url).content.decode()
    assert not [q for q in queries.captured_queries if "webhooks_webhookendpoint" in q["sql"]]
    assert "data-stream-url" in html  # each line's own fact, never another's
    assert "data-stream-url" not in other_html
    services.set_secret(other, SECRET)
    assert "data-stream-url" in owner_client.get(other_url).content.decode()


# Access while the stream is open ---------------------------------------------------------


def test_the_stream_ends_when_the_share_is_removed_while_it_is_open(
    transactional_db, settings, line, shared_user
):
    """Access is checked at every heartbeat too, not only at connect: a removed share ends
    the stream long before LIVE_STREAM_MAX_SECONDS, and the events after it are not sent."""
    import asyncio
    import time
    from concurrent.futures import ThreadPoolExecutor
    from types import SimpleNamespace

    from asgiref.sync import sync_to_async
    from django.db import connections

    from dashboard.live.views import _events

    settings.LIVE_HEARTBEAT_SECONDS = 0.05
    settings.LIVE_STREAM_MAX_SECONDS = 30.0

    async def watch() -> tuple[list[str], float]:
        stream = _events(SimpleNamespace(user=shared_user), line.pk, None)
        sent = [await anext(stream), await anext(stream)]  # retry, then a heartbeat
        assert sent[1] == ": keep-alive\n\n"
        await sync_to_async(line.shared_with_users.remove)(shared_user)
        started = time.monotonic()
        async with asyncio.timeout(10):
            sent += [chunk async for chunk in stream]
        took = time.monotonic() - started
        # The stream's reads ran on Django's database thread: its connection goes with it,
        # or PostgreSQL cannot drop the test database at the end of the run.
        await sync_to_async(connections.close_all)()
        return sent, took

    # In a thread of its own: the browser tests' Playwright keeps a loop in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        sent, took = pool.submit(asyncio.run, watch()).result()
    assert took < 5  # ended at the next heartbeat, not after the stream's 30 s
    assert not any(chunk.startswith("data:") or "\ndata:" in chunk for chunk in sent[2:])


def test_a_live_read_on_a_connection_the_database_dropped_reconnects(transactional_db):
    """The live process lives outside the request cycle that gives Django its connection
    hygiene: after a restart of the database its reads must reconnect, not fail forever."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from asgiref.sync import sync_to_async
    from django.db import DatabaseError, connection, connections

    from dashboard.live.database import live_read

    def drop() -> None:  # what a restart of the database does, underneath Django
        connection.ensure_connection()
        connection.connection.close()

    async def scenario() -> tuple[int, int]:
        try:
            stored = await live_read(events.latest_id)()
            await sync_to_async(drop)()
            with pytest.raises(DatabaseError):  # a plain read on it fails, and would again
                await sync_to_async(events.latest_id)()
            return stored, await live_read(events.latest_id)()
        finally:
            await sync_to_async(connections.close_all)()

    # In a thread of its own: the browser tests' Playwright keeps a loop in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        stored, again = pool.submit(asyncio.run, scenario()).result()
    assert again == stored
