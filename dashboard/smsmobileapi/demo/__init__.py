"""The built-in demo upstream: a faithful fake of SMSMobileAPI's call-history endpoints.

Plain Python (no Django, no httpx). `DemoUpstream` is a WSGI app serving
`/call/missed/list/`, `/call/incoming/list/` and `/call/outgoing/list/` over generated,
deterministic call history; the dashboard calls it in-process through
`httpx.WSGITransport`, and `python -m dashboard.smsmobileapi.demo` serves it on a port.

Demo keys (any key shaped `demo-[a-z0-9-]{1,40}` is accepted; the special ones below
answer the way the contract says the provider or a real network can):

- `demo-support`, `demo-sales`, or any other `demo-<name>`: a realistic line whose
  history (a few thousand calls over the last 120 days) is seeded by the key.
- `demo-empty`: valid, no calls at all.
- `demo-invalid` and any key not shaped `demo-...`: 403 `invalid_apikey`.
- `demo-expired`: incoming/outgoing 403 `api_expired`; missed still lists calls.
- `demo-failing`: 500 `server_error` with an SQLSTATE detail, on all three endpoints.
- `demo-ratelimited`: 429 `rate_limited` with `Retry-After: 30`.
- `demo-slow`: answers normally after `slow_seconds` (15 s by default).
- `demo-broken`: 502 with an HTML page, like a load balancer.
- `demo-truncated`: 200 with the first half of a valid JSON body.
- `demo-hostile`: valid; names and locations are hostile text (markup, quotes, entities,
  emoji, CJK, RTL, control characters, formula injection, 5,000 characters, null/empty).
- `demo-drift`: valid; schema drift (numbers as strings, missing and extra fields, null
  names, a non-numeric duration).

`DEMO_KEYS` maps each of these names to a one-line description.
"""

from __future__ import annotations

from dashboard.smsmobileapi.demo.app import DemoUpstream, RecordedRequest
from dashboard.smsmobileapi.demo.data import (
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
    DemoCall,
    generate_calls,
    is_demo_key,
)


def serve(
    host: str = "127.0.0.1", port: int = 8001, latency: float = 0.0, timezone: str = "UTC"
) -> None:
    """Serve the demo upstream on HOST:PORT until SIGINT/SIGTERM (see `__main__`)."""
    from dashboard.smsmobileapi.demo.__main__ import serve as _serve

    _serve(host=host, port=port, latency=latency, timezone=timezone)


__all__ = [
    "DEMO_KEYS",
    "DEMO_KEY_BROKEN",
    "DEMO_KEY_DRIFT",
    "DEMO_KEY_EMPTY",
    "DEMO_KEY_EXPIRED",
    "DEMO_KEY_FAILING",
    "DEMO_KEY_HOSTILE",
    "DEMO_KEY_INVALID",
    "DEMO_KEY_RATELIMITED",
    "DEMO_KEY_SALES",
    "DEMO_KEY_SLOW",
    "DEMO_KEY_SUPPORT",
    "DEMO_KEY_TRUNCATED",
    "DemoCall",
    "DemoUpstream",
    "RecordedRequest",
    "generate_calls",
    "is_demo_key",
    "serve",
]
