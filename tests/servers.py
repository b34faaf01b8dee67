"""Run WSGI apps on real loopback sockets for tests that need a network (timeouts, nginx)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from wsgiref.simple_server import make_server

from dashboard.smsmobileapi.demo.__main__ import QuietRequestHandler, ThreadingWSGIServer


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (for a server a test is about to start)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@contextmanager
def serve_wsgi(app: Callable[..., Any], host: str = "127.0.0.1") -> Iterator[str]:
    """Serve `app` on a free port in a thread; yields its base URL."""
    server = make_server(
        host, 0, app, server_class=ThreadingWSGIServer, handler_class=QuietRequestHandler
    )
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
