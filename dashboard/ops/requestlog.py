"""One structured log line per request, with a request id the proxy can correlate.

Views and services add fields through `annotate()` (a context variable, so threads and
concurrent requests never mix); the middleware writes the line when the response leaves.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse

from dashboard.accounts.proxy import is_from_trusted_proxy
from dashboard.smsmobileapi.events import UpstreamCall

logger = logging.getLogger("dashboard.request")

REQUEST_ID_HEADER = "X-Request-ID"
# A proxy's id is echoed into logs and headers: accept only a plain token.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_fields: ContextVar[dict[str, Any] | None] = ContextVar("request_log_fields", default=None)
_memo: ContextVar[dict[Any, Any] | None] = ContextVar("request_memo", default=None)


def request_memo() -> dict[Any, Any] | None:
    """A dict living as long as the current request (None outside one), for decisions
    that must be taken once per request, whichever code path asks first."""
    return _memo.get()


def annotate(**fields: Any) -> None:
    """Add fields to the current request's log line (no-op outside a request)."""
    current = _fields.get()
    if current is not None:
        current.update(fields)


def request_log_field(name: str) -> Any:
    """A field already noted for the current request's log line (None outside one)."""
    current = _fields.get()
    return current.get(name) if current is not None else None


def observe_upstream_call(event: UpstreamCall) -> None:
    current = _fields.get()
    if current is None:
        return
    current["upstream_calls"] = current.get("upstream_calls", 0) + 1
    current["upstream_ms"] = round(current.get("upstream_ms", 0) + event.seconds * 1000, 1)
    current["upstream_outcome"] = event.outcome


def request_id_for(request: HttpRequest) -> str:
    """The trusted proxy's X-Request-ID when well-formed, else a new one."""
    sent = request.headers.get(REQUEST_ID_HEADER, "")
    if sent and _VALID_REQUEST_ID.match(sent) and is_from_trusted_proxy(request):
        return sent
    return uuid.uuid4().hex


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_for(request)
        request.request_id = request_id
        fields: dict[str, Any] = {"request_id": request_id}
        token = _fields.set(fields)
        memo_token = _memo.set({})
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        except Exception:
            fields["status"] = 500
            self._log(request, fields, started)
            raise
        finally:
            _fields.reset(token)
            _memo.reset(memo_token)
        response[REQUEST_ID_HEADER] = request_id
        fields["status"] = response.status_code
        self._log(request, fields, started)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs) -> None:
        # Which line and kind, never the query string: it may hold phone numbers.
        for name in ("line_id", "kind"):
            if name in view_kwargs:
                annotate(**{name: str(view_kwargs[name])})

    @staticmethod
    def _log(request: HttpRequest, fields: dict[str, Any], started: float) -> None:
        user = getattr(request, "user", None)
        fields.update(
            method=request.method,
            # The route, not the path: caller pages put a phone number in the path.
            path=_route(request),
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
            user=user.get_username() if user is not None and user.is_authenticated else "-",
            htmx=bool(getattr(request, "htmx", False)),
        )
        logger.info(
            "%s %s %s %.1fms",
            fields["method"],
            fields["path"],
            fields["status"],
            fields["duration_ms"],
            extra={"request": None, "fields": dict(fields)},
        )


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None and match.route:
        return "/" + match.route
    return request.path[:200]


class JsonFormatter(logging.Formatter):
    """One JSON object per line (LOG_FORMAT=json), request fields flattened in."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            payload.update(fields)
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


class PlainFormatter(logging.Formatter):
    """Human-readable lines; request fields appended as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            extras = " ".join(
                f"{k}={v}"
                for k, v in fields.items()
                if k not in ("method", "path", "status", "duration_ms")
            )
            line = f"{line} {extras}"
        return line
