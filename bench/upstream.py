"""The demo upstream, standalone, counting the requests it answers (for the benchmark only).

    python -m bench.upstream --port 0 --latency 0.15

Serves `dashboard.smsmobileapi.demo` exactly as `python -m dashboard.smsmobileapi.demo`
does, plus `GET /__stats` → `{"requests": N}`: how many provider calls the dashboard
made, so the benchmark can report upstream calls per 1,000 dashboard requests. The
counter lives here, not in the demo package, because no real provider has it.
"""

from __future__ import annotations

import argparse
import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

from dashboard.smsmobileapi.demo import DemoUpstream
from dashboard.smsmobileapi.demo.__main__ import make_server

STATS_PATH = "/__stats"


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
    args = parser.parse_args()
    app = CountingUpstream(DemoUpstream(latency=args.latency))
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
