"""The one upstream client: translates a `CallQuery` into each endpoint's parameters,
sends it with a pooled httpx client, and parses the answer into `Call` records.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from email.utils import parsedate_to_datetime
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from django.views.decorators.debug import sensitive_variables

from dashboard.smsmobileapi import errors, events
from dashboard.smsmobileapi.events import UpstreamCall
from dashboard.smsmobileapi.logs import install_redaction
from dashboard.smsmobileapi.records import Call, CallBatch, CallKind, CallQuery, SortField

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Endpoint:
    path: str
    max_limit: int
    default_limit: int


ENDPOINTS: Mapping[CallKind, Endpoint] = MappingProxyType(
    {
        CallKind.MISSED: Endpoint("/call/missed/list/", max_limit=500, default_limit=100),
        CallKind.INCOMING: Endpoint("/call/incoming/list/", max_limit=200, default_limit=50),
        CallKind.OUTGOING: Endpoint("/call/outgoing/list/", max_limit=200, default_limit=50),
    }
)

# Our sort vocabulary -> the provider's whitelist (incoming/outgoing only).
SORT_BY: Mapping[SortField, str] = MappingProxyType(
    {
        SortField.DATE: "call_date_ms",
        SortField.DURATION: "duration_sec",
        SortField.NUMBER: "phone_number",
        SortField.NAME: "cached_name",
        SortField.LOCATION: "geo_location",
    }
)

# The provider runs SQL LIKE on these; a longer search cannot match a phone number or a
# contact name and only costs the provider work. Assumed, not documented: that LIKE
# compares under the table's MySQL collation, most likely a utf8mb4 *_ci one, so "zoe"
# finds "Zoë" and "ZOË" (the demo upstream does the same: `dashboard.text.fold`). Numbers
# match as the phone stored them, E.164 or national: `calls.phone.search_term` sends the
# digits both forms share.
MAX_SEARCH_LENGTH = 100
# A body larger than this is not a page of call rows.
MAX_BODY_BYTES = 5 * 1024 * 1024
# Rate-limit pauses we accept from Retry-After, so a hostile value cannot park a line forever.
MAX_RETRY_AFTER = 3600.0


def clean_search(text: str) -> str:
    """Drop control characters and cap the length; the provider's LIKE treats the rest."""
    printable = "".join(ch for ch in text if ch.isprintable())
    return " ".join(printable.split())[:MAX_SEARCH_LENGTH]


def day_bounds_ms(
    day_from: date | None, day_to: date | None, tz_name: str
) -> tuple[int | None, int | None]:
    """Inclusive millisecond bounds for whole calendar days in `tz_name` (DST-correct)."""
    start = end = None
    if day_from is not None:
        start = int(local_midnight(day_from, tz_name).timestamp() * 1000)
    if day_to is not None:
        end = int(local_midnight(day_to + timedelta(days=1), tz_name).timestamp() * 1000) - 1
    return start, end


def local_midnight(day: date, tz_name: str) -> datetime:
    """The first instant of `day` in `tz_name`, in UTC."""
    # Midnight may not exist on a DST day in a few zones; fold=0 picks the first instant.
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz_name)).astimezone(UTC)


def provider_days(
    day_from: date | None, day_to: date | None, tz_name: str, provider_tz: str
) -> tuple[date | None, date | None]:
    """The calendar days in `provider_tz` that cover the days [day_from, day_to] of
    `tz_name`: what the missed endpoint, which filters by days in its own zone, is asked
    for. Rows outside the viewer's exact bounds are then dropped (`calls.exact`)."""
    start, end = day_bounds_ms(day_from, day_to, tz_name)
    zone = ZoneInfo(provider_tz)
    first = last = None
    if start is not None:
        first = datetime.fromtimestamp(start / 1000, UTC).astimezone(zone).date()
    if end is not None:
        last = datetime.fromtimestamp(end / 1000, UTC).astimezone(zone).date()
    return first, last


def build_params(kind: CallKind, query: CallQuery, missed_tz: str = "UTC") -> dict[str, str]:
    """The query string for `kind` (without the key), every value within the provider's
    range. `missed_tz` is the zone of the missed endpoint's days (SMSMOBILEAPI_TIMEZONE)."""
    endpoint = ENDPOINTS[kind]
    limit = min(max(query.limit, 1), endpoint.max_limit)
    params: dict[str, str] = {"offset": str(max(query.offset, 0)), "limit": str(limit)}
    search = clean_search(query.search)
    if kind is CallKind.MISSED:
        if search:
            params["search"] = search
        first, last = provider_days(query.date_from, query.date_to, query.tz_name, missed_tz)
        if first:
            params["date_start"] = first.isoformat()
        if last:
            params["date_end"] = last.isoformat()
        return params
    if search:
        params["q"] = search
    start, end = day_bounds_ms(query.date_from, query.date_to, query.tz_name)
    if start is not None:
        params["date_from_ms"] = str(start)
    if end is not None:
        params["date_to_ms"] = str(end)
    params["sort_by"] = SORT_BY[query.sort]
    params["sort_dir"] = "desc" if query.descending else "asc"
    return params


class SmsMobileApiClient:
    """Thread-safe; one instance per process (see `conf.get_client`)."""

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.BaseTransport | None = None,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
        connect_retries: int = 1,
        missed_timezone: str = "UTC",
    ) -> None:
        install_redaction()
        self.base_url = base_url.rstrip("/")
        self.connect_retries = connect_retries
        self.missed_tz = missed_timezone
        self.missed_zone = ZoneInfo(missed_timezone)
        self._http = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout, pool=connect_timeout),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            headers={"Accept": "application/json", "User-Agent": "calls-dashboard/0.1"},
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def params(self, kind: CallKind, query: CallQuery) -> dict[str, str]:
        """The provider's parameters for `query` (without the key), in this client's zones:
        what is sent, and what cache keys are made of."""
        return build_params(kind, query, self.missed_tz)

    # sensitive_variables() with no names masks every local of these frames, including
    # the decorator's own `func_args`, where a named list would still show the key.
    @sensitive_variables()
    def list_calls(self, api_key: str, kind: CallKind, query: CallQuery) -> CallBatch:
        """Fetch one batch of calls of `kind`; raises an `UpstreamError` subclass on failure."""
        if not api_key or not api_key.strip():
            raise errors.MissingApiKey()
        params = self.params(kind, query)
        started = time.perf_counter()
        try:
            body = self._get_json(ENDPOINTS[kind].path, {**params, "apikey": api_key})
        except errors.UpstreamError as exc:
            events.publish(UpstreamCall(kind, exc.code, time.perf_counter() - started, exc.status))
            raise
        events.publish(UpstreamCall(kind, "ok", time.perf_counter() - started, 200))
        calls, skipped = self._parse(kind, body)
        return CallBatch(
            kind=kind,
            calls=tuple(calls),
            offset=int(params["offset"]),
            limit=int(params["limit"]),
            skipped_rows=skipped,
        )

    # Transport ------------------------------------------------------------------------

    @sensitive_variables()
    def _get_json(self, path: str, params: dict[str, str]) -> Any:
        status, retry_after, content = self._send(path, params)
        if len(content) > MAX_BODY_BYTES:
            raise errors.BadResponse("body too large", status=status)
        payload = _decode_json(content)
        if status == 429:
            raise errors.RateLimited(retry_after=_retry_after(retry_after))
        if status >= 400 or (isinstance(payload, dict) and payload.get("success") is False):
            raise _error_for(status, payload)
        if payload is _NOT_JSON:
            raise errors.BadResponse("not JSON", status=status)
        if not isinstance(payload, dict):
            raise errors.UnexpectedShape("top level is not an object", status=status)
        return payload

    @sensitive_variables()
    def _send(self, path: str, params: dict[str, str]) -> tuple[int, str | None, bytes]:
        """(status, Retry-After, body). Every transport failure, including one while the
        body is read, becomes an UpstreamError without the request (and so the key)."""
        # Only connection failures are retried: the request never reached the provider,
        # so repeating it cannot double any work. Never on timeouts mid-read or on 4xx.
        attempt = 0
        while True:
            try:
                request = self._http.build_request("GET", path, params=params)
                response = self._http.send(request, stream=True)
                try:
                    content = _read_capped(response)
                finally:
                    response.close()
                return response.status_code, response.headers.get("Retry-After"), content
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if attempt < self.connect_retries:
                    attempt += 1
                    time.sleep(0.1 * attempt)
                    continue
                # `from None`: httpx exceptions hold the request, and so the URL and key.
                if isinstance(exc, httpx.ConnectTimeout):
                    raise errors.UpstreamTimeout("connect timeout") from None
                raise errors.UpstreamUnreachable(type(exc).__name__) from None
            except httpx.TimeoutException as exc:
                raise errors.UpstreamTimeout(type(exc).__name__) from None
            except httpx.HTTPError as exc:
                raise errors.UpstreamUnreachable(type(exc).__name__) from None

    # Parsing --------------------------------------------------------------------------

    def _parse(self, kind: CallKind, body: dict[str, Any]) -> tuple[list[Call], int]:
        rows = body.get("data" if kind is CallKind.MISSED else "rows")
        if rows is None:
            # Tolerate the other family's key: the two endpoint families drift apart.
            rows = body.get("rows" if kind is CallKind.MISSED else "data")
        if not isinstance(rows, list):
            raise errors.UnexpectedShape("no list of rows")
        calls: list[Call] = []
        skipped = 0
        for row in rows:
            call = self._parse_row(kind, row) if isinstance(row, dict) else None
            if call is None:
                skipped += 1
            else:
                calls.append(call)
        if skipped:
            logger.warning("skipped %d malformed %s rows from SMSMobileAPI", skipped, kind)
        return calls, skipped

    def _parse_row(self, kind: CallKind, row: dict[str, Any]) -> Call | None:
        if kind is CallKind.MISSED:
            number = _text(row.get("number") or row.get("phone_number"))
            name = _text(row.get("name") if "name" in row else row.get("cached_name"))
            started = _parse_local_datetime(row.get("date"), self.missed_zone)
            duration = None
            location = _text(row.get("geo_location"))
        else:
            number = _text(row.get("phone_number") or row.get("number"))
            name = _text(row.get("cached_name") if "cached_name" in row else row.get("name"))
            started = _parse_ms(row.get("call_date_ms")) or _parse_local_datetime(
                row.get("call_datetime_utc"), UTC
            )
            duration = _parse_int(row.get("duration_sec"))
            location = _text(row.get("geo_location"))
        if started is None:
            return None
        created = _parse_local_datetime(row.get("create_at"), UTC)
        return Call(
            kind=kind,
            number=number,
            name=name,
            started_at=started,
            duration=duration,
            location=location,
            created_at=created,
        )


_NOT_JSON = object()


def _read_capped(response: httpx.Response) -> bytes:
    """The body, stopping one byte past MAX_BODY_BYTES: a runaway body is refused, not
    held in memory whole."""
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            break
    return b"".join(chunks)


def _decode_json(content: bytes) -> Any:
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return _NOT_JSON


def _error_for(status: int, payload: Any) -> errors.UpstreamError:
    code = ""
    if isinstance(payload, dict):
        code = str(payload.get("error") or "").strip().lower()
    # Only the provider's own words refuse a key: an unknown answer (an SQL error, a 403
    # page from a firewall) is a hiccup, and a refusal would be cached and tell the user
    # to replace a good key.
    if code == "invalid_apikey" or (status == 401 and "invalid" in code):
        return errors.InvalidApiKey(status=status)
    if code == "api_expired":
        return errors.SubscriptionExpired(status=status)
    if code == "missing_apikey" or "missing apikey" in code:
        return errors.MissingApiKey(status=status)
    if status == 429 or code == "rate_limited":
        return errors.RateLimited(status=status)
    if status >= 500 or code == "server_error":
        detail = "HTML or non-JSON error page" if payload is _NOT_JSON else ""
        return errors.ProviderServerError(detail, status=status)
    if payload is _NOT_JSON:
        return errors.BadResponse("not JSON", status=status)
    return errors.UpstreamError("unexpected error answer", status=status)


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait, from either form RFC 9110 allows (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return ""
    # NUL is no text anywhere (HTML, logs) and PostgreSQL refuses it in text columns,
    # where the inbox files callers' numbers and names.
    return str(value).replace("\x00", "").strip()


def _parse_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    if not math.isfinite(number) or number < 0:
        return None
    return int(number)


def _parse_ms(value: Any) -> datetime | None:
    ms = _parse_int(value)
    if ms is None or ms == 0:
        return None
    try:
        return _plausible(datetime.fromtimestamp(ms / 1000, tz=UTC))
    except (OverflowError, OSError, ValueError):
        return None


# Call times outside this range are corrupt data, and near year 1 or 9999 converting them
# into a viewer's zone overflows: such rows are skipped like any other malformed row.
EARLIEST_CALL = datetime(1971, 1, 1, tzinfo=UTC)
LATEST_CALL = datetime(2200, 1, 1, tzinfo=UTC)


def _plausible(moment: datetime) -> datetime | None:
    return moment if EARLIEST_CALL <= moment < LATEST_CALL else None


_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


def _parse_local_datetime(value: Any, zone: tzinfo) -> datetime | None:
    text = _text(value)
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
        for fmt in _DATETIME_FORMATS:
            try:
                parsed = datetime.strptime(text[:19], fmt)
                break
            except ValueError:
                continue
        if parsed is None:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    try:
        return _plausible(parsed.astimezone(UTC))
    except (OverflowError, ValueError):
        return None
