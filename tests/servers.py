"""Run WSGI apps on real loopback sockets for tests that need a network (timeouts, nginx),
and the dashboard itself under gunicorn with its production configuration."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from wsgiref.simple_server import make_server

import httpx
import pytest

from dashboard.smsmobileapi.demo.__main__ import QuietRequestHandler, ThreadingWSGIServer


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (for a server a test is about to start)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@contextmanager
def refused_port(host: str = "127.0.0.1") -> Iterator[int]:
    """A port that refuses connections while the block lasts: bound but never listening,
    so no other process can start listening on it meanwhile (unlike an assumed port 9)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        yield sock.getsockname()[1]


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


ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).parent / "gunicorn")


@dataclass
class Gunicorn:
    """One dashboard under gunicorn; its log goes to a file (a pipe nobody reads would
    fill up and stall the server once enough requests are logged)."""

    process: subprocess.Popen
    url: str
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_until_answers(self, path: str = "/readyz", timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn exited: {self.log_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}{path}", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        pytest.fail(f"{self.url}{path} did not answer 200 within {timeout:.0f} s")

    def stop(self) -> int:
        """SIGTERM (gunicorn's graceful shutdown); the exit status."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def start_gunicorn(env: dict[str, str], log: Path) -> Gunicorn:
    """The dashboard under gunicorn with dashboard/gunicorn.conf.py, on a free port."""
    port = free_port()
    bind = f"127.0.0.1:{port}"
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [GUNICORN, "--config", "dashboard/gunicorn.conf.py", "--bind", bind, "dashboard.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
    return Gunicorn(process=process, url=f"http://127.0.0.1:{port}", log=log)
