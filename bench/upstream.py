"""The demo upstream, standalone, counting the requests it answers (for the benchmark only).

    python -m bench.upstream --port 0 --latency 0.15

Serves `dashboard.smsmobileapi.demo` exactly as `python -m dashboard.smsmobileapi.demo`
does, plus `GET /__stats` → `{"requests": N}`: how many provider calls the dashboard
made, so the benchmark can report upstream calls per 1,000 dashboard requests. The
counter lives here, not in the demo package, because no real provider has it.

Keys `demo-backlog-<n>` are the inbox part's lines (`backlog_history`): `--backlog-open`
missed calls from as many distinct callers, none called back, on a busy line.
"""

from __future__ import annotations

import argparse
import json
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from dashboard.smsmobileapi.demo import DemoCall, DemoUpstream
from dashboard.smsmobileapi.demo.__main__ import make_server
from dashboard.smsmobileapi.demo.data import visible_calls

STATS_PATH = "/__stats"
BACKLOG_PREFIX = "demo-backlog-"
BACKLOG_DAYS = 30  # the inbox's first-sync lookback (inbox/sync.py SYNC_LOOKBACK)
# A busy support line: besides the missed calls, an answered incoming call every 20
# minutes and an outgoing one every 30, around the clock, from people who are not in the
# backlog (so none of them closes a backlog caller) - more than a sync ever reads.
CONTACT_EVERY = {"incoming": timedelta(minutes=20), "outgoing": timedelta(minutes=30)}


def backlog_number(line: int, i: int) -> str:
    """The i-th backlog caller of line `line`: Belgian mobiles in +32 460, a prefix the
    demo history never uses."""
    return f"+32460{line % 100:02d}{i:04d}"


def backlog_history(
    open_callers: int, anchor: datetime
) -> Callable[[str, str, datetime], list[DemoCall]]:
    """The demo history, except for `demo-backlog-<n>` keys: `open_callers` missed calls,
    one every 40 minutes back from `anchor`, each from its own number; incoming and
    outgoing calls to and from other numbers only. Fixed to `anchor` (not the clock), so
    the provider's pages do not shift between a sync's chunk reads."""
    anchor = anchor.astimezone(UTC).replace(second=0, microsecond=0)

    @lru_cache(maxsize=256)
    def backlog(key: str, kind: str) -> tuple[DemoCall, ...]:
        digits = key.removeprefix(BACKLOG_PREFIX)
        line = int(digits) if digits.isdigit() else 0
        calls = []
        if kind == "missed":
            for i in range(open_callers):
                at = anchor - timedelta(minutes=40 * (i + 1))
                name = None if i % 5 == 4 else f"Caller {line}-{i}"
                calls.append(DemoCall(kind, backlog_number(line, i), name, at, 0, None, at))
        else:
            every = CONTACT_EVERY[kind]
            for i in range(int(timedelta(days=BACKLOG_DAYS) / every)):
                at = anchor - every * (i + 1) + timedelta(minutes=7)
                number = f"+32465{line % 100:02d}{i % 300:04d}"
                stored = at + timedelta(seconds=95)
                calls.append(DemoCall(kind, number, f"Contact {i % 300}", at, 95, None, stored))
        return tuple(calls)

    def history(key: str, kind: str, now: datetime) -> list[DemoCall]:
        if not key.startswith(BACKLOG_PREFIX):
            return visible_calls(key, kind, now)
        return [c for c in backlog(key, kind) if c.created_at <= now]

    return history


class CountingUpstream:
    """WSGI wrapper: counts every request except its own stats requests."""

    def __init__(self, app: DemoUpstream) -> None:
        self.app = app
        self.requests = 0
        self._lock = threading.Lock()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == STATS_PATH:
            with self._lock:
                body = json.dumps({"requests": self.requests}).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        with self._lock:
            self.requests += 1
        return self.app(environ, start_response)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.upstream")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.15)
    parser.add_argument(
        "--backlog-open",
        type=int,
        default=500,
        help="missed calls (one per caller) on each demo-backlog-<n> key",
    )
    args = parser.parse_args()
    history = backlog_history(args.backlog_open, datetime.now(UTC))
    app = CountingUpstream(DemoUpstream(latency=args.latency, history=history))
    server = make_server(args.host, args.port, app=app)  # type: ignore[arg-type]
    # wsgiref's default listen backlog (5) drops connections under a stampede.
    server.socket.listen(256)
    print(f"Demo upstream on http://{args.host}:{server.server_port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
