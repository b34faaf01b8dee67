"""The dashboard's processes, started together by `make demo` and `make serve`.

`python -m dashboard.ops.processes [--bind HOST:PORT]` starts every process in
`processes()` (the web server, the background worker and the live process), forwards SIGTERM/SIGINT/SIGHUP
to each, and when any one of them exits stops all the others, then exits with the
status of the one that ended first (a crash is not hidden behind a running web server).

Why a small module rather than honcho or supervisord: three processes, no log
multiplexing needed (each child writes its own lines in the app's log format to the same
stdout/stderr), and the same interpreter and environment for all of them. In containers
each process is its own service instead (docker-compose.yml: `app1`, `app2`, `worker`).

Adding a process is one entry in `processes()`.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent
# Seconds each process has to stop after SIGTERM before it is killed: gunicorn's own
# graceful timeout plus a margin, so a request in flight can finish.
STOP_TIMEOUT = float(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20")) + 5


@dataclass(frozen=True)
class Process:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)  # on top of this process's own


def processes(bind: str | None, *, single_port: bool = False) -> list[Process]:
    """Every process the dashboard runs on one machine; one line each.

    `live` streams new calls to open tables (ASGI, dashboard/live/); a proxy routes
    `/lines/<id>/live/` to LIVE_BIND. `single_port` (make demo, no proxy): the live
    process serves the pages too, on `bind`, and no WSGI server runs.
    """
    bind_args = ["--bind", bind] if bind else []
    gunicorn = [str(BIN / "gunicorn"), "--config", "dashboard/gunicorn.conf.py"]
    live = [
        *gunicorn,
        "--worker-class",
        "dashboard.live.worker.LiveWorker",
        # One event loop holds every open stream; more workers only for very many.
        "--workers",
        os.environ.get("LIVE_WORKERS", "1"),
    ]
    worker = Process("worker", [sys.executable, "manage.py", "run_worker"])
    app = "dashboard.live.asgi:application"
    if single_port:
        # The pages' database work runs on the WSGI bridge's own threads (persistent
        # connections as under gunicorn); the stream's is short and rare.
        return [Process("web", [*live, *bind_args, app]), worker]
    live_bind = os.environ.get("LIVE_BIND", "127.0.0.1:8002")
    return [
        Process("web", [*gunicorn, *bind_args, "dashboard.wsgi"]),
        worker,
        # Django's ASGI handler gives each request a thread of its own: a database
        # connection kept open there would outlive its thread.
        Process("live", [*live, "--bind", live_bind, app], env={"CONN_MAX_AGE": "0"}),
    ]


def demo_webhooks(bind: str) -> Process:
    """The demo's provider pushing new calls to the dashboard itself (make demo only)."""
    return Process(
        "demo-webhooks", [sys.executable, "manage.py", "deliver_demo_webhooks", "--to", bind]
    )


class Supervisor:
    """Start processes, forward signals to them, stop all when one ends."""

    def __init__(self, wanted: list[Process]) -> None:
        self.wanted = wanted
        self.running: dict[str, subprocess.Popen] = {}
        self.stopping = False

    def start(self) -> None:
        for process in self.wanted:
            # Each child in its own process group: a Ctrl+C in the terminal reaches this
            # supervisor only, which then stops the children in order (never twice).
            child = subprocess.Popen(  # noqa: S603
                process.argv, cwd=ROOT, start_new_session=True, env={**os.environ, **process.env}
            )
            self.running[process.name] = child
            print(f"processes: started {process.name} (pid {child.pid})", file=sys.stderr)

    def forward(self, signum: int, _frame: object = None) -> None:
        if signum in (signal.SIGTERM, signal.SIGINT):
            self.stopping = True
            signum = signal.SIGTERM
        for child in self.running.values():
            if child.poll() is None:
                child.send_signal(signum)

    def wait(self) -> int:
        """Block until one process ends; stop the rest; the status of the first to end."""
        first_status: int | None = None
        while first_status is None:
            for name, child in self.running.items():
                status = child.poll()
                if status is not None:
                    if not self.stopping:
                        print(
                            f"processes: {name} exited with status {status}; stopping the others",
                            file=sys.stderr,
                        )
                    first_status = status
                    break
            else:
                time.sleep(0.2)
        self.stop_all()
        # Asked to stop, every child that stopped cleanly means success.
        if self.stopping and all(
            c.returncode in (0, -signal.SIGTERM) for c in self.running.values()
        ):
            return 0
        return first_status if first_status >= 0 else 128 - first_status

    def stop_all(self) -> None:
        for child in self.running.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for name, child in self.running.items():
            try:
                child.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"processes: {name} did not stop in time; killing it", file=sys.stderr)
                child.kill()
                child.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--bind", help="address for the web server (default: GUNICORN_BIND)")
    parser.add_argument(
        "--only", action="append", help="start only this process (repeatable), e.g. web"
    )
    parser.add_argument(
        "--single-port",
        action="store_true",
        help="one port for pages and live streams (no proxy in front), as make demo runs",
    )
    parser.add_argument(
        "--demo-webhooks",
        action="store_true",
        help="also deliver a signed webhook for a new demo call every 30-60 s (make demo)",
    )
    args = parser.parse_args(argv)
    if args.single_port:
        os.environ["LIVE_SERVES_PAGES"] = "true"  # read by the live process's settings
    every = processes(args.bind, single_port=args.single_port)
    if args.demo_webhooks:
        every.append(demo_webhooks(args.bind or "127.0.0.1:8000"))
    wanted = [p for p in every if not args.only or p.name in args.only]
    supervisor = Supervisor(wanted)
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, supervisor.forward)
    supervisor.start()
    return supervisor.wait()


if __name__ == "__main__":
    sys.exit(main())
