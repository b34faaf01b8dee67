"""Open counts on the live stream: a teammate's claim or mark, and callback detection,
reach other people's open pages of the line as an `event: counts` (no id, so Last-Event-ID
resumption is untouched), counted in one query only for lines whose inbox changed."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from asgiref.sync import sync_to_async
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from dashboard.inbox import counts, people
from dashboard.inbox.episodes import record_calls
from dashboard.inbox.models import CallerStatus, Episode
from dashboard.smsmobileapi.records import Call, CallKind
from tests.conftest import make_line

AT = datetime.now(UTC) - timedelta(hours=2)


def missed(number: str, minutes: int = 0) -> Call:
    return Call(CallKind.MISSED, number, "", AT + timedelta(minutes=minutes))


def open_callers(line, *numbers: str) -> list[Episode]:
    record_calls(line, [missed(n) for n in numbers])
    return list(Episode.objects.filter(line=line, status=CallerStatus.OPEN).order_by("number"))


@pytest.fixture
def announced(monkeypatch) -> list[int]:
    woken: list[int] = []
    monkeypatch.setattr("dashboard.live.channel.announce", woken.append)
    return woken


# Telling: after the commit, once per change ----------------------------------------------


def test_a_mark_bumps_the_lines_generation_and_wakes_the_live_processes_once_committed(
    line, owner, announced, django_capture_on_commit_callbacks
):
    zoe, _ = open_callers(line, "+32470111111", "+32470222222")
    before = counts.generations([line.pk])[line.pk]
    with django_capture_on_commit_callbacks(execute=False) as pending:
        people.mark(line, owner, zoe.pk, CallerStatus.HANDLED, "", None)
    # Nothing told before the commit: a page counting then would still see the old count.
    assert counts.generations([line.pk])[line.pk] == before
    for callback in pending:
        callback()
    assert counts.generations([line.pk])[line.pk] != before
    assert announced == [line.pk]


def test_a_claim_and_a_detected_callback_tell_too_but_a_repeat_attempt_does_not(
    line, owner, announced, django_capture_on_commit_callbacks
):
    zoe, _ = open_callers(line, "+32470111111", "+32470222222")
    with django_capture_on_commit_callbacks(execute=True):
        people.claim(line, owner, zoe.pk)
    assert announced == [line.pk]
    with django_capture_on_commit_callbacks(execute=True):
        record_calls(line, [missed("+32470111111", minutes=5)])  # same caller, same count
    assert announced == [line.pk]
    called_back = Call(CallKind.OUTGOING, "+32470222222", "", AT + timedelta(minutes=9))
    with django_capture_on_commit_callbacks(execute=True):
        record_calls(line, [called_back])
    assert announced == [line.pk, line.pk]


def test_a_refused_change_tells_nobody(
    line, owner, shared_user, announced, django_capture_on_commit_callbacks
):
    (zoe,) = open_callers(line, "+32470111111")
    people.claim(line, shared_user, zoe.pk)
    announced.clear()
    with django_capture_on_commit_callbacks(execute=True):
        outcome = people.claim(line, owner, zoe.pk)
    assert not outcome.done and announced == []


# Counting: one query, only where the generation moved --------------------------------------


def test_only_lines_whose_generation_moved_are_counted_in_one_query(
    line, owner, announced, django_capture_on_commit_callbacks
):
    other = make_line(owner, "demo-sales")
    open_callers(line, "+32470111111", "+32470222222")
    ids = [line.pk, other.pk]
    seen, found = counts.changed_counts(ids, {})
    assert found == {line.pk: 2, other.pk: 0}  # new lines: counted, zero included
    with CaptureQueriesContext(connection) as queries:
        assert counts.changed_counts(ids, seen) == (seen, {})
    assert len(queries) == 0  # nothing moved: not even one query
    with django_capture_on_commit_callbacks(execute=True):
        counts.inbox_changed(other)
    with CaptureQueriesContext(connection) as queries:
        seen, found = counts.changed_counts(ids, seen)
    assert found == {other.pk: 0} and len(queries) == 1
    with CaptureQueriesContext(connection) as queries:
        assert counts.changed_counts(ids, seen, every=True)[1] == {line.pk: 2, other.pk: 0}
    assert len(queries) == 1
    # A line with a new stream is counted now though its generation stayed (a cache
    # outage moves none): its page must not get a count kept from before.
    open_callers(line, "+32470333333")
    assert counts.changed_counts(ids, seen, also={line.pk})[1] == {line.pk: 3}


# The stream ---------------------------------------------------------------------------


def run_in_own_loop(scenario):
    """In a thread of its own: the browser tests' Playwright keeps a loop in this one."""

    async def wrapped():
        try:
            return await scenario()
        finally:
            # The stream's reads ran on Django's database thread: its connection goes with
            # it, or PostgreSQL cannot drop the test database at the end of the run.
            await sync_to_async(connections.close_all)()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, wrapped()).result()


async def next_counts(stream) -> str:
    async with asyncio.timeout(10):
        while True:
            chunk = await anext(stream)
            if "event: counts" in chunk:
                return chunk


def data_of(chunk: str) -> dict:
    return json.loads(chunk.split("data: ", 1)[1])


def test_a_teammates_mark_reaches_another_open_stream_as_a_count_without_an_id(
    transactional_db, settings, line, owner, shared_user
):
    settings.LIVE_POLL_SECONDS = 0.05
    zoe, _ = open_callers(line, "+32470111111", "+32470222222")

    async def watch() -> list[str]:
        from dashboard.live.views import _events

        stream = _events(SimpleNamespace(user=shared_user), line.pk, None)
        got = [await next_counts(stream)]  # a new stream: its line's count, once
        await sync_to_async(people.mark)(line, owner, zoe.pk, CallerStatus.HANDLED, "", None)
        got.append(await next_counts(stream))
        await stream.aclose()
        return got

    first, after_mark = run_in_own_loop(watch)
    assert data_of(first) == {"line": line.pk, "open": 2}
    assert data_of(after_mark) == {"line": line.pk, "open": 1}
    # Not a stored event: no id, so the browser's Last-Event-ID stays the last call's.
    assert not any(line_.startswith("id:") for line_ in after_mark.splitlines())


def test_a_change_whose_wake_up_was_lost_still_arrives_by_the_heartbeat_recount(
    transactional_db, settings, line, shared_user
):
    settings.LIVE_POLL_SECONDS = 0.05
    settings.LIVE_HEARTBEAT_SECONDS = 0.3
    open_callers(line, "+32470111111", "+32470222222")

    async def watch() -> dict:
        from dashboard.live.views import _events

        stream = _events(SimpleNamespace(user=shared_user), line.pk, None)
        await next_counts(stream)
        # Closed behind the inbox's back: no generation bump, no wake-up.
        await sync_to_async(Episode.objects.filter(line=line, number="+32470111111").update)(
            status=CallerStatus.IGNORED
        )
        got = data_of(await next_counts(stream))
        await stream.aclose()
        return got

    assert run_in_own_loop(watch) == {"line": line.pk, "open": 1}


def test_a_count_that_did_not_change_is_not_sent_again(
    transactional_db, settings, line, owner, shared_user
):
    settings.LIVE_POLL_SECONDS = 0.05
    zoe, _ = open_callers(line, "+32470111111", "+32470222222")

    async def watch() -> list[str]:
        from dashboard.live.hub import get_hub
        from dashboard.live.views import _events

        stream = _events(SimpleNamespace(user=shared_user), line.pk, None)
        await next_counts(stream)
        await sync_to_async(people.claim)(line, owner, zoe.pk)  # the count stays 2
        claimed = await sync_to_async(counts.generations)([line.pk])
        async with asyncio.timeout(10):
            while get_hub().generations.get(line.pk) != claimed[line.pk]:
                await asyncio.sleep(0.01)  # the hub has read the claim's bump
        await sync_to_async(people.mark)(line, owner, zoe.pk, CallerStatus.HANDLED, "", None)
        got = [data_of(await next_counts(stream))]
        await stream.aclose()
        return got

    assert run_in_own_loop(watch) == [{"line": line.pk, "open": 1}]


def test_a_page_opened_later_gets_its_lines_count_though_nothing_changed_since(
    transactional_db, settings, line, owner, shared_user
):
    """A second stream of a line the hub already counts: its page may have been drawn
    before the last change, so it is owed the count the other streams already have."""
    settings.LIVE_POLL_SECONDS = 0.05
    open_callers(line, "+32470111111", "+32470222222")

    async def watch() -> dict:
        from dashboard.live.views import _events

        first = _events(SimpleNamespace(user=owner), line.pk, None)
        await next_counts(first)
        later = _events(SimpleNamespace(user=shared_user), line.pk, None)
        got = data_of(await next_counts(later))
        await later.aclose()
        await first.aclose()
        return got

    assert run_in_own_loop(watch) == {"line": line.pk, "open": 2}
