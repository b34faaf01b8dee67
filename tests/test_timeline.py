"""The all-calls timeline: the cursor merge (property-tested) and the /all/ screen."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.calls.timeline import (
    KIND_ORDER,
    BadCursor,
    Cursor,
    merge_page,
    order_key,
    previous_start,
)
from dashboard.smsmobileapi.records import Call, CallKind
from tests.conftest import make_line

BASE = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def streams_from(seconds: dict[CallKind, list[int]]) -> dict[CallKind, list[Call]]:
    """Each kind newest first, like the provider; numbers make every call distinguishable."""
    streams = {}
    for kind, values in seconds.items():
        ordered = sorted(values, reverse=True)
        streams[kind] = [
            Call(
                kind=kind,
                number=f"+3247000{i:04d}",
                name="",
                started_at=BASE + timedelta(seconds=s),
            )
            for i, s in enumerate(ordered)
        ]
    return streams


class FakeUpstream:
    """Serves offset/limit slices of fixed streams and records what was asked."""

    def __init__(self, streams: dict[CallKind, list[Call]]):
        self.streams = streams
        self.asked: list[tuple[CallKind, int, int]] = []

    def __call__(self, kind: CallKind, offset: int, limit: int) -> list[Call]:
        self.asked.append((kind, offset, limit))
        return self.streams[kind][offset : offset + limit]


def full_merge(streams: dict[CallKind, list[Call]]) -> list[Call]:
    # Python's sort is stable: within a kind the provider's order is kept.
    return sorted((c for k in KIND_ORDER for c in streams[k]), key=order_key)


# Small time ranges force many equal timestamps, within and across kinds.
times = st.lists(st.integers(min_value=0, max_value=30), max_size=40)
data_sets = st.fixed_dictionaries(
    {CallKind.MISSED: times, CallKind.INCOMING: times, CallKind.OUTGOING: times}
)


@settings(max_examples=300, deadline=None)
@given(data=data_sets, per_page=st.integers(min_value=1, max_value=25))
def test_walking_every_page_yields_the_full_merged_list_without_skips_or_repeats(data, per_page):
    streams = streams_from(data)
    upstream = FakeUpstream(streams)
    walked: list[Call] = []
    cursor = Cursor()
    starts = []
    for _ in range(200):
        page = merge_page(upstream, cursor, per_page)
        starts.append(page.start)
        walked.extend(page.calls)
        assert len(page.calls) <= per_page
        if not page.has_next:
            break
        assert len(page.calls) == per_page  # only the last page may be short
        cursor = page.next
    assert walked == full_merge(streams)
    # Every request stays within one extra row per kind.
    assert all(limit == per_page + 1 for _, _, limit in upstream.asked)
    # Previous from each page leads back to exactly the start of the page before.
    for before, after in itertools.pairwise(starts):
        assert previous_start(upstream, after, per_page) == before


@settings(max_examples=100, deadline=None)
@given(data=data_sets, per_page=st.integers(min_value=1, max_value=10))
def test_an_empty_or_exact_last_page_has_no_dead_next(data, per_page):
    streams = streams_from(data)
    total = sum(len(s) for s in streams.values())
    upstream = FakeUpstream(streams)
    cursor, pages = Cursor(), 0
    while True:
        page = merge_page(upstream, cursor, per_page)
        pages += 1
        if not page.has_next:
            break
        cursor = page.next
    assert pages == max(1, -(-total // per_page))


def test_equal_times_across_kinds_come_missed_then_incoming_then_outgoing():
    at = BASE
    streams = {k: [Call(kind=k, number="+32470000001", name="", started_at=at)] for k in KIND_ORDER}
    page = merge_page(FakeUpstream(streams), Cursor(), 10)
    assert [c.kind for c in page.calls] == list(KIND_ORDER)


def test_the_cursor_advances_each_kind_by_the_rows_it_gave():
    streams = streams_from(
        {CallKind.MISSED: [10, 9], CallKind.INCOMING: [8], CallKind.OUTGOING: [7, 1]}
    )
    page = merge_page(FakeUpstream(streams), Cursor(), 3)
    assert page.next == Cursor(missed=2, incoming=1, outgoing=0)
    assert page.next.encode() == "m2.i1.o0"
    assert page.has_next


@pytest.mark.parametrize(
    "text", ["", "m1.i2", "m-1.i0.o0", "x1.i2.o3", "m1.i2.o3.", "m99999999.i0.o0"]
)
def test_malformed_cursors_are_refused(text):
    with pytest.raises(BadCursor):
        Cursor.parse(text)


def test_a_cursor_round_trips_through_its_text():
    assert Cursor.parse("m40.i55.o30") == Cursor(40, 55, 30)


# The screen ------------------------------------------------------------------------------


def url(line, query: str = "") -> str:
    return reverse("line-timeline", kwargs={"line_id": line.pk}) + query


def row_kinds(html: str) -> list[str]:
    return re.findall(
        r'<td class="col-kind"[^>]*>.*?<span class="kind-icon kind-(\w+)"', html, re.S
    )


def test_the_timeline_asks_each_kind_for_one_row_more_than_a_page(
    owner_client, line, demo_upstream
):
    response = owner_client.get(url(line, "?per_page=25&q=%2B32&from=2026-11-01&to=2026-11-20"))
    assert response.status_code == 200
    requests = demo_upstream.sent()
    timeline = [r for r in requests if r[1].get("limit") == "26"]
    assert {path for path, _ in timeline} == {
        "/call/missed/list/",
        "/call/incoming/list/",
        "/call/outgoing/list/",
    }
    missed = next(p for path, p in timeline if path == "/call/missed/list/")
    assert missed == {
        "offset": "0",
        "limit": "26",
        "search": "+32",
        "date_start": "2026-11-01",
        "date_end": "2026-11-20",
    }
    incoming = next(p for path, p in timeline if path == "/call/incoming/list/")
    assert incoming["sort_by"] == "call_date_ms" and incoming["sort_dir"] == "desc"
    assert incoming["q"] == "+32" and incoming["offset"] == "0"


def test_rows_show_their_kind_as_icon_and_text_newest_first(owner_client, line):
    html = owner_client.get(url(line, "?per_page=100")).content.decode()
    kinds = row_kinds(html)
    assert len(kinds) == 100
    assert set(kinds) == {"missed", "incoming", "outgoing"}
    assert "All calls" in html
    times = re.findall(r'<time datetime="([^"]+)"', html)
    assert times == sorted(times, reverse=True)


def test_next_and_previous_links_carry_cursors_and_pages_do_not_overlap(owner_client, line):
    first = owner_client.get(url(line, "?per_page=25")).content.decode()
    next_cursor = re.search(r'rel="next" href="\?[^"]*cursor=(m\d+\.i\d+\.o\d+)', first).group(1)
    assert Cursor.parse(next_cursor).position == 25
    second = owner_client.get(url(line, f"?per_page=25&cursor={next_cursor}")).content.decode()
    assert "Showing 26–50" in second
    first_times = re.findall(r'<time datetime="([^"]+)"', first)
    second_times = re.findall(r'<time datetime="([^"]+)"', second)
    assert min(first_times) >= max(second_times)
    prev = re.search(r'rel="prev" href="\?([^"]*)"', second).group(1).replace("&amp;", "&")
    assert f"before={next_cursor}" in prev
    back = owner_client.get(url(line, "?" + prev)).content.decode()
    assert re.findall(r'<time datetime="([^"]+)"', back) == first_times


def test_a_bad_cursor_is_reported_and_the_first_page_shown(owner_client, line):
    response = owner_client.get(url(line, "?cursor=nonsense"))
    assert response.status_code == 200
    assert "The page position in the link was not understood" in response.content.decode()
    assert "Showing 1–50" in response.content.decode()


def test_htmx_gets_only_the_results(owner_client, line):
    response = owner_client.get(url(line), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert '<form id="filters"' not in html
    assert "col-kind" in html


def test_a_kind_that_fails_is_named_and_the_others_still_show(owner_client, owner):
    expired = make_line(owner, "demo-expired")
    html = owner_client.get(url(expired)).content.decode()
    # Incoming and outgoing fail the same way: one banner naming both, the message once.
    assert html.count('data-error="api_expired"') == 1
    assert "Incoming, Outgoing calls could not be loaded" in html
    assert html.count("subscription for this line has expired") == 1
    assert set(row_kinds(html)) == {"missed"}


def test_the_all_tab_is_offered_and_marked_current(owner_client, line):
    html = owner_client.get(url(line)).content.decode()
    assert re.search(r'<a href="/lines/\d+/all/[^"]*"[^>]*aria-current="page"', html)


def test_strangers_get_a_404_and_shared_users_see_it(client, line, stranger, shared_user):
    client.force_login(stranger)
    assert client.get(url(line)).status_code == 404
    client.force_login(shared_user)
    assert client.get(url(line)).status_code == 200


def test_refresh_on_a_later_timeline_page_keeps_that_page(owner_client, line):
    from django.urls import reverse

    target = reverse("line-timeline", kwargs={"line_id": line.pk})
    first = owner_client.get(target).content.decode()
    import re as _re

    next_link = _re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = owner_client.get(target + next_link if next_link.startswith("?") else next_link)
    html = second.content.decode()
    refresh = _re.search(r'class="refresh" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert "cursor=" in refresh and "refresh=1" in refresh
