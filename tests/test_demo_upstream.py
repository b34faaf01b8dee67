"""The demo upstream, tested against the contract (shared/smsmobileapi-calls.md) as a product
part: the dashboard's demo and most of its tests stand on it. No Django needed."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from dashboard.smsmobileapi.demo import (
    DEMO_KEY_BROKEN,
    DEMO_KEY_DRIFT,
    DEMO_KEY_EMPTY,
    DEMO_KEY_EXPIRED,
    DEMO_KEY_FAILING,
    DEMO_KEY_HOSTILE,
    DEMO_KEY_INVALID,
    DEMO_KEY_RATELIMITED,
    DEMO_KEY_SALES,
    DEMO_KEY_SLOW,
    DEMO_KEY_SUPPORT,
    DEMO_KEY_TRUNCATED,
    DEMO_KEYS,
    DemoUpstream,
    RecordedRequest,
    generate_calls,
)
from dashboard.smsmobileapi.demo.__main__ import make_server
from dashboard.smsmobileapi.demo.app import SORT_FIELDS
from dashboard.smsmobileapi.demo.data import clear_caches, visible_calls

ROOT = Path(__file__).resolve().parent.parent
# A Friday afternoon: today is partly synced, the week behind it complete.
NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
MISSED, INCOMING, OUTGOING = "/call/missed/list/", "/call/incoming/list/", "/call/outgoing/list/"
ALL_PATHS = [MISSED, INCOMING, OUTGOING]
MAX_LIMIT = {MISSED: 500, INCOMING: 200, OUTGOING: 200}
ROW_FIELDS = [
    "phone_number",
    "cached_name",
    "call_date_ms",
    "call_datetime_utc",
    "duration_sec",
    "geo_location",
    "create_at",
]
TS = "%Y-%m-%d %H:%M:%S"
BRUSSELS = ZoneInfo("Europe/Brussels")


def fixed_clock() -> datetime:
    return NOW


def client_for(app: DemoUpstream) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://demo")


@pytest.fixture(scope="module")
def app() -> DemoUpstream:
    return DemoUpstream(clock=fixed_clock)


@pytest.fixture(scope="module")
def client(app: DemoUpstream) -> Iterator[httpx.Client]:
    with client_for(app) as c:
        yield c


def ok(client: httpx.Client, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body = response.json()
    assert body["success"] is True
    return body


def rows_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    return body["data"] if "data" in body else body["rows"]


def fetch_all(client: httpx.Client, path: str, page: int | None = None, **params: Any) -> list:
    """Every row, page by page, the only way the contract allows (no totals)."""
    limit = page or MAX_LIMIT[path]
    rows: list[dict[str, Any]] = []
    while True:
        batch = rows_of(ok(client, path, limit=limit, offset=len(rows), **params))
        rows.extend(batch)
        if len(batch) < limit:
            return rows


def calls_of(kind: str, key: str = DEMO_KEY_SUPPORT, now: datetime = NOW) -> list:
    return [c for c in generate_calls(key, now) if c.kind == kind]


def nullable(value: str | None) -> tuple[int, str]:
    return (0, "") if value is None else (1, value.lower())


# --- Shapes and defaults ----------------------------------------------------------------


def test_missed_answers_exactly_the_documented_shape(client: httpx.Client) -> None:
    body = ok(client, MISSED, apikey=DEMO_KEY_SUPPORT)
    assert list(body) == ["success", "offset", "limit", "count", "data"]
    assert (body["offset"], body["limit"]) == (0, 100)
    assert body["count"] == len(body["data"]) == 100
    for row in body["data"]:
        assert list(row) == ["number", "name", "date"]
        assert isinstance(row["number"], str) and isinstance(row["name"], str)
        datetime.strptime(row["date"], TS)


@pytest.mark.parametrize("path", [INCOMING, OUTGOING])
def test_incoming_and_outgoing_answer_exactly_the_documented_shape(
    client: httpx.Client, path: str
) -> None:
    body = ok(client, path, apikey=DEMO_KEY_SUPPORT)
    assert list(body) == [
        "success",
        "apikey",
        "limit",
        "offset",
        "sort_by",
        "sort_dir",
        "filters",
        "count",
        "rows",
    ]
    assert (body["limit"], body["offset"]) == (50, 0)
    assert (body["sort_by"], body["sort_dir"]) == ("call_date_ms", "desc")
    assert body["filters"] == {"date_from_ms": None, "date_to_ms": None, "q": None}
    assert body["count"] == len(body["rows"]) == 50
    for row in body["rows"]:
        assert list(row) == ROW_FIELDS
        assert isinstance(row["call_date_ms"], int) and isinstance(row["duration_sec"], int)
        at = datetime.fromtimestamp(row["call_date_ms"] / 1000, UTC)
        assert row["call_datetime_utc"] == at.strftime(TS)
        assert row["create_at"] >= row["call_datetime_utc"]


@pytest.mark.parametrize("path", [INCOMING, OUTGOING])
def test_it_echoes_the_apikey_in_incoming_and_outgoing(client: httpx.Client, path: str) -> None:
    assert ok(client, path, apikey="demo-echo-me")["apikey"] == "demo-echo-me"


def test_missed_does_not_echo_the_apikey(client: httpx.Client) -> None:
    response = client.get(MISSED, params={"apikey": "demo-echo-me"})
    assert "demo-echo-me" not in response.text


@pytest.mark.parametrize("path", ALL_PATHS)
def test_each_endpoint_lists_its_own_kind_newest_first(client: httpx.Client, path: str) -> None:
    kind = path.split("/")[2]
    expected = calls_of(kind)
    rows = rows_of(ok(client, path, apikey=DEMO_KEY_SUPPORT, limit=MAX_LIMIT[path]))
    if path == MISSED:
        assert [(r["number"], r["date"]) for r in rows] == [
            (c.number, c.at.strftime(TS)) for c in expected[: len(rows)]
        ]
    else:
        assert [(r["phone_number"], r["call_date_ms"]) for r in rows] == [
            (c.number, c.at_ms) for c in expected[: len(rows)]
        ]
    stamps = [r["date"] if path == MISSED else r["call_date_ms"] for r in rows]
    assert stamps == sorted(stamps, reverse=True)


def test_nothing_is_listed_before_the_provider_stored_it(client: httpx.Client) -> None:
    rows = rows_of(ok(client, INCOMING, apikey=DEMO_KEY_SUPPORT, limit=200))
    assert max(r["create_at"] for r in rows) <= NOW.strftime(TS)


# --- Limits and offsets -----------------------------------------------------------------


def test_it_clamps_limit_to_500_for_missed(client: httpx.Client) -> None:
    body = ok(client, MISSED, apikey=DEMO_KEY_SUPPORT, limit=1000)
    assert body["limit"] == 500
    assert body["count"] == 500


@pytest.mark.parametrize("path", [INCOMING, OUTGOING])
def test_it_clamps_limit_to_200_for_incoming_and_outgoing(client: httpx.Client, path: str) -> None:
    body = ok(client, path, apikey=DEMO_KEY_SUPPORT, limit=1000)
    assert (body["limit"], body["count"]) == (200, 200)


@pytest.mark.parametrize("path", ALL_PATHS)
def test_it_raises_a_zero_or_negative_limit_to_one(client: httpx.Client, path: str) -> None:
    for limit in (0, -5):
        body = ok(client, path, apikey=DEMO_KEY_SUPPORT, limit=limit)
        assert (body["limit"], body["count"]) == (1, 1)


@pytest.mark.parametrize("value", ["abc", "", "1.5", "12abc", "1e3"])
@pytest.mark.parametrize(("path", "default"), [(MISSED, 100), (INCOMING, 50), (OUTGOING, 50)])
def test_it_falls_back_to_the_default_limit_for_non_numeric_values(
    client: httpx.Client, path: str, default: int, value: str
) -> None:
    assert ok(client, path, apikey=DEMO_KEY_SUPPORT, limit=value)["limit"] == default


@pytest.mark.parametrize("path", ALL_PATHS)
def test_it_treats_a_negative_or_non_numeric_offset_as_zero(
    client: httpx.Client, path: str
) -> None:
    first = ok(client, path, apikey=DEMO_KEY_SUPPORT, limit=5)
    for offset in ("-20", "x", ""):
        body = ok(client, path, apikey=DEMO_KEY_SUPPORT, limit=5, offset=offset)
        assert body["offset"] == 0
        assert rows_of(body) == rows_of(first)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (MISSED, {}),
        (MISSED, {"search": "+32"}),
        (INCOMING, {}),
        (OUTGOING, {"sort_by": "duration_sec"}),
        (INCOMING, {"sort_by": "cached_name", "sort_dir": "asc"}),
        (OUTGOING, {"sort_by": "geo_location", "sort_dir": "desc"}),
    ],
)
def test_offset_pages_concatenate_to_the_full_list(
    client: httpx.Client, path: str, params: dict[str, str]
) -> None:
    full = fetch_all(client, path, apikey=DEMO_KEY_SUPPORT, **params)
    paged = fetch_all(client, path, page=37, apikey=DEMO_KEY_SUPPORT, **params)
    assert paged == full
    assert len({json.dumps(r, sort_keys=True) for r in paged}) == len(paged)
    if not params:
        assert len(full) == len(calls_of(path.split("/")[2]))


def test_an_offset_past_the_end_lists_nothing(client: httpx.Client) -> None:
    body = ok(client, INCOMING, apikey=DEMO_KEY_SUPPORT, offset=100_000)
    assert (body["count"], body["rows"], body["offset"]) == (0, [], 100_000)


# --- Sorting ----------------------------------------------------------------------------


def sort_value(row: dict[str, Any], field: str) -> Any:
    if field in ("cached_name", "geo_location"):
        return nullable(row[field])
    if field == "call_datetime_utc":
        return row["call_date_ms"]
    return row[field]


@pytest.mark.parametrize("sort_dir", ["asc", "desc"])
@pytest.mark.parametrize("sort_by", SORT_FIELDS)
def test_it_sorts_by_each_whitelisted_field(
    client: httpx.Client, sort_by: str, sort_dir: str
) -> None:
    body = ok(
        client, OUTGOING, apikey=DEMO_KEY_SUPPORT, sort_by=sort_by, sort_dir=sort_dir, limit=200
    )
    assert (body["sort_by"], body["sort_dir"]) == (sort_by, sort_dir)
    values = [sort_value(r, sort_by) for r in body["rows"]]
    assert values == sorted(values, reverse=sort_dir == "desc")
    assert len(set(map(str, values))) > 1


def test_null_names_sort_first_ascending_and_last_descending(client: httpx.Client) -> None:
    asc = fetch_all(
        client, INCOMING, apikey=DEMO_KEY_SUPPORT, sort_by="cached_name", sort_dir="asc"
    )
    desc = ok(client, INCOMING, apikey=DEMO_KEY_SUPPORT, sort_by="cached_name", limit=200)
    assert asc[0]["cached_name"] is None and asc[-1]["cached_name"]
    assert desc["rows"][0]["cached_name"]


@pytest.mark.parametrize("sort_dir", ["asc", "desc"])
@pytest.mark.parametrize("sort_by", ["duration_sec", "cached_name", "geo_location"])
def test_ties_are_broken_by_call_date_desc_then_number(
    client: httpx.Client, sort_by: str, sort_dir: str
) -> None:
    rows = fetch_all(client, INCOMING, apikey=DEMO_KEY_SUPPORT, sort_by=sort_by, sort_dir=sort_dir)
    ties = 0
    for a, b in itertools.pairwise(rows):
        if sort_value(a, sort_by) == sort_value(b, sort_by):
            ties += 1
            tiebreak_a = (-a["call_date_ms"], a["phone_number"])
            assert tiebreak_a <= (-b["call_date_ms"], b["phone_number"])
    assert ties > 10


@pytest.mark.parametrize("sort_by", ["created_at", "nonsense", "", "call_date_ms; DROP TABLE x"])
def test_it_falls_back_to_call_date_ms_for_an_unknown_sort_by(
    client: httpx.Client, sort_by: str
) -> None:
    body = ok(client, INCOMING, apikey=DEMO_KEY_SUPPORT, sort_by=sort_by)
    assert body["sort_by"] == "call_date_ms"
    assert body["rows"] == ok(client, INCOMING, apikey=DEMO_KEY_SUPPORT)["rows"]


@pytest.mark.parametrize("sort_dir", ["", "up", "ascending", "DESC", "1"])
def test_it_sorts_descending_for_anything_but_asc(client: httpx.Client, sort_dir: str) -> None:
    body = ok(client, INCOMING, apikey=DEMO_KEY_SUPPORT, sort_by="duration_sec", sort_dir=sort_dir)
    assert body["sort_dir"] == "desc"
    durations = [r["duration_sec"] for r in body["rows"]]
    assert durations == sorted(durations, reverse=True)


def test_it_accepts_asc_in_any_case(client: httpx.Client) -> None:
    body = ok(client, INCOMING, apikey=DEMO_KEY_SUPPORT, sort_by="duration_sec", sort_dir="ASC")
    assert body["sort_dir"] == "asc"


def test_missed_ignores_sort_parameters(client: httpx.Client) -> None:
    sorted_ = ok(client, MISSED, apikey=DEMO_KEY_SUPPORT, sort_by="number", sort_dir="asc")
    assert sorted_ == ok(client, MISSED, apikey=DEMO_KEY_SUPPORT)


# --- Searching --------------------------------------------------------------------------


def a_named_caller(kind: str) -> str:
    names = Counter(c.name for c in calls_of(kind) if c.name and c.name.isascii())
    return next(name for name, _ in names.most_common() if " " in name)


def test_q_matches_the_name_case_insensitively(client: httpx.Client) -> None:
    last_name = a_named_caller("incoming").split()[-1]
    term = last_name.swapcase()
    rows = fetch_all(client, INCOMING, apikey=DEMO_KEY_SUPPORT, q=term)
    expected = [
        c
        for c in calls_of("incoming")
        if last_name.lower() in (c.name or "").lower() or last_name.lower() in c.number.lower()
    ]
    assert [r["call_date_ms"] for r in rows] == [c.at_ms for c in expected]
    assert rows and all(last_name.lower() in (r["cached_name"] or "").lower() for r in rows)


def test_q_matches_part_of_the_number(client: httpx.Client) -> None:
    number = calls_of("outgoing")[0].number
    rows = fetch_all(client, OUTGOING, apikey=DEMO_KEY_SUPPORT, q=number[3:9])
    assert rows and all(number[3:9] in r["phone_number"] for r in rows)
    assert number in {r["phone_number"] for r in rows}


def test_q_is_echoed_in_filters_and_an_empty_q_means_no_filter(client: httpx.Client) -> None:
    assert ok(client, INCOMING, apikey=DEMO_KEY_SUPPORT, q="+32")["filters"]["q"] == "+32"
    empty = ok(client, INCOMING, apikey=DEMO_KEY_SUPPORT, q="")
    assert empty["filters"]["q"] is None
    assert empty["rows"] == ok(client, INCOMING, apikey=DEMO_KEY_SUPPORT)["rows"]


def test_search_matches_missed_calls_by_number_or_name(client: httpx.Client) -> None:
    name = a_named_caller("missed")
    by_name = fetch_all(client, MISSED, apikey=DEMO_KEY_SUPPORT, search=name.upper())
    assert by_name and all(r["name"] == name for r in by_name)
    by_number = fetch_all(client, MISSED, apikey=DEMO_KEY_SUPPORT, search="+81")
    assert by_number and all(r["number"].startswith("+81") for r in by_number)
    japanese = fetch_all(client, MISSED, apikey=DEMO_KEY_SUPPORT, search="田")
    assert japanese and all("田" in r["name"] for r in japanese)


def test_search_keeps_sql_like_wildcards(client: httpx.Client) -> None:
    everything = fetch_all(client, MISSED, apikey=DEMO_KEY_SUPPORT, search="%")
    assert len(everything) == len(calls_of("missed"))
    one_char = fetch_all(client, MISSED, apikey=DEMO_KEY_SUPPORT, search="+3_6")
    assert {r["number"][:4] for r in one_char} == {"+336", "+316"}
    escaped = fetch_all(client, INCOMING, apikey=DEMO_KEY_SUPPORT, q="\\%")
    assert escaped == []


def test_a_search_without_matches_lists_nothing(client: httpx.Client) -> None:
    assert ok(client, MISSED, apikey=DEMO_KEY_SUPPORT, search="zzzz-nobody")["count"] == 0
    assert ok(client, OUTGOING, apikey=DEMO_KEY_SUPPORT, q="zzzz-nobody")["rows"] == []


# --- Date filters -----------------------------------------------------------------------


def test_date_start_and_date_end_keep_whole_days_inclusively(client: httpx.Client) -> None:
    rows = fetch_all(
        client, MISSED, apikey=DEMO_KEY_SUPPORT, date_start="2026-11-16", date_end="2026-11-17"
    )
    expected = [
        c for c in calls_of("missed") if date(2026, 11, 16) <= c.at.date() <= date(2026, 11, 17)
    ]
    assert rows and [r["date"] for r in rows] == [c.at.strftime(TS) for c in expected]
    assert {r["date"][:10] for r in rows} == {"2026-11-16", "2026-11-17"}


def test_date_start_or_date_end_alone_bounds_one_side(client: httpx.Client) -> None:
    since = fetch_all(client, MISSED, apikey=DEMO_KEY_SUPPORT, date_start="2026-11-19")
    assert since and min(r["date"] for r in since) >= "2026-11-19 00:00:00"
    until = fetch_all(client, MISSED, apikey=DEMO_KEY_SUPPORT, date_end="2026-08-01")
    assert until and max(r["date"] for r in until) <= "2026-08-01 23:59:59"
    assert len(since) + len(until) < len(calls_of("missed"))


def test_missed_dates_and_day_filters_follow_the_configured_timezone() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    with client_for(DemoUpstream(clock=fixed_clock, timezone="Asia/Tokyo")) as c:
        rows = fetch_all(c, MISSED, apikey=DEMO_KEY_SUPPORT, date_start="2026-11-18")
    local = [call.at.astimezone(tokyo) for call in calls_of("missed")]
    expected = [at.strftime(TS) for at in local if at.date() >= date(2026, 11, 18)]
    assert [r["date"] for r in rows] == expected


@pytest.mark.parametrize(
    "value", ["2026-13-01", "2026-02-30", "20261116", "16/11/2026", "2026-11-16T00:00", "today"]
)
@pytest.mark.parametrize("param", ["date_start", "date_end"])
def test_a_malformed_missed_date_is_a_400(client: httpx.Client, param: str, value: str) -> None:
    response = client.get(MISSED, params={"apikey": DEMO_KEY_SUPPORT, param: value})
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False and param in body["error"]


def test_an_empty_missed_date_is_ignored(client: httpx.Client) -> None:
    body = ok(client, MISSED, apikey=DEMO_KEY_SUPPORT, date_start="", date_end="")
    assert body == ok(client, MISSED, apikey=DEMO_KEY_SUPPORT)


def test_date_from_ms_and_date_to_ms_are_inclusive(client: httpx.Client) -> None:
    call = calls_of("incoming")[10]
    body = ok(
        client, INCOMING, apikey=DEMO_KEY_SUPPORT, date_from_ms=call.at_ms, date_to_ms=call.at_ms
    )
    assert body["filters"] == {"date_from_ms": call.at_ms, "date_to_ms": call.at_ms, "q": None}
    assert [r["call_date_ms"] for r in body["rows"]] == [call.at_ms]
    params = {"apikey": DEMO_KEY_SUPPORT, "date_from_ms": call.at_ms + 1, "date_to_ms": call.at_ms}
    assert ok(client, INCOMING, **params)["rows"] == []


def test_date_ms_bounds_select_a_range(client: httpx.Client) -> None:
    start = int((NOW - timedelta(days=10)).timestamp() * 1000)
    end = int((NOW - timedelta(days=3)).timestamp() * 1000)
    rows = fetch_all(client, OUTGOING, apikey=DEMO_KEY_SUPPORT, date_from_ms=start, date_to_ms=end)
    expected = [c.at_ms for c in calls_of("outgoing") if start <= c.at_ms <= end]
    assert rows and [r["call_date_ms"] for r in rows] == expected


def test_non_numeric_ms_bounds_are_ignored(client: httpx.Client) -> None:
    body = ok(client, INCOMING, apikey=DEMO_KEY_SUPPORT, date_from_ms="yesterday", date_to_ms="")
    assert body["filters"]["date_from_ms"] is None and body["filters"]["date_to_ms"] is None
    assert body["rows"] == ok(client, INCOMING, apikey=DEMO_KEY_SUPPORT)["rows"]


# --- Keys and errors --------------------------------------------------------------------


@pytest.mark.parametrize("params", [{}, {"apikey": ""}])
@pytest.mark.parametrize(
    ("path", "error"),
    [(MISSED, "Missing apikey"), (INCOMING, "missing_apikey"), (OUTGOING, "missing_apikey")],
)
def test_a_missing_or_empty_key_is_a_400(
    client: httpx.Client, path: str, error: str, params: dict[str, str]
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == 400
    assert response.json() == {"success": False, "error": error}


@pytest.mark.parametrize(
    "key",
    [
        DEMO_KEY_INVALID,
        "live-abc123",
        "DEMO-SUPPORT",
        "demo-support\n",
        "demo-",
        "demo-" + "a" * 41,
        "demo_support",
        " demo-support",
    ],
)
@pytest.mark.parametrize("path", ALL_PATHS)
def test_an_unknown_key_is_a_403_invalid_apikey(client: httpx.Client, path: str, key: str) -> None:
    response = client.get(path, params={"apikey": key})
    assert response.status_code == 403
    assert response.json() == {"success": False, "error": "invalid_apikey"}


@pytest.mark.parametrize("path", [INCOMING, OUTGOING])
def test_an_expired_key_is_refused_by_incoming_and_outgoing(
    client: httpx.Client, path: str
) -> None:
    response = client.get(path, params={"apikey": DEMO_KEY_EXPIRED})
    assert response.status_code == 403
    assert response.json() == {"success": False, "error": "api_expired"}


def test_an_expired_key_still_lists_missed_calls(client: httpx.Client) -> None:
    assert ok(client, MISSED, apikey=DEMO_KEY_EXPIRED)["count"] == 100


@pytest.mark.parametrize("path", ALL_PATHS)
def test_the_failing_key_answers_500_with_an_sql_detail(client: httpx.Client, path: str) -> None:
    response = client.get(path, params={"apikey": DEMO_KEY_FAILING})
    assert response.status_code == 500
    assert response.json() == {
        "success": False,
        "error": "server_error",
        "detail": "SQLSTATE[HY000] demo failure",
    }


@pytest.mark.parametrize("path", ALL_PATHS)
def test_the_ratelimited_key_answers_429_with_retry_after(client: httpx.Client, path: str) -> None:
    response = client.get(path, params={"apikey": DEMO_KEY_RATELIMITED})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "30"
    assert response.json() == {"success": False, "error": "rate_limited"}


@pytest.mark.parametrize("path", ALL_PATHS)
def test_the_broken_key_answers_502_with_an_html_page(client: httpx.Client, path: str) -> None:
    response = client.get(path, params={"apikey": DEMO_KEY_BROKEN})
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == "<html><body><h1>502 Bad Gateway</h1></body></html>"


@pytest.mark.parametrize("path", ALL_PATHS)
def test_the_truncated_key_answers_200_with_half_a_json_body(
    client: httpx.Client, path: str
) -> None:
    response = client.get(path, params={"apikey": DEMO_KEY_TRUNCATED, "limit": 20})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.content.startswith(b'{"success":true,')
    assert len(response.content) > 500
    with pytest.raises(ValueError):
        json.loads(response.content)


def test_the_slow_key_answers_normally_after_slow_seconds() -> None:
    slept: list[float] = []
    with client_for(DemoUpstream(clock=fixed_clock, slow_seconds=12.5, sleep=slept.append)) as c:
        body = ok(c, INCOMING, apikey=DEMO_KEY_SLOW, limit=3)
        ok(c, INCOMING, apikey=DEMO_KEY_SUPPORT, limit=3)  # only the slow key waits
    assert body["count"] == 3
    assert slept == [12.5]


def serve_in_background(server: Any) -> None:
    # A short poll interval keeps shutdown() quick.
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()


def test_the_slow_key_trips_a_client_read_timeout() -> None:
    app = DemoUpstream(clock=fixed_clock, slow_seconds=0.3)
    server = make_server("127.0.0.1", 0, app=app)
    serve_in_background(server)
    try:
        url = f"http://127.0.0.1:{server.server_port}{MISSED}"
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(url, params={"apikey": DEMO_KEY_SLOW}, timeout=0.05)
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("path", ALL_PATHS)
def test_the_empty_key_is_valid_but_lists_nothing(client: httpx.Client, path: str) -> None:
    body = ok(client, path, apikey=DEMO_KEY_EMPTY)
    assert body["count"] == 0 and rows_of(body) == []


@pytest.mark.parametrize(
    "path", ["/call/missed/list", "/", "/call/unknown/list/", "/call/missed/list/extra"]
)
def test_an_unknown_path_is_a_404_json(client: httpx.Client, path: str) -> None:
    response = client.get(path, params={"apikey": DEMO_KEY_SUPPORT})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json()["success"] is False


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "HEAD"])
def test_other_methods_are_a_405_json(client: httpx.Client, method: str) -> None:
    response = client.request(method, INCOMING, params={"apikey": DEMO_KEY_SUPPORT})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    if method != "HEAD":
        assert response.json() == {"success": False, "error": "method_not_allowed"}


def test_demo_keys_describes_every_special_key() -> None:
    specials = {
        DEMO_KEY_SUPPORT,
        DEMO_KEY_SALES,
        DEMO_KEY_EMPTY,
        DEMO_KEY_INVALID,
        DEMO_KEY_EXPIRED,
        DEMO_KEY_FAILING,
        DEMO_KEY_RATELIMITED,
        DEMO_KEY_SLOW,
        DEMO_KEY_BROKEN,
        DEMO_KEY_TRUNCATED,
        DEMO_KEY_HOSTILE,
        DEMO_KEY_DRIFT,
    }
    assert set(DEMO_KEYS) == specials
    assert all(text and "\n" not in text for text in DEMO_KEYS.values())
    assert (DEMO_KEY_SUPPORT, DEMO_KEY_SALES) == ("demo-support", "demo-sales")


# --- Determinism and time ---------------------------------------------------------------


def test_two_app_instances_serve_the_same_data() -> None:
    with client_for(DemoUpstream(clock=fixed_clock)) as c:
        first = ok(c, INCOMING, apikey=DEMO_KEY_SALES, limit=200, offset=400)
    clear_caches()
    with client_for(DemoUpstream(clock=fixed_clock)) as c:
        assert ok(c, INCOMING, apikey=DEMO_KEY_SALES, limit=200, offset=400) == first


def digest_of(key: str) -> str:
    calls = generate_calls(key, NOW)
    return hashlib.sha256(repr(calls).encode()).hexdigest()


def test_data_does_not_depend_on_the_process_hash_seed() -> None:
    code = (
        "from datetime import datetime, UTC; import hashlib;"
        "from dashboard.smsmobileapi.demo import generate_calls;"
        "calls = generate_calls('demo-sales', datetime(2026, 11, 20, 15, 30, tzinfo=UTC));"
        "print(hashlib.sha256(repr(calls).encode()).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == digest_of(DEMO_KEY_SALES)


def test_different_keys_are_different_lines() -> None:
    support = {c.number for c in generate_calls(DEMO_KEY_SUPPORT, NOW)}
    sales = {c.number for c in generate_calls(DEMO_KEY_SALES, NOW)}
    other = {c.number for c in generate_calls("demo-my-own-line", NOW)}
    assert len(support & sales) < 5 and len(sales & other) < 5


@pytest.mark.parametrize("path", ALL_PATHS)
def test_history_stays_put_as_time_passes_and_new_calls_appear_at_the_head(path: str) -> None:
    with client_for(DemoUpstream(clock=lambda: NOW - timedelta(hours=4))) as c:
        before = fetch_all(c, path, apikey=DEMO_KEY_SUPPORT)
    with client_for(DemoUpstream(clock=fixed_clock)) as c:
        after = fetch_all(c, path, apikey=DEMO_KEY_SUPPORT)
    new = len(after) - len(before)
    assert new > 0
    assert after[new:] == before
    stamp = "date" if path == MISSED else "call_date_ms"
    assert all(row[stamp] > before[0][stamp] for row in after[:new])


def test_calls_appear_only_once_the_phone_has_synced_them() -> None:
    latest = generate_calls(DEMO_KEY_SUPPORT, NOW + timedelta(days=1))
    call = next(c for c in latest if NOW < c.at < NOW + timedelta(hours=20))
    assert call not in generate_calls(DEMO_KEY_SUPPORT, call.at)
    assert call not in generate_calls(DEMO_KEY_SUPPORT, call.created_at - timedelta(seconds=1))
    assert call in generate_calls(DEMO_KEY_SUPPORT, call.created_at)


# --- Realism ----------------------------------------------------------------------------


def test_a_line_holds_a_few_thousand_calls_over_about_120_days() -> None:
    calls = generate_calls(DEMO_KEY_SUPPORT, NOW)
    assert 2000 <= len(calls) <= 5000
    assert NOW - timedelta(days=120) <= calls[-1].at <= NOW - timedelta(days=118)
    assert NOW - timedelta(hours=12) <= calls[0].at <= NOW
    assert [c.at for c in calls] == sorted((c.at for c in calls), reverse=True)


def test_the_kind_mix_is_about_20_45_35() -> None:
    calls = generate_calls(DEMO_KEY_SUPPORT, NOW)
    share = {k: n / len(calls) for k, n in Counter(c.kind for c in calls).items()}
    assert abs(share["missed"] - 0.20) < 0.05
    assert abs(share["incoming"] - 0.45) < 0.05
    assert abs(share["outgoing"] - 0.35) < 0.05


def test_weekdays_are_busier_than_weekends_and_office_hours_busiest() -> None:
    calls = generate_calls(DEMO_KEY_SUPPORT, NOW - timedelta(days=1))  # days all complete
    per_day = Counter(c.at.date() for c in calls)
    weekday = [n for d, n in per_day.items() if d.weekday() < 5]
    weekend = [n for d, n in per_day.items() if d.weekday() >= 5]
    assert 15 <= statistics.mean(weekday) <= 40
    assert statistics.mean(weekend) < statistics.mean(weekday) / 2
    office = sum(1 for c in calls if 8 <= c.at.astimezone(BRUSSELS).hour < 18)
    assert office / len(calls) > 0.7


def test_a_few_callers_call_many_times() -> None:
    counts = Counter(c.number for c in generate_calls(DEMO_KEY_SUPPORT, NOW))
    assert 100 <= len(counts) <= 150
    top = [n for _, n in counts.most_common(5)]
    assert min(top) >= 40
    assert sum(1 for n in counts.values() if n <= 10) > 50


def test_durations_are_skewed_short_with_some_long_and_some_tiny() -> None:
    answered = [c.duration_sec for c in generate_calls(DEMO_KEY_SUPPORT, NOW) if c.kind != "missed"]
    assert 60 <= statistics.median(answered) <= 120
    assert any(d > 3600 for d in answered)
    assert sum(1 for d in answered if d <= 5) > 20
    assert statistics.mean(answered) > statistics.median(answered)


def test_create_at_is_a_few_minutes_after_the_call() -> None:
    calls = generate_calls(DEMO_KEY_SUPPORT, NOW)
    delays = [(c.created_at - c.at).total_seconds() - c.duration_sec for c in calls]
    assert min(delays) >= 0
    assert 60 <= statistics.median(delays) <= 600


def test_numbers_use_european_japanese_and_us_formats() -> None:
    numbers = {c.number for c in generate_calls(DEMO_KEY_SUPPORT, NOW)}
    pattern = re.compile(r"\+32(4\d{8}|2\d{7})|\+33[67]\d{8}|\+316\d{8}|\+81[789]0\d{8}|\+1\d{10}")
    assert all(pattern.fullmatch(n) for n in numbers)
    for prefix in ("+324", "+336", "+316", "+8190", "+1415"):
        assert any(n.startswith(prefix) for n in numbers), prefix


def test_names_are_in_several_scripts_and_some_are_unknown(client: httpx.Client) -> None:
    names = [c.name for c in generate_calls(DEMO_KEY_SUPPORT, NOW)]
    assert any(n and re.search("[\u3040-\u30ff\u4e00-\u9fff]", n) for n in names)
    assert any(n and re.search("[éèëïôç]", n) for n in names)
    assert any(n and any(unicodedata.category(ch) == "So" for ch in n) for n in names)
    assert 0.05 < names.count(None) / len(names) < 0.3
    incoming = fetch_all(client, INCOMING, apikey=DEMO_KEY_SUPPORT)
    assert any(r["cached_name"] is None for r in incoming)
    assert any(r["cached_name"] == "" for r in incoming)
    missed = rows_of(ok(client, MISSED, apikey=DEMO_KEY_SUPPORT, limit=500))
    assert any(r["name"] == "" for r in missed)


def test_locations_are_city_names_or_null() -> None:
    calls = [c for c in generate_calls(DEMO_KEY_SUPPORT, NOW) if c.kind != "missed"]
    locations = Counter(c.location for c in calls)
    assert 0.12 < locations[None] / len(calls) < 0.28
    assert {"Brussels", "東京"} <= set(locations)


# --- Hostile and drifting data ----------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_rows(client: httpx.Client) -> dict[str, list[dict[str, Any]]]:
    return {path: fetch_all(client, path, apikey=DEMO_KEY_HOSTILE) for path in ALL_PATHS}


def test_hostile_names_reach_the_rows_untouched(hostile_rows: dict[str, list]) -> None:
    names = {r["cached_name"] for p in (INCOMING, OUTGOING) for r in hostile_rows[p]}
    texts = {n for n in names if n}
    assert "<script>alert(1)</script>" in texts
    assert any('"' in n and "'" in n for n in texts)
    assert any("&amp;" in n for n in texts)
    assert any(len(n) == 5000 for n in texts)
    assert any(all(chr(i) in n for i in range(0x20)) for n in texts)
    assert any("\u202e" in n for n in texts)
    assert any(re.search("[\u0600-\u06ff]", n) for n in texts)
    assert any(re.search("[\u4e00-\u9fff]", n) for n in texts)
    assert any(unicodedata.category(ch) == "So" for n in texts for ch in n)
    assert {n[0] for n in texts} >= {"=", "+", "-", "@"}
    assert None in names and "" in names
    missed = {r["name"] for r in hostile_rows[MISSED]}
    assert "<script>alert(1)</script>" in missed and "" in missed


def test_hostile_locations_reach_the_rows_untouched(hostile_rows: dict[str, list]) -> None:
    locations = {r["geo_location"] for p in (INCOMING, OUTGOING) for r in hostile_rows[p]}
    texts = {loc for loc in locations if loc}
    assert any("<" in loc for loc in texts)
    assert any(loc.startswith("=") for loc in texts)
    assert any("\u202e" in loc or "\n" in loc for loc in texts)
    assert any(len(loc) >= 1000 for loc in texts)
    assert None in locations and "" in locations


def test_hostile_bodies_are_valid_json_with_control_characters_escaped(
    client: httpx.Client,
) -> None:
    response = client.get(INCOMING, params={"apikey": DEMO_KEY_HOSTILE, "limit": 200})
    assert not any(b in response.content for b in (b"\x00", b"\x07", b"\x1b", b"\n"))
    assert response.json()["count"] == 200


@pytest.fixture(scope="module")
def drift_rows(client: httpx.Client) -> list[dict[str, Any]]:
    return fetch_all(client, INCOMING, apikey=DEMO_KEY_DRIFT) + fetch_all(
        client, OUTGOING, apikey=DEMO_KEY_DRIFT
    )


def test_drift_sends_some_numbers_as_strings(drift_rows: list[dict[str, Any]]) -> None:
    as_strings = [r for r in drift_rows if isinstance(r.get("call_date_ms"), str)]
    assert as_strings
    assert all(r["call_date_ms"].isdigit() and r["duration_sec"].isdigit() for r in as_strings)
    stored = {c.at_ms for c in generate_calls(DEMO_KEY_DRIFT, NOW)}
    assert {int(r["call_date_ms"]) for r in as_strings} <= stored


def test_drift_leaves_fields_out_adds_unknown_ones_and_nulls_names(
    drift_rows: list[dict[str, Any]],
) -> None:
    assert any("geo_location" not in r and "cached_name" not in r for r in drift_rows)
    assert any(set(r) - set(ROW_FIELDS) for r in drift_rows)
    assert any(r.get("duration_sec") == "n/a" for r in drift_rows)
    assert sum(1 for r in drift_rows if "cached_name" in r and r["cached_name"] is None) > 20
    regular = [r for r in drift_rows if list(r) == ROW_FIELDS]
    assert len(regular) > len(drift_rows) / 2


def test_drift_also_bends_missed_rows(client: httpx.Client) -> None:
    rows = fetch_all(client, MISSED, apikey=DEMO_KEY_DRIFT)
    assert any("name" not in r for r in rows)
    assert any(r.get("name", "") is None for r in rows)
    assert any(isinstance(r["number"], int) for r in rows)
    assert any(set(r) - {"number", "name", "date"} for r in rows)


# --- Recording, concurrency, speed, serving ---------------------------------------------


def test_it_records_each_request_path_and_params_when_asked() -> None:
    app = DemoUpstream(clock=fixed_clock, record_requests=True)
    with client_for(app) as c:
        c.get(MISSED, params={"apikey": DEMO_KEY_SUPPORT, "search": "Zoë", "limit": 3})
        c.get(INCOMING, params=[("apikey", DEMO_KEY_SUPPORT), ("q", "first"), ("q", "last")])
        c.post(OUTGOING)
    assert app.requests[0] == RecordedRequest(
        MISSED, {"apikey": DEMO_KEY_SUPPORT, "search": "Zoë", "limit": "3"}
    )
    assert app.requests[1].params["q"] == "last"
    assert (app.calls_to(MISSED), app.calls_to(INCOMING), app.calls_to(OUTGOING)) == (1, 1, 1)
    app.clear_requests()
    assert app.calls_to(MISSED) == 0 and len(app.requests) == 0


def test_it_records_nothing_unless_asked_and_keeps_a_bounded_log(client: httpx.Client) -> None:
    app = DemoUpstream(clock=fixed_clock)
    with client_for(app) as c:
        c.get(MISSED, params={"apikey": DEMO_KEY_EMPTY})
    assert len(app.requests) == 0
    assert app.requests.maxlen == 10_000


def test_concurrent_requests_from_threads_get_consistent_answers() -> None:
    clear_caches()  # so the threads also race to generate the data
    app = DemoUpstream(clock=fixed_clock, record_requests=True)
    jobs = [(path, offset) for path in ALL_PATHS for offset in (0, 50, 100, 150)] * 4
    with client_for(app) as c:

        def fetch(job: tuple[str, int]) -> str:
            path, offset = job
            params = {"apikey": DEMO_KEY_SALES, "offset": offset, "limit": 50}
            return c.get(path, params=params).text

        with ThreadPoolExecutor(max_workers=8) as pool:
            concurrent = list(pool.map(fetch, jobs))
        sequential = [fetch(job) for job in jobs]
    assert concurrent == sequential
    assert len(set(concurrent)) == 12
    assert sum(app.calls_to(p) for p in ALL_PATHS) == 2 * len(jobs)


def test_latency_is_added_to_every_request() -> None:
    slept: list[float] = []
    with client_for(DemoUpstream(clock=fixed_clock, latency=0.15, sleep=slept.append)) as c:
        c.get(MISSED)  # even errors wait
        c.get(INCOMING, params={"apikey": DEMO_KEY_EMPTY})
    assert slept == [0.15, 0.15]


def test_the_standalone_server_answers_over_a_socket_and_never_logs_keys(
    capfd: pytest.CaptureFixture[str],
) -> None:
    server = make_server("127.0.0.1", 0, app=DemoUpstream(clock=fixed_clock))
    serve_in_background(server)
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        body = httpx.get(base + MISSED, params={"apikey": DEMO_KEY_SUPPORT, "limit": 5}).json()
        assert body["count"] == 5
        # A malformed request line makes the server log an error quoting the request.
        with socket.create_connection(("127.0.0.1", server.server_port)) as raw:
            raw.sendall(b"GET /call/missed/list/?apikey=demo-secret-key x HTTP/1.1\r\n\r\n")
            assert raw.recv(100).startswith(b"HTTP/1.0 400")
    finally:
        server.shutdown()
        server.server_close()
    err = capfd.readouterr().err
    assert "Bad request syntax" in err and "?…" in err
    assert "demo-support" not in err and "demo-secret-key" not in err


def test_python_dash_m_serves_until_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard.smsmobileapi.demo", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.fullmatch(r"Demo upstream on (http://127\.0\.0\.1:\d+)\n", line)
        assert match, line
        response = httpx.get(match[1] + INCOMING, params={"apikey": DEMO_KEY_EMPTY})
        assert response.json()["count"] == 0
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
    finally:
        proc.kill()
        _, err = proc.communicate()
    assert DEMO_KEY_EMPTY not in err


def test_visible_calls_by_kind_match_generate_calls() -> None:
    everything = generate_calls(DEMO_KEY_SALES, NOW)
    for kind in ("missed", "incoming", "outgoing"):
        assert visible_calls(DEMO_KEY_SALES, kind, NOW) == [c for c in everything if c.kind == kind]
