"""The SMSMobileAPI client against the demo upstream and against faulty transports."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest

from dashboard.smsmobileapi import errors
from dashboard.smsmobileapi.client import (
    MAX_RETRY_AFTER,
    SmsMobileApiClient,
    build_params,
    day_bounds_ms,
)
from dashboard.smsmobileapi.demo import DemoUpstream
from dashboard.smsmobileapi.records import CallKind, CallQuery, SortField
from tests.conftest import DEMO_NOW
from tests.servers import refused_port

SECRET = "demo-support"


def client_for(app: DemoUpstream, **kwargs) -> SmsMobileApiClient:
    return SmsMobileApiClient("http://demo", transport=httpx.WSGITransport(app=app), **kwargs)


def mock_client(handler, **kwargs) -> SmsMobileApiClient:
    return SmsMobileApiClient("http://upstream", transport=httpx.MockTransport(handler), **kwargs)


# Parameter translation -------------------------------------------------------------------


def test_it_sends_missed_filters_as_search_and_calendar_days(demo_upstream):
    query = CallQuery(
        search="Zoë", date_from=date(2026, 11, 1), date_to=date(2026, 11, 7), limit=26
    )
    client_for(demo_upstream).list_calls(SECRET, CallKind.MISSED, query)
    (request,) = demo_upstream.recorded()
    assert request.path == "/call/missed/list/"
    assert request.params == {
        "apikey": SECRET,
        "offset": "0",
        "limit": "26",
        "search": "Zoë",
        "date_start": "2026-11-01",
        "date_end": "2026-11-07",
    }


@pytest.mark.parametrize("kind", [CallKind.INCOMING, CallKind.OUTGOING])
def test_it_sends_incoming_and_outgoing_filters_as_q_and_millisecond_bounds(demo_upstream, kind):
    query = CallQuery(
        search="+3247",
        date_from=date(2026, 11, 1),
        date_to=date(2026, 11, 1),
        tz_name="Europe/Brussels",
        sort=SortField.DURATION,
        descending=False,
        offset=50,
        limit=51,
    )
    client_for(demo_upstream).list_calls(SECRET, kind, query)
    (request,) = demo_upstream.recorded()
    assert request.path == f"/call/{kind}/list/"
    # 2026-11-01 00:00 in Brussels is 2026-10-31 23:00 UTC (CET, UTC+1).
    start = int(datetime(2026, 10, 31, 23, 0, tzinfo=UTC).timestamp() * 1000)
    assert request.params == {
        "apikey": SECRET,
        "offset": "50",
        "limit": "51",
        "q": "+3247",
        "date_from_ms": str(start),
        "date_to_ms": str(start + 24 * 3600 * 1000 - 1),
        "sort_by": "duration_sec",
        "sort_dir": "asc",
    }


@pytest.mark.parametrize(
    ("sort", "upstream"),
    [
        (SortField.DATE, "call_date_ms"),
        (SortField.DURATION, "duration_sec"),
        (SortField.NUMBER, "phone_number"),
        (SortField.NAME, "cached_name"),
        (SortField.LOCATION, "geo_location"),
    ],
)
def test_it_maps_every_sort_field_to_the_provider_whitelist(sort, upstream):
    params = build_params(CallKind.INCOMING, CallQuery(sort=sort))
    assert params["sort_by"] == upstream


def test_it_never_sends_a_sort_to_the_missed_endpoint():
    params = build_params(CallKind.MISSED, CallQuery(sort=SortField.DURATION, descending=False))
    assert "sort_by" not in params and "sort_dir" not in params


def test_day_bounds_follow_dst_changes():
    # Brussels leaves summer time on 2026-10-25: that day has 25 hours.
    start, end = day_bounds_ms(date(2026, 10, 25), date(2026, 10, 25), "Europe/Brussels")
    assert end - start + 1 == 25 * 3600 * 1000
    start, end = day_bounds_ms(date(2026, 3, 29), date(2026, 3, 29), "Europe/Brussels")
    assert end - start + 1 == 23 * 3600 * 1000


@pytest.mark.parametrize(
    ("kind", "asked", "sent"),
    [
        (CallKind.MISSED, 1000, "500"),
        (CallKind.INCOMING, 1000, "200"),
        (CallKind.OUTGOING, 201, "200"),
        (CallKind.MISSED, 0, "1"),
        (CallKind.INCOMING, -5, "1"),
    ],
)
def test_it_clamps_limits_to_each_endpoints_range(kind, asked, sent):
    assert build_params(kind, CallQuery(limit=asked))["limit"] == sent


def test_it_never_sends_a_negative_offset():
    assert build_params(CallKind.MISSED, CallQuery(offset=-10))["offset"] == "0"


def test_it_strips_control_characters_and_caps_the_search():
    params = build_params(CallKind.INCOMING, CallQuery(search="\x00ab\x1bc\n  d" + "x" * 500))
    assert params["q"].startswith("abc d")
    assert len(params["q"]) == 100


def test_it_omits_empty_filters():
    assert build_params(CallKind.INCOMING, CallQuery()) == {
        "offset": "0",
        "limit": "50",
        "sort_by": "call_date_ms",
        "sort_dir": "desc",
    }


# Parsing --------------------------------------------------------------------------------


def test_it_parses_missed_rows_into_calls(demo_upstream):
    batch = client_for(demo_upstream).list_calls(SECRET, CallKind.MISSED, CallQuery(limit=20))
    assert len(batch.calls) == 20
    call = batch.calls[0]
    assert call.kind is CallKind.MISSED
    assert call.number.startswith("+")
    assert call.started_at.tzinfo is not None
    assert call.started_at <= DEMO_NOW
    assert call.duration is None
    assert [c.started_at for c in batch.calls] == sorted(
        (c.started_at for c in batch.calls), reverse=True
    )


def test_it_reads_missed_dates_in_the_configured_provider_zone():
    def handler(request):
        row = {"number": "+32470000001", "name": "Alice", "date": "2026-07-01 10:00:00"}
        return httpx.Response(200, json={"success": True, "count": 1, "data": [row]})

    client = mock_client(handler, missed_timezone="Europe/Brussels")
    (call,) = client.list_calls(SECRET, CallKind.MISSED, CallQuery()).calls
    assert call.started_at == datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


def test_it_parses_incoming_rows_and_drops_the_echoed_key(demo_upstream):
    batch = client_for(demo_upstream).list_calls(SECRET, CallKind.INCOMING, CallQuery(limit=5))
    assert len(batch.calls) == 5
    for call in batch.calls:
        assert call.kind is CallKind.INCOMING
        assert isinstance(call.duration, int)
        assert SECRET not in repr(call)
    assert SECRET not in repr(batch)


def test_it_tolerates_schema_drift(demo_upstream):
    client = client_for(demo_upstream)
    calls = []
    for kind in CallKind:
        calls += client.list_calls("demo-drift", kind, CallQuery(limit=200)).calls
    assert calls, "drifting rows must still be shown"
    durations = {c.duration for c in calls if c.kind is not CallKind.MISSED}
    assert any(isinstance(d, int) and d > 0 for d in durations)
    assert None in durations  # "n/a" or a missing duration becomes unknown, not a crash


def test_it_skips_rows_without_a_usable_time_and_counts_them():
    def handler(request):
        rows = [
            {"phone_number": "+1", "call_date_ms": "1763647391000", "duration_sec": "12"},
            {"phone_number": "+2", "call_date_ms": None},
            "not an object",
            {"phone_number": "+3", "call_datetime_utc": "2025-11-20 14:03:11", "duration_sec": 3.7},
        ]
        return httpx.Response(200, json={"success": True, "apikey": SECRET, "rows": rows, "new": 1})

    batch = mock_client(handler).list_calls(SECRET, CallKind.INCOMING, CallQuery())
    assert [c.number for c in batch.calls] == ["+1", "+3"]
    assert batch.calls[0].duration == 12
    assert batch.calls[1].started_at == datetime(2025, 11, 20, 14, 3, 11, tzinfo=UTC)
    assert batch.skipped_rows == 2


@pytest.mark.parametrize(
    "row",
    [
        {"phone_number": "+1", "call_date_ms": 253402300799000},
        {"phone_number": "+1", "call_date_ms": -5},
        {"phone_number": "+1", "call_datetime_utc": "0001-01-01 00:00:00"},
        {"phone_number": "+1", "call_datetime_utc": "9999-12-31T23:59:59-01:00"},
    ],
)
def test_a_call_with_an_impossible_time_is_skipped_not_fatal(row):
    good = {"phone_number": "+2", "call_date_ms": 1763647391000}

    def handler(request):
        return httpx.Response(200, json={"success": True, "rows": [row, good]})

    batch = mock_client(handler).list_calls(SECRET, CallKind.INCOMING, CallQuery())
    assert (batch.skipped_rows, [c.number for c in batch.calls]) == (1, ["+2"])


@pytest.mark.parametrize(
    "create_at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "not a date"]
)
def test_an_impossible_creation_time_drops_only_that_field(create_at):
    row = {"phone_number": "+1", "call_date_ms": 1763647391000, "create_at": create_at}

    def handler(request):
        return httpx.Response(200, json={"success": True, "rows": [row]})

    batch = mock_client(handler).list_calls(SECRET, CallKind.INCOMING, CallQuery())
    assert batch.skipped_rows == 0
    (call,) = batch.calls
    assert (call.number, call.started_at, call.created_at) == (
        "+1",
        datetime(2025, 11, 20, 14, 3, 11, tzinfo=UTC),
        None,
    )


def test_a_body_that_stalls_after_the_headers_is_a_timeout_without_the_key():
    class StallingStream(httpx.SyncByteStream):
        def __iter__(self):
            yield b'{"success": true, "rows": ['
            raise httpx.ReadTimeout("stalled")

    def handler(request):
        return httpx.Response(200, stream=StallingStream())

    with pytest.raises(errors.UpstreamTimeout) as raised:
        mock_client(handler).list_calls(SECRET, CallKind.INCOMING, CallQuery())
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    assert SECRET not in repr(raised.value) and SECRET not in str(raised.value)


def test_a_connection_cut_mid_body_is_unreachable():
    class CutStream(httpx.SyncByteStream):
        def __iter__(self):
            yield b"{"
            raise httpx.RemoteProtocolError("peer closed connection")

    client = mock_client(lambda request: httpx.Response(200, stream=CutStream()))
    with pytest.raises(errors.UpstreamUnreachable):
        client.list_calls(SECRET, CallKind.MISSED, CallQuery())


# Errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "kind", "error"),
    [
        ("demo-invalid", CallKind.MISSED, errors.InvalidApiKey),
        ("demo-invalid", CallKind.INCOMING, errors.InvalidApiKey),
        ("not-a-demo-key", CallKind.OUTGOING, errors.InvalidApiKey),
        ("demo-expired", CallKind.INCOMING, errors.SubscriptionExpired),
        ("demo-expired", CallKind.OUTGOING, errors.SubscriptionExpired),
        ("demo-failing", CallKind.MISSED, errors.ProviderServerError),
        ("demo-failing", CallKind.INCOMING, errors.ProviderServerError),
        ("demo-ratelimited", CallKind.OUTGOING, errors.RateLimited),
        ("demo-broken", CallKind.INCOMING, errors.ProviderServerError),
        ("demo-truncated", CallKind.MISSED, errors.BadResponse),
        ("demo-truncated", CallKind.INCOMING, errors.BadResponse),
    ],
)
def test_it_maps_each_documented_error(demo_upstream, key, kind, error):
    with pytest.raises(error) as raised:
        client_for(demo_upstream).list_calls(key, kind, CallQuery())
    assert key not in str(raised.value) and key not in repr(raised.value)
    assert raised.value.user_message


def test_an_expired_subscription_still_lists_missed_calls(demo_upstream):
    batch = client_for(demo_upstream).list_calls("demo-expired", CallKind.MISSED, CallQuery())
    assert batch.calls


def test_it_honours_retry_after_seconds(demo_upstream):
    with pytest.raises(errors.RateLimited) as raised:
        client_for(demo_upstream).list_calls("demo-ratelimited", CallKind.INCOMING, CallQuery())
    assert raised.value.retry_after == 30


def test_it_honours_retry_after_as_an_http_date_and_caps_absurd_values():
    def handler(request):
        when = "Wed, 21 Oct 2099 07:28:00 GMT"
        return httpx.Response(429, headers={"Retry-After": when}, text="slow down")

    with pytest.raises(errors.RateLimited) as raised:
        mock_client(handler).list_calls(SECRET, CallKind.MISSED, CallQuery())
    assert raised.value.retry_after == MAX_RETRY_AFTER


def test_it_refuses_an_empty_key_without_calling_the_provider(demo_upstream):
    with pytest.raises(errors.MissingApiKey):
        client_for(demo_upstream).list_calls("  ", CallKind.MISSED, CallQuery())
    assert demo_upstream.recorded() == []


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, {"success": False, "error": "missing_apikey"}, errors.MissingApiKey),
        (400, {"success": False, "error": "Missing apikey"}, errors.MissingApiKey),
        (403, {"success": False, "error": "invalid_apikey"}, errors.InvalidApiKey),
        (403, {"success": False, "error": "api_expired"}, errors.SubscriptionExpired),
        (
            500,
            {"success": False, "error": "server_error", "detail": "SQL"},
            errors.ProviderServerError,
        ),
        (401, {"success": False, "error": "Invalid key"}, errors.InvalidApiKey),
        # Unknown answers are hiccups (transient, never cached as a refusal of the key).
        (200, {"success": False, "error": "SQL prepare failed"}, errors.UpstreamError),
        (403, {"success": False, "error": "forbidden by firewall"}, errors.UpstreamError),
        (403, {"success": False, "error": "invalid request"}, errors.UpstreamError),
        (403, {"success": False, "error": "token expired"}, errors.UpstreamError),
        (200, ["a", "list"], errors.UnexpectedShape),
        (200, {"success": True, "rows": "nope"}, errors.UnexpectedShape),
    ],
)
def test_it_maps_error_bodies(status, body, error):
    client = mock_client(lambda request: httpx.Response(status, json=body))
    with pytest.raises(errors.UpstreamError) as raised:
        client.list_calls(SECRET, CallKind.INCOMING, CallQuery())
    # The exact class: a subclass (InvalidApiKey for an SQL error) would be another outcome.
    assert type(raised.value) is error


def test_a_403_html_page_is_a_bad_response_not_a_refused_key():
    client = mock_client(lambda r: httpx.Response(403, html="<html>Access denied</html>"))
    with pytest.raises(errors.UpstreamError) as raised:
        client.list_calls(SECRET, CallKind.INCOMING, CallQuery())
    assert type(raised.value) is errors.BadResponse and raised.value.transient


def test_an_html_page_with_200_is_a_bad_response():
    client = mock_client(
        lambda r: httpx.Response(200, html="<html><body>Maintenance</body></html>")
    )
    with pytest.raises(errors.BadResponse):
        client.list_calls(SECRET, CallKind.MISSED, CallQuery())


def test_a_timeout_is_reported_as_such_without_retrying():
    attempts = []

    def handler(request):
        attempts.append(request)
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(errors.UpstreamTimeout) as raised:
        mock_client(handler).list_calls(SECRET, CallKind.INCOMING, CallQuery())
    assert len(attempts) == 1
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_a_refused_connection_is_retried_once_then_reported():
    attempts = []

    def handler(request):
        attempts.append(request)
        raise httpx.ConnectError("Connection refused", request=request)

    with pytest.raises(errors.UpstreamUnreachable) as raised:
        mock_client(handler).list_calls(SECRET, CallKind.INCOMING, CallQuery())
    assert len(attempts) == 2
    assert SECRET not in str(raised.value)


def test_a_connection_that_recovers_on_retry_succeeds():
    attempts = []

    def handler(request):
        attempts.append(request)
        if len(attempts) == 1:
            raise httpx.ConnectError("reset", request=request)
        return httpx.Response(200, json={"success": True, "data": []})

    batch = mock_client(handler).list_calls(SECRET, CallKind.MISSED, CallQuery())
    assert batch.calls == () and len(attempts) == 2


def test_4xx_answers_are_never_retried():
    attempts = []

    def handler(request):
        attempts.append(request)
        return httpx.Response(403, json={"success": False, "error": "invalid_apikey"})

    with pytest.raises(errors.InvalidApiKey):
        mock_client(handler).list_calls(SECRET, CallKind.INCOMING, CallQuery())
    assert len(attempts) == 1


def test_a_real_refused_port_is_unreachable():
    with refused_port() as port:
        client = SmsMobileApiClient(
            f"http://127.0.0.1:{port}", connect_timeout=1, connect_retries=0
        )
        with pytest.raises(errors.UpstreamError) as raised:
            client.list_calls(SECRET, CallKind.MISSED, CallQuery())
    assert type(raised.value) is errors.UpstreamUnreachable


def test_the_slow_key_times_out_at_the_read_timeout():
    app = DemoUpstream(clock=lambda: DEMO_NOW, slow_seconds=0.5)

    # WSGITransport has no timeouts of its own; a real socket does.
    from tests.servers import serve_wsgi

    with serve_wsgi(app) as base_url:
        client = SmsMobileApiClient(base_url, read_timeout=0.2)
        with pytest.raises(errors.UpstreamTimeout):
            client.list_calls("demo-slow", CallKind.MISSED, CallQuery())
        ok = SmsMobileApiClient(base_url, read_timeout=3).list_calls(
            "demo-slow", CallKind.MISSED, CallQuery()
        )
        assert ok.calls


def test_an_oversized_body_is_refused():
    client = mock_client(lambda r: httpx.Response(200, content=b"[" + b"1," * 3_000_000 + b"1]"))
    with pytest.raises(errors.BadResponse):
        client.list_calls(SECRET, CallKind.MISSED, CallQuery())


def test_nul_characters_never_reach_a_call():
    # PostgreSQL refuses NUL in text columns (the inbox files names and numbers there).
    row = {"phone_number": "+32\x00470", "cached_name": "Zo\x00ë", "call_date_ms": 1763647391000}

    def handler(request):
        return httpx.Response(200, json={"success": True, "rows": [row]})

    (call,) = mock_client(handler).list_calls(SECRET, CallKind.INCOMING, CallQuery()).calls
    assert (call.number, call.name) == ("+32470", "Zoë")
