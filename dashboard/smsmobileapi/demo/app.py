"""The demo upstream as a WSGI app: the three call-history endpoints of SMSMobileAPI.

It follows the contract (`smsmobileapi-calls.md`), including its quirks: missed calls
use `search` and calendar days and cannot be sorted; incoming/outgoing use `q` and
millisecond bounds, can be sorted and echo the API key back; the missed endpoint answers
missing keys with its own message and ignores expired subscriptions. Where the contract
leaves behaviour open (limits over the max, bad numbers, unknown sort fields) it does what
a PHP endpoint most likely does: clamp, or fall back to the default. Searches match
case- and accent-insensitively, as the provider's MySQL collation most likely does.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as dt_time
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from dashboard.smsmobileapi.demo.data import (
    DEMO_KEY_BROKEN,
    DEMO_KEY_EXPIRED,
    DEMO_KEY_FAILING,
    DEMO_KEY_RATELIMITED,
    DEMO_KEY_SLOW,
    DEMO_KEY_TRUNCATED,
    DemoCall,
    is_demo_key,
    visible_calls,
)
from dashboard.text import fold

MISSED_PATH = "/call/missed/list/"
INCOMING_PATH = "/call/incoming/list/"
OUTGOING_PATH = "/call/outgoing/list/"
_KIND_BY_PATH = {MISSED_PATH: "missed", INCOMING_PATH: "incoming", OUTGOING_PATH: "outgoing"}

MISSED_DEFAULT_LIMIT, MISSED_MAX_LIMIT = 100, 500
CALLS_DEFAULT_LIMIT, CALLS_MAX_LIMIT = 50, 200
SORT_FIELDS = (
    "call_date_ms",
    "call_datetime_utc",
    "duration_sec",
    "phone_number",
    "create_at",
    "cached_name",
    "geo_location",
)
RETRY_AFTER_SECONDS = 30
FAILURE_DETAIL = "SQLSTATE[HY000] demo failure"
BAD_GATEWAY_HTML = b"<html><body><h1>502 Bad Gateway</h1></body></html>"

_JSON = "application/json; charset=utf-8"
_INT_RE = re.compile(r"[+-]?\d{1,18}")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TS_FORMAT = "%Y-%m-%d %H:%M:%S"
_StartResponse = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the demo saw it: what tests assert the dashboard sent."""

    path: str
    params: dict[str, str]


@dataclass(frozen=True, slots=True)
class _Response:
    status: int
    body: bytes
    content_type: str = _JSON
    headers: tuple[tuple[str, str], ...] = ()


def _json(status: int, payload: Any, headers: tuple[tuple[str, str], ...] = ()) -> _Response:
    # Compact and UTF-8 like PHP's json_encode with JSON_UNESCAPED_UNICODE.
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return _Response(status, body, headers=headers)


def _error(status: int, error: str, **extra: str) -> _Response:
    return _json(status, {"success": False, "error": error, **extra})


class DemoUpstream:
    """A WSGI app faking the SMSMobileAPI call-history endpoints over demo data.

    Thread-safe. `clock` returns an aware datetime (default: the real now); `latency` is
    slept on every request (with `sleep`, which tests replace); `timezone` is the zone of
    missed-call dates and day filters; `history(key, kind, now)` gives the calls of a kind
    the provider holds, newest first (default: the generated demo history; the benchmark
    swaps in lines shaped for one measurement).
    """

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] | None = None,
        latency: float = 0.0,
        slow_seconds: float = 15.0,
        timezone: str = "UTC",
        record_requests: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        history: Callable[[str, str, datetime], list[DemoCall]] = visible_calls,
    ) -> None:
        self.history = history
        self.clock = clock or (lambda: datetime.now(UTC))
        self.sleep = sleep
        self.latency = latency
        self.slow_seconds = slow_seconds
        self.zone = ZoneInfo(timezone)
        self.record_requests = record_requests
        self.requests: deque[RecordedRequest] = deque(maxlen=10_000)
        self._lock = threading.Lock()

    # Recording ------------------------------------------------------------------------

    def clear_requests(self) -> None:
        """Forget recorded requests."""
        with self._lock:
            self.requests.clear()

    def recorded(self) -> list[RecordedRequest]:
        """A snapshot of recorded requests, oldest first."""
        with self._lock:
            return list(self.requests)

    def sent(self) -> list[tuple[str, dict[str, str]]]:
        """Recorded requests as (path, parameters without the key), oldest first: what
        tests compare with the requests they expect."""
        return [
            (r.path, {k: v for k, v in r.params.items() if k != "apikey"}) for r in self.recorded()
        ]

    def calls_to(self, path: str) -> int:
        """How many recorded requests went to `path`."""
        return sum(1 for r in self.recorded() if r.path == path)

    # WSGI -----------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: _StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        params = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        if self.record_requests:
            with self._lock:
                self.requests.append(RecordedRequest(path, params))
        if self.latency > 0:
            self.sleep(self.latency)
        response = self._dispatch(environ.get("REQUEST_METHOD", "GET"), path, params)
        status = HTTPStatus(response.status)
        headers = [
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))),
            *response.headers,
        ]
        start_response(f"{status.value} {status.phrase}", headers)
        return [response.body]

    def _dispatch(self, method: str, path: str, params: dict[str, str]) -> _Response:
        kind = _KIND_BY_PATH.get(path)
        if kind is None:
            return _error(404, "not_found")
        if method != "GET":
            return _json(
                405, {"success": False, "error": "method_not_allowed"}, (("Allow", "GET"),)
            )
        key = params.get("apikey", "")
        if not key:
            return _error(400, "Missing apikey" if kind == "missed" else "missing_apikey")
        if not is_demo_key(key):
            return _error(403, "invalid_apikey")
        if key == DEMO_KEY_FAILING:
            return _error(500, "server_error", detail=FAILURE_DETAIL)
        if key == DEMO_KEY_RATELIMITED:
            return _json(
                429,
                {"success": False, "error": "rate_limited"},
                (("Retry-After", str(RETRY_AFTER_SECONDS)),),
            )
        if key == DEMO_KEY_BROKEN:
            return _Response(502, BAD_GATEWAY_HTML, content_type="text/html; charset=utf-8")
        if key == DEMO_KEY_SLOW:
            self.sleep(self.slow_seconds)
        if key == DEMO_KEY_EXPIRED and kind != "missed":
            return _error(403, "api_expired")
        now = self.clock().astimezone(UTC)
        if kind == "missed":
            response = self._missed(key, params, now)
        else:
            response = self._calls(kind, key, params, now)
        if key == DEMO_KEY_TRUNCATED and response.status == 200:
            return _Response(200, response.body[: len(response.body) // 2])
        return response

    # Missed ---------------------------------------------------------------------------

    def _missed(self, key: str, params: dict[str, str], now: datetime) -> _Response:
        offset = max(0, _int(params.get("offset"), 0))
        limit = _limit(params.get("limit"), MISSED_DEFAULT_LIMIT, MISSED_MAX_LIMIT)
        bounds = []
        for name, clock_time in (
            ("date_start", dt_time(0, 0, 0)),
            ("date_end", dt_time(23, 59, 59)),
        ):
            value = params.get(name, "")
            if not value:
                bounds.append(None)
                continue
            day = _date(value)
            if day is None:
                return _error(400, f"Invalid {name}, expected YYYY-MM-DD")
            bounds.append(datetime.combine(day, clock_time, tzinfo=self.zone).astimezone(UTC))
        start, end = bounds
        calls = self.history(key, "missed", now)
        if start is not None or end is not None:
            calls = [
                c
                for c in calls
                if (start is None or c.at >= start) and (end is None or c.at <= end)
            ]
        search = params.get("search", "")
        if search:
            match = like(search)
            calls = [c for c in calls if match(c.number) or match(c.name or "")]
        page = calls[offset : offset + limit]
        data = [self._missed_row(c) for c in page]
        return _json(
            200,
            {"success": True, "offset": offset, "limit": limit, "count": len(data), "data": data},
        )

    def _missed_row(self, call: DemoCall) -> dict[str, Any]:
        row: dict[str, Any] = {
            "number": call.number,
            "name": call.name or "",
            "date": call.at.astimezone(self.zone).strftime(_TS_FORMAT),
        }
        drift = call.drift
        if drift == "strings":
            # The mirror image of numbers-as-strings: a phone number as a JSON number.
            digits = "".join(ch for ch in call.number if ch.isdigit())
            row["number"] = int(digits) if digits else call.number
        elif drift == "missing":
            del row["name"]
        elif drift == "extra":
            row["sim_slot"] = 1
            row["call_date_ms"] = call.at_ms
        elif drift in ("null_name", "bad_duration"):
            row["name"] = None
        return row

    # Incoming / outgoing --------------------------------------------------------------

    def _calls(self, kind: str, key: str, params: dict[str, str], now: datetime) -> _Response:
        offset = max(0, _int(params.get("offset"), 0))
        limit = _limit(params.get("limit"), CALLS_DEFAULT_LIMIT, CALLS_MAX_LIMIT)
        sort_by = params.get("sort_by", "")
        if sort_by not in SORT_FIELDS:
            sort_by = "call_date_ms"
        sort_dir = "asc" if params.get("sort_dir", "").strip().lower() == "asc" else "desc"
        date_from = _int_or_none(params.get("date_from_ms"))
        date_to = _int_or_none(params.get("date_to_ms"))
        q = params.get("q") or None

        calls = self.history(key, kind, now)
        if date_from is not None or date_to is not None:
            lo = date_from if date_from is not None else -(2**63)
            hi = date_to if date_to is not None else 2**63
            calls = [c for c in calls if lo <= c.at_ms <= hi]
        if q is not None:
            match = like(q)
            calls = [c for c in calls if match(c.number) or (c.name is not None and match(c.name))]
        if not (sort_by in ("call_date_ms", "call_datetime_utc") and sort_dir == "desc"):
            # Stable sort over the newest-first list: ties stay by date desc, then number.
            calls = sorted(calls, key=_SORT_KEYS[sort_by], reverse=sort_dir == "desc")
        rows = [_calls_row(c) for c in calls[offset : offset + limit]]
        return _json(
            200,
            {
                "success": True,
                "apikey": key,
                "limit": limit,
                "offset": offset,
                "sort_by": sort_by,
                "sort_dir": sort_dir,
                "filters": {"date_from_ms": date_from, "date_to_ms": date_to, "q": q},
                "count": len(rows),
                "rows": rows,
            },
        )


def _calls_row(call: DemoCall) -> dict[str, Any]:
    row: dict[str, Any] = {
        "phone_number": call.number,
        "cached_name": call.name,
        "call_date_ms": call.at_ms,
        "call_datetime_utc": call.at.strftime(_TS_FORMAT),
        "duration_sec": call.duration_sec,
        "geo_location": call.location,
        "create_at": call.created_at.strftime(_TS_FORMAT),
    }
    drift = call.drift
    if drift == "strings":
        row["duration_sec"] = str(call.duration_sec)
        row["call_date_ms"] = str(call.at_ms)
    elif drift == "missing":
        del row["geo_location"], row["cached_name"]
    elif drift == "extra":
        row.update({"sim_slot": 2, "call_type": 3, "is_read": True, "features": ["volte"]})
    elif drift == "null_name":
        row["cached_name"] = None
    elif drift == "bad_duration":
        row["duration_sec"] = "n/a"
    return row


def _nullable_text(value: str | None) -> tuple[int, str]:
    # MySQL orders NULL before any string ascending, and compares case-insensitively.
    return (0, "") if value is None else (1, value.lower())


_SORT_KEYS: dict[str, Callable[[DemoCall], Any]] = {
    "call_date_ms": lambda c: c.at_ms,
    "call_datetime_utc": lambda c: c.at_ms,
    "duration_sec": lambda c: c.duration_sec,
    "phone_number": lambda c: c.number,
    "create_at": lambda c: c.created_at,
    "cached_name": lambda c: _nullable_text(c.name),
    "geo_location": lambda c: _nullable_text(c.location),
}


def _int(value: str | None, default: int) -> int:
    # Anything but a plain integer falls back to the default rather than failing.
    if value is None or not _INT_RE.fullmatch(value.strip()):
        return default
    return int(value)


def _int_or_none(value: str | None) -> int | None:
    if value is None or not _INT_RE.fullmatch(value.strip()):
        return None
    return int(value)


def _limit(value: str | None, default: int, maximum: int) -> int:
    return min(max(_int(value, default), 1), maximum)


def _date(value: str) -> date | None:
    if not _DATE_RE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def like(term: str) -> Callable[[str], bool]:
    """A `LIKE '%term%'` matcher, case- and accent-insensitive as we assume the provider's
    MySQL collation is (`dashboard.text.fold`); `%`, `_` and `\\` keep their SQL meaning.

    The provider builds its LIKE pattern from the raw parameter, so a `%` or `_` typed by
    a user is a wildcard there too.
    """
    lowered = fold(term)
    if not any(ch in lowered for ch in "%_\\"):
        return lambda text: lowered in fold(text)
    parts: list[str] = []
    chars = iter(lowered)
    for ch in chars:
        if ch == "\\":
            parts.append(re.escape(next(chars, "\\")))
        elif ch == "%":
            parts.append(".*")
        elif ch == "_":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    pattern = re.compile("".join(parts), re.DOTALL)
    return lambda text: pattern.search(fold(text)) is not None
