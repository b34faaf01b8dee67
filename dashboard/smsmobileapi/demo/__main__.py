"""Serve the demo upstream on a port: `python -m dashboard.smsmobileapi.demo --port 8001`.

For load tests and for trying the dashboard's real-network path. The server is wsgiref's,
threaded; it never logs request lines, because their query strings hold API keys.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
import threading
from socketserver import ThreadingMixIn
from types import FrameType
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer
from wsgiref.simple_server import make_server as _wsgiref_make_server
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dashboard.smsmobileapi.demo.app import DemoUpstream
from dashboard.smsmobileapi.demo.data import DEMO_KEYS

_QUERY_RE = re.compile(r"\?\S*")


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    # Daemon threads: a slow demo-slow request must not keep the process alive on exit.
    daemon_threads = True


class QuietRequestHandler(WSGIRequestHandler):
    """No access log; errors are logged with every query string cut off."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log_message(self, format: str, *args: object) -> None:
        message = _QUERY_RE.sub("?…", format % args)
        sys.stderr.write(f"{self.address_string()} - {message}\n")


def make_server(
    host: str = "127.0.0.1",
    port: int = 8001,
    *,
    latency: float = 0.0,
    timezone: str = "UTC",
    app: DemoUpstream | None = None,
) -> ThreadingWSGIServer:
    """A bound, not yet serving, threaded server for the demo upstream (port 0: any)."""
    app = app or DemoUpstream(latency=latency, timezone=timezone)
    server = _wsgiref_make_server(
        host, port, app, server_class=ThreadingWSGIServer, handler_class=QuietRequestHandler
    )
    assert isinstance(server, ThreadingWSGIServer)
    return server


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve(
    host: str = "127.0.0.1", port: int = 8001, latency: float = 0.0, timezone: str = "UTC"
) -> None:
    """Serve the demo upstream on HOST:PORT until SIGINT or SIGTERM."""
    server = make_server(host, port, latency=latency, timezone=timezone)
    print(f"Demo upstream on http://{host}:{server.server_port}", flush=True)
    previous = None
    # Signal handlers can only be installed from the main thread.
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise argparse.ArgumentTypeError(f"unknown time zone: {value!r}") from exc
    return value


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    keys = "\n".join(f"  {key:<18} {text}" for key, text in DEMO_KEYS.items())
    parser = argparse.ArgumentParser(
        prog="python -m dashboard.smsmobileapi.demo",
        description="Serve the built-in demo SMSMobileAPI upstream (call-history endpoints).",
        epilog=f"demo keys:\n{keys}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001, help="0 picks a free port")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to answers")
    parser.add_argument(
        "--timezone", type=_timezone, default="UTC", help="zone of missed-call dates"
    )
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.latency, args.timezone)


if __name__ == "__main__":
    main()
