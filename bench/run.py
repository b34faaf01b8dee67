"""The benchmark harness: `make bench` (or `python bench/run.py --help`).

In one run on one machine it starts the demo upstream standalone with an injected
latency, starts the dashboard under its production server (gunicorn with
dashboard/gunicorn.conf.py) on a throwaway SQLite database, drives simulated support
staff (threads with httpx, logged in by session cookie) and writes bench/results.json
and bench/results.md. Two references are measured in the same run, so the targets are
ratios that hold on a noisy machine: the upstream alone (the floor for a miss) and a
static file of the table's size served by the same gunicorn and whitenoise (the floor
for a hit).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import gzip
import json
import math
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `bench.report` importable
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.proctree import tree_cpu_seconds  # noqa: E402
from bench.report import (  # noqa: E402
    Verdict,
    at_least,
    at_most,
    distinct_views,
    exactly,
    latency_summary,
    markdown_table,
    table_rows,
)

PY = sys.executable
GUNICORN = str(Path(PY).with_name("gunicorn"))
REDIS_DEFAULT = "redis://127.0.0.1:6379/15"
STATIC_NAME = "bench-table.html"


# Processes --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_reachable(url: str) -> bool:
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        return True
    except Exception:
        return False


@dataclass
class Stack:
    """The upstream and the dashboard, started and stopped together."""

    tmp: Path
    latency: float
    cache_url: str
    workers: int | None
    threads: int | None = None
    backlog_open: int = 500  # missed calls on each demo-backlog-<n> key (the inbox part)
    upstream_url: str = ""
    app_url: str = ""
    plain_url: str = ""
    processes: list[subprocess.Popen] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    gunicorn: subprocess.Popen | None = None
    plain: subprocess.Popen | None = None

    def start_upstream(self) -> None:
        proc = subprocess.Popen(
            [
                *(PY, "-m", "bench.upstream", "--port", "0", "--latency", str(self.latency)),
                *("--backlog-open", str(self.backlog_open)),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.processes.append(proc)
        first = proc.stdout.readline().strip() if proc.stdout else ""
        match = re.search(r"(http://[\d.]+:\d+)", first)
        if not match:
            raise SystemExit(f"bench: the demo upstream did not start ({first!r})")
        self.upstream_url = match.group(1)

    def prepare_app(self, users: int) -> dict[str, Any]:
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "GUNICORN_", "PROMETHEUS_"))
        }
        port = free_port()
        self.app_url = f"http://127.0.0.1:{port}"
        self.env.update(
            DJANGO_SETTINGS_MODULE="dashboard.settings",
            # Throwaway secrets: nothing of this run outlives it.
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            FIELD_ENCRYPTION_KEYS=base64.urlsafe_b64encode(os.urandom(32)).decode(),
            DJANGO_SECURE="false",
            DATA_DIR=str(self.tmp),
            DATABASE_URL=f"sqlite:///{self.tmp / 'bench.sqlite3'}",
            SMSMOBILEAPI_BASE_URL=self.upstream_url,
            GUNICORN_BIND=f"127.0.0.1:{port}",
            BENCH_USERS=str(users),
        )
        # "locmem" is said, not left to the default (now the disk cache in DATA_DIR);
        # "default" leaves CACHE_URL unset: the default install, whatever its cache is.
        self.env.pop("CACHE_URL", None)
        if self.cache_url != "default":
            self.env["CACHE_URL"] = (
                "locmemcache://bench" if self.cache_url == "locmem" else self.cache_url
            )
        if self.workers:
            self.env["WEB_CONCURRENCY"] = str(self.workers)
        if self.threads:
            self.env["GUNICORN_THREADS"] = str(self.threads)
        self.manage("migrate", "--noinput", "--verbosity", "0")
        self.manage("collectstatic", "--noinput", "--verbosity", "0")
        seeded = self.manage("shell", "-c", (ROOT / "bench" / "seed.py").read_text())
        return json.loads(seeded.strip().splitlines()[-1])

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [PY, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise SystemExit(f"bench: manage.py {args[0]} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def start_app(self) -> None:
        log = (self.tmp / "gunicorn.log").open("ab")
        self.gunicorn = subprocess.Popen(
            [GUNICORN, "--config", "dashboard/gunicorn.conf.py", "dashboard.wsgi"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(self.gunicorn)
        self.wait_for(f"{self.app_url}/accounts/login/")

    def start_plain(self, lines: dict[str, int]) -> None:
        """The plain proxy (bench/plain_proxy.py) on the same provider, database and users,
        under the same gunicorn settings (workers, threads) as the dashboard."""
        port = free_port()
        self.plain_url = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in self.env.items() if k != "DJANGO_SETTINGS_MODULE"}
        env.update(
            GUNICORN_BIND=f"127.0.0.1:{port}",
            DATABASE_PATH=str(self.tmp / "bench.sqlite3"),
            BENCH_PLAIN_LINES=json.dumps({str(pk): key for key, pk in lines.items()}),
        )
        log = (self.tmp / "plain.log").open("ab")
        self.plain = subprocess.Popen(
            [GUNICORN, "--config", "bench/plain_gunicorn.py", "bench.plain_proxy:application"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(self.plain)
        self.wait_for(f"{self.plain_url}/accounts/login/", self.plain, "plain.log")

    def reload_app(self, probe: str) -> None:
        """SIGHUP: gunicorn starts new workers, which see new static files."""
        assert self.gunicorn is not None
        self.gunicorn.send_signal(signal.SIGHUP)
        time.sleep(1.0)
        self.wait_for(probe)

    def wait_for(
        self,
        url: str,
        server: subprocess.Popen | None = None,
        log: str = "gunicorn.log",
        timeout: float = 60,
    ) -> None:
        server = server or self.gunicorn
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            if server is not None and server.poll() is not None:
                break
            time.sleep(0.2)
        tail = (self.tmp / log).read_text(errors="replace")[-3000:]
        raise SystemExit(f"bench: {url} did not answer.\n{tail}")

    def upstream_requests(self) -> int:
        return httpx.get(f"{self.upstream_url}/__stats", timeout=5).json()["requests"]

    def stop(self) -> None:
        for proc in reversed(self.processes):
            if proc.poll() is None:
                proc.terminate()
        for proc in self.processes:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


# Requests ---------------------------------------------------------------------------------


@dataclass
class Sample:
    seconds: float
    status: int
    wire_bytes: int
    body: bytes


def new_client(session: str, app_url: str) -> httpx.Client:
    client = httpx.Client(base_url=app_url, timeout=60, headers={"Accept-Encoding": "gzip"})
    client.cookies.set("sessionid", session, domain="127.0.0.1")
    return client


def timed_get(client: httpx.Client, url: str, *, htmx: bool = False) -> Sample:
    headers = {"HX-Request": "true"} if htmx else {}
    started = time.perf_counter()
    response = client.get(url, headers=headers)
    body = response.content
    return Sample(
        time.perf_counter() - started, response.status_code, response.num_bytes_downloaded, body
    )


def calls_url(line: int, kind: str, **params: object) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"/lines/{line}/{kind}/" + (f"?{query}" if query else "")


def sequential(client: httpx.Client, urls: list[str], *, htmx: bool) -> list[Sample]:
    samples = []
    for url in urls:
        sample = timed_get(client, url, htmx=htmx)
        if sample.status != 200:
            raise SystemExit(f"bench: {url} answered {sample.status}")
        samples.append(sample)
    return samples


# The mix ----------------------------------------------------------------------------------


SEARCHES = ("", "", "", "+32 47", "Marie", "0470", "Dupont")
RANGES = (None, None, 0, 7, 30)  # days back; 0 = today only; None = any date
SORTS = ("date", "duration", "name", "number")


class SimulatedUser:
    """One support person: opens a line, filters, pages, sorts, comes back to earlier views."""

    def __init__(self, lines: list[int], seed: int, today: date) -> None:
        self.random = random.Random(seed)
        self.lines = lines
        self.today = today
        self.history: list[tuple[str, bool]] = []
        self.view: dict[str, Any] = {}

    def next_request(self) -> tuple[str, bool]:
        r = self.random.random()
        if not self.view or r < 0.12:  # open a line (full page)
            self.view = {
                "line": self.random.choice(self.lines),
                "kind": self.random.choice(("missed", "missed", "incoming", "outgoing")),
            }
            request = (self._url(), False)
        elif r < 0.38:  # change a filter
            self.view.pop("page", None)
            if self.random.random() < 0.5:
                self.view["q"] = self.random.choice(SEARCHES)
            else:
                days = self.random.choice(RANGES)
                self.view["from"] = (
                    None if days is None else (self.today - timedelta(days=days)).isoformat()
                )
                self.view["to"] = None if days is None else self.today.isoformat()
            request = (self._url(), True)
        elif r < 0.58:  # next or previous page
            page = self.view.get("page", 1)
            self.view["page"] = max(
                1, page + (1 if page == 1 or self.random.random() < 0.7 else -1)
            )
            request = (self._url(), True)
        elif r < 0.72 and self.view["kind"] != "missed":  # sort by a column
            self.view["sort"] = self.random.choice(SORTS)
            self.view["dir"] = self.random.choice(("asc", "desc"))
            self.view.pop("page", None)
            request = (self._url(), True)
        elif r < 0.98 and self.history:  # back to a view seen earlier
            request = self.random.choice(self.history[-20:])
        else:  # the Refresh button
            request = (self._url(refresh=1), True)
        if "refresh=" not in request[0]:
            self.history.append(request)
        return request

    def _url(self, **extra: object) -> str:
        params = {k: v for k, v in self.view.items() if k not in ("line", "kind")}
        return calls_url(self.view["line"], self.view["kind"], **params, **extra)


class TeamMember:
    """One agent of a team sharing one line: back to its first pages all day, mostly Missed,
    now and then page 2 or a search everyone makes."""

    SEARCHES = ("Marie", "0470", "Dupont")

    def __init__(self, line: int, seed: int) -> None:
        self.random = random.Random(seed)
        self.line = line

    def next_request(self) -> tuple[str, bool]:
        r = self.random.random()
        if r < 0.80:  # a first page: a tab link or a reload (full page), else htmx (Newest)
            kind = "missed" if r < 0.55 else "incoming" if r < 0.70 else "outgoing"
            return calls_url(self.line, kind), self.random.random() < 0.3
        kind = self.random.choice(("missed", "incoming"))
        if r < 0.90:  # a little page 2 (the pager is htmx)
            return calls_url(self.line, kind, page=2), True
        return calls_url(self.line, kind, q=self.random.choice(self.SEARCHES)), True


_ERROR_BANNER = re.compile(rb"<[a-z]+\b[^>]*\bbanner-error\b[^>]*>")
_HIDDEN = re.compile(rb"\shidden(?:[\s=>/]|$)")


def shows_error_banner(body: bytes) -> bool:
    """Whether a page shows an error banner: every full page carries the htmx error
    banners, hidden until a request fails, which are not the page's news."""
    return any(not _HIDDEN.search(tag.group()) for tag in _ERROR_BANNER.finditer(body))


@dataclass
class LoadResult:
    users: int
    seconds: float
    latencies: list[float]
    errors: int
    error_banners: int
    upstream_calls: int
    urls: list[str] = field(default_factory=list)
    cpu_seconds: float | None = None

    def as_dict(self) -> dict[str, Any]:
        n = len(self.latencies)
        summary: dict[str, Any] = {
            "users": self.users,
            "requests": n,
            "seconds": round(self.seconds, 2),
            "rps": round(n / self.seconds, 1),
            "errors": self.errors,
            "pages_with_an_upstream_error_banner": self.error_banners,
            "upstream_calls": self.upstream_calls,
            "upstream_calls_per_1000": round(1000 * self.upstream_calls / max(n, 1), 1),
            "latency": latency_summary(self.latencies),
        }
        if self.cpu_seconds is not None:  # the cost part: views and the server's CPU
            views = distinct_views(self.urls)
            summary["distinct_views"] = views
            summary["upstream_calls_per_distinct_view"] = round(
                self.upstream_calls / max(views, 1), 3
            )
            summary["server_cpu_s"] = round(self.cpu_seconds, 3)
            summary["server_cpu_ms_per_request"] = round(1000 * self.cpu_seconds / max(n, 1), 3)
        return summary


def drive(
    app_url: str,
    count_upstream: Callable[[], int],
    sessions: list[str],
    person: Callable[[int], Any],
    users: int,
    duration: float,
    *,
    server_pid: int | None = None,
    settle: float = 0.0,
) -> LoadResult:
    """`users` threads, each a `person(n)` with its own session, for `duration` seconds.

    With `server_pid`, the server's process-tree CPU is read before and after; `settle`
    seconds after the last answer let work the requests left behind (a background
    refresh) land in both counts.
    """
    latencies: list[float] = []
    urls: list[str] = []
    errors = banners = 0
    lock = threading.Lock()
    stop_at = 0.0
    barrier = threading.Barrier(users + 1)

    def user(n: int) -> None:
        nonlocal errors, banners
        someone = person(n)
        with new_client(sessions[n % len(sessions)], app_url) as client:
            client.get("/accounts/login/")  # connected before the clock starts
            barrier.wait()
            while time.monotonic() < stop_at:
                url, htmx = someone.next_request()
                try:
                    sample = timed_get(client, url, htmx=htmx)
                except httpx.HTTPError:
                    with lock:
                        errors += 1
                    continue
                with lock:
                    latencies.append(sample.seconds)
                    if sample.status != 200:
                        errors += 1
                    else:
                        urls.append(url)
                        if shows_error_banner(sample.body):
                            banners += 1

    threads = [threading.Thread(target=user, args=(n,), daemon=True) for n in range(users)]
    for thread in threads:
        thread.start()
    before = count_upstream()
    cpu_before = tree_cpu_seconds(server_pid) if server_pid else 0.0
    stop_at = time.monotonic() + duration
    started = time.monotonic()
    barrier.wait()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    time.sleep(settle)
    cpu = tree_cpu_seconds(server_pid) - cpu_before if server_pid else None
    return LoadResult(
        users, elapsed, latencies, errors, banners, count_upstream() - before, urls, cpu
    )


def run_load(
    stack: Stack, sessions: list[str], lines: list[int], users: int, duration: float, seed: int
) -> LoadResult:
    today = datetime.now(UTC).date()
    return drive(
        stack.app_url,
        stack.upstream_requests,
        sessions,
        lambda n: SimulatedUser(lines, seed * 1000 + n, today),
        users,
        duration,
    )


def stampede(
    stack: Stack, sessions: list[str], url: str, count: int, app_url: str = ""
) -> dict[str, Any]:
    """`count` identical cold requests released at once (to the dashboard by default)."""
    app_url = app_url or stack.app_url
    barrier = threading.Barrier(count)
    results: list[Sample | None] = [None] * count

    def hit(n: int) -> None:
        with new_client(sessions[n % len(sessions)], app_url) as client:
            client.get("/accounts/login/")  # connect before the barrier: same-instant requests
            barrier.wait()
            with contextlib.suppress(httpx.HTTPError):
                results[n] = timed_get(client, url, htmx=True)

    before = stack.upstream_requests()
    threads = [threading.Thread(target=hit, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ok = [r for r in results if r is not None and r.status == 200]
    return {
        "requests": count,
        "errors": count - len(ok),
        "upstream_calls": stack.upstream_requests() - before,
        "latency": latency_summary([r.seconds for r in ok]),
    }


# Server cost against the plain proxy ------------------------------------------------------

# The setting: gunicorn 4 workers x 4 threads, ten logged-in users, a provider that
# answers at once (latency 0: what is measured is our CPU, not waiting).
COST_WORKERS, COST_THREADS, COST_USERS = 4, 4, 10
# After a mix, time for what its requests started in the background (a stale entry's
# refresh) to finish, so its provider calls and CPU are counted with the mix.
SETTLE_S = 1.0
MIXES = {
    "team": "ten users on one line's first pages (mostly Missed; some Incoming/Outgoing, "
    "a little page 2, a few popular searches)",
    "browse": "ten users each exploring on their own (two lines; searches, dates, sorts, "
    "pages, back to earlier views, Refresh now and then)",
}


def measure_cost(args: argparse.Namespace, name: str, cache_url: str) -> dict[str, Any]:
    """One install (`cache_url`; "default" = no CACHE_URL): both mixes on the dashboard and
    on the plain proxy, then the stampede and the row weights, all on one fake provider."""
    tmp = Path(tempfile.mkdtemp(prefix="calls-bench-cost-"))
    stack = Stack(
        tmp=tmp, latency=0.0, cache_url=cache_url, workers=COST_WORKERS, threads=COST_THREADS
    )
    today = datetime.now(UTC).date()
    try:
        progress(f"{name}: starting the provider, the dashboard and the plain proxy")
        stack.start_upstream()
        seeded = stack.prepare_app(COST_USERS)
        stack.start_app()
        stack.start_plain(seeded["lines"])
        assert stack.gunicorn is not None and stack.plain is not None
        sessions, lines = seeded["sessions"], seeded["lines"]
        team_line, browse_lines = lines["demo-team"], [lines["demo-support"], lines["demo-sales"]]
        people: dict[str, Callable[[int], Any]] = {
            "team": lambda n: TeamMember(team_line, seed=n),
            "browse": lambda n: SimulatedUser(browse_lines, 7000 + n, today),
        }
        servers = {
            "dashboard": (stack.app_url, stack.gunicorn.pid),
            "plain_proxy": (stack.plain_url, stack.plain.pid),
        }
        mixes: dict[str, Any] = {}
        for mix, person in people.items():
            mixes[mix] = {}
            for side, (url, pid) in servers.items():
                progress(f"{name}: {mix} mix on the {side.replace('_', ' ')}")
                mixes[mix][side] = drive(
                    url,
                    stack.upstream_requests,
                    sessions,
                    person,
                    COST_USERS,
                    args.mix_duration,
                    server_pid=pid,
                    settle=SETTLE_S,
                ).as_dict()
            mixes[mix]["cpu_ratio"] = cpu_ratio(mixes[mix])

        progress(f"{name}: stampede of {args.stampede}")
        cold = calls_url(team_line, "incoming", q=f"{random.randint(100, 999)}", sort="duration")
        crowd = {
            side: stampede(stack, sessions, cold, args.stampede, app_url=url)
            for side, (url, _) in servers.items()
        }

        weights: dict[str, dict[str, Any]] = {}
        for side, (url, _) in servers.items():
            with new_client(sessions[0], url) as client:
                weights[side] = {
                    kind: row_weight(
                        timed_get(client, calls_url(team_line, kind, per_page=50), htmx=True).body
                    )
                    for kind in ("missed", "incoming")
                }
    finally:
        stack.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "name": name,
        "cache": cache_label(cache_url),
        "server": f"{COST_WORKERS} workers x {COST_THREADS} threads (gthread)",
        "users": COST_USERS,
        "mix_seconds": args.mix_duration,
        "mixes": mixes,
        "stampede": crowd,
        "row_weight": weights["dashboard"],
        # For scale: the plain proxy's bare table of the same rows.
        "plain_proxy_row_weight": weights["plain_proxy"],
    }


def cache_label(cache_url: str) -> str:
    """ "default" stands for no CACHE_URL: the settings' default, whatever it is today."""
    if cache_url == "default":
        return "default (no CACHE_URL)"
    return cache_url if cache_url == "locmem" else cache_url.split("://")[0]


def cpu_ratio(mix: dict[str, Any]) -> float:
    """How many times cheaper a request is on the dashboard than on the plain proxy."""
    ours = mix["dashboard"]["server_cpu_ms_per_request"]
    theirs = mix["plain_proxy"]["server_cpu_ms_per_request"]
    return round(theirs / ours, 2) if ours > 0 else math.inf


def row_weight(body: bytes) -> dict[str, Any]:
    rows = table_rows(body.decode("utf-8", errors="replace"))
    return {
        "html_bytes": len(body),
        "rows": rows,
        "bytes_per_row": round(len(body) / rows, 1) if rows else math.inf,
    }


# Targets of issue #15, for each install measured.
CPU_TARGETS = {"team": 8.0, "browse": 3.0}
CALLS_PER_VIEW_TARGET = 1.05
ROW_TARGETS = {"missed": 600, "incoming": 500}


def cost_verdicts(cost: list[dict[str, Any]]) -> list[Verdict]:
    checks = []
    for install in cost:
        name = install["name"]
        for mix, target in CPU_TARGETS.items():
            checks.append(
                at_least(
                    f"{name}, {mix} mix: server CPU per request, plain proxy / dashboard",
                    install["mixes"][mix]["cpu_ratio"],
                    target,
                )
            )
        for mix in CPU_TARGETS:
            checks.append(
                at_most(
                    f"{name}, {mix} mix: provider calls per distinct view",
                    install["mixes"][mix]["dashboard"]["upstream_calls_per_distinct_view"],
                    CALLS_PER_VIEW_TARGET,
                    unit="calls",
                )
            )
        crowd = install["stampede"]["dashboard"]
        checks.append(
            exactly(
                f"{name}: stampede of {crowd['requests']} makes 1 provider call",
                crowd["upstream_calls"],
                1,
            )
        )
        for mix in CPU_TARGETS:
            for side in ("dashboard", "plain_proxy"):
                # Errors on the reference would make its CPU per request meaningless.
                errors = install["mixes"][mix][side]["errors"]
                where = side.replace("_", " ")
                checks.append(exactly(f"{name}, {mix} mix: errors on the {where}", errors, 0))
    if cost:  # the markup does not depend on the cache: judged once, on the first install
        for kind, limit in ROW_TARGETS.items():
            weight = cost[0]["row_weight"][kind]
            checks.append(
                at_most(
                    f"{kind} tab, {weight['rows']}-row htmx partial: bytes per row",
                    weight["bytes_per_row"],
                    limit,
                    unit="B",
                )
            )
    return checks


def cost_markdown(cost: list[dict[str, Any]]) -> list[str]:
    out = [
        "## Server cost per request: the dashboard against a plain proxy",
        "",
        "Each install runs the dashboard and bench/plain_proxy.py (no cache, a new HTTP client "
        "per request, one provider call and a simple table) under the same gunicorn settings, "
        "on one fake provider answering at once; CPU is the server's process tree "
        "(master + workers, /proc), read before and after each mix.",
        "",
        *[f"- *{mix} mix*: {text}." for mix, text in MIXES.items()],
        "",
    ]
    for install in cost:
        out += [
            f"### {install['name']} — cache {install['cache']}, {install['server']}, "
            f"{install['users']} users, {install['mix_seconds']:g} s per mix",
            "",
        ]
        rows = []
        for mix, sides in install["mixes"].items():
            for side in ("dashboard", "plain_proxy"):
                r = sides[side]
                rows.append(
                    [
                        mix,
                        side.replace("_", " "),
                        r["requests"],
                        r["rps"],
                        r["errors"],
                        r["latency"]["p50_ms"],
                        r["latency"]["p95_ms"],
                        r["server_cpu_ms_per_request"],
                        r["upstream_calls"],
                        r["distinct_views"],
                        r["upstream_calls_per_distinct_view"],
                    ]
                )
        out += [
            markdown_table(
                [
                    "mix",
                    "server",
                    "requests",
                    "req/s",
                    "errors",
                    "p50 ms",
                    "p95 ms",
                    "CPU ms / request",
                    "provider calls",
                    "distinct views",
                    "calls / distinct view",
                ],
                rows,
            ),
            "",
            "CPU per request, plain proxy / dashboard: "
            + "; ".join(
                f"{mix} mix **{sides['cpu_ratio']:.2f}×**"
                for mix, sides in install["mixes"].items()
            )
            + ".",
            "",
        ]
        crowd = install["stampede"]
        out += [
            f"Stampede of {crowd['dashboard']['requests']} identical cold requests at once: "
            f"dashboard **{crowd['dashboard']['upstream_calls']}** provider call(s) "
            f"({crowd['dashboard']['errors']} errors), plain proxy "
            f"{crowd['plain_proxy']['upstream_calls']}.",
            "",
            "Row weight (50-row htmx partial): "
            + "; ".join(
                f"{kind} {w['html_bytes']:,} bytes / {w['rows']} rows = "
                f"**{w['bytes_per_row']:,.0f} B/row**"
                for kind, w in install["row_weight"].items()
            )
            + " (the plain proxy's bare table: "
            + "; ".join(
                f"{kind} {w['bytes_per_row']:,.0f} B/row over {w['rows']} rows"
                for kind, w in install.get("plain_proxy_row_weight", {}).items()
            )
            + ").",
            "",
        ]
    return out


# The run ----------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        for text_line in Path("/proc/cpuinfo").read_text().splitlines():
            if text_line.startswith("model name"):
                cpu = text_line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, IndexError, ValueError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 1024 / 1024:.1f} GiB"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def measure(args: argparse.Namespace, stack: Stack, seeded: dict[str, Any]) -> dict[str, Any]:
    sessions: list[str] = seeded["sessions"]
    support, sales = seeded["lines"]["demo-support"], seeded["lines"]["demo-sales"]
    today = datetime.now(UTC).date()
    client = new_client(sessions[0], stack.app_url)
    # The incoming tab: one upstream request per table. (The missed tab also reads the
    # line's recent incoming/outgoing calls for its follow-up column; the mix covers it.)
    hit_url = calls_url(support, "incoming")

    # The static reference: a file the size of the table partial, served by whitenoise.
    partial = timed_get(client, hit_url, htmx=True)
    static_dir = ROOT / "staticfiles" / "bench"
    static_dir.mkdir(parents=True, exist_ok=True)
    (static_dir / STATIC_NAME).write_bytes(partial.body)
    static_url = f"/static/bench/{STATIC_NAME}"
    stack.reload_app(stack.app_url + static_url)
    client.close()
    client = new_client(sessions[0], stack.app_url)

    # Each measured request alternates with its reference, one of each in turn: on a shared
    # machine whose speed drifts from minute to minute, both sides of a ratio then see the
    # same conditions. (Measured in blocks, one after the other, the hit/static ratio moved
    # between 3.0 and 4.6 from run to run on one machine.)
    progress("hits against the static file")
    timed_get(client, hit_url, htmx=True)  # make sure it is cached
    before = stack.upstream_requests()
    static_samples, hit_samples = [], []
    for _ in range(args.samples_hit):
        static_samples.extend(sequential(client, [static_url], htmx=False))
        hit_samples.extend(sequential(client, [hit_url], htmx=True))
    hit_upstream = stack.upstream_requests() - before

    # Misses: a different date range every time, each a full page of calls; the reference
    # is the same query sent straight to the provider.
    progress("misses against the upstream alone")
    upstream_samples, miss_samples = [], []
    before = stack.upstream_requests()
    with httpx.Client(base_url=stack.upstream_url, timeout=30) as upstream:
        for i in range(args.samples_miss):
            since = today - timedelta(days=20 + i)
            params = {
                "apikey": "demo-support",
                "offset": "0",
                "limit": "51",
                "date_from_ms": str(
                    int(datetime.combine(since, datetime.min.time(), UTC).timestamp() * 1000)
                ),
                "sort_by": "call_date_ms",
                "sort_dir": "desc",
            }
            started = time.perf_counter()
            upstream.get("/call/incoming/list/", params=params).raise_for_status()
            upstream_samples.append(time.perf_counter() - started)
            miss_url = calls_url(support, "incoming", **{"from": since.isoformat()})
            miss_samples.extend(sequential(client, [miss_url], htmx=True))
    miss_upstream = stack.upstream_requests() - before - len(upstream_samples)

    # Context for the miss, with no target: what any request to this server pays for
    # arriving after it sat idle as long as the provider takes. A miss meets such a gap
    # twice (it follows its reference request, and resumes when the provider answers);
    # on a shared VM, cooled CPU caches and sleeping threads cost milliseconds.
    progress("the cost of waking up")
    awake, woken = [], []
    for _ in range(args.samples_miss):
        time.sleep(args.latency)
        woken.extend(sequential(client, ["/healthz"], htmx=False))
        awake.extend(sequential(client, ["/healthz"], htmx=False))

    # Full page vs htmx partial, both served from the cache.
    progress("full page vs partial")
    full_samples, partial_samples = [], []
    for _ in range(args.samples_hit // 2):
        full_samples.append(timed_get(client, hit_url, htmx=False))
        partial_samples.append(timed_get(client, hit_url, htmx=True))
    client.close()

    load = []
    for users in args.users:
        progress(f"mix with {users} users")
        load.append(run_load(stack, sessions, [support, sales], users, args.duration, seed=users))
    mix_requests = sum(len(r.latencies) for r in load)
    mix_upstream = sum(r.upstream_calls for r in load)

    progress(f"stampede of {args.stampede}")
    cold = calls_url(sales, "incoming", q=f"{random.randint(100, 999)}", sort="duration")
    crowd = stampede(stack, sessions, cold, args.stampede)

    def size(samples: list[Sample]) -> dict[str, int]:
        body = samples[-1].body
        return {
            "html_bytes": len(body),
            "wire_bytes": samples[-1].wire_bytes,
            "gzip_bytes": len(gzip.compress(body, compresslevel=6)),
        }

    return {
        "references": {
            "upstream_alone": latency_summary(upstream_samples),
            "static_file": {
                **latency_summary([s.seconds for s in static_samples]),
                **size(static_samples),
            },
        },
        "cache_hit": {
            **latency_summary([s.seconds for s in hit_samples]),
            "upstream_calls": hit_upstream,
        },
        "cache_miss": {
            **latency_summary([s.seconds for s in miss_samples]),
            "upstream_calls": miss_upstream,
        },
        "wake_up": {
            "idle_s": args.latency,
            "awake": latency_summary([s.seconds for s in awake]),
            "after_idle": latency_summary([s.seconds for s in woken]),
        },
        "full_page": {**latency_summary([s.seconds for s in full_samples]), **size(full_samples)},
        "htmx_partial": {
            **latency_summary([s.seconds for s in partial_samples]),
            **size(partial_samples),
        },
        "load": [r.as_dict() for r in load],
        "mix_upstream_calls_per_1000": round(1000 * mix_upstream / max(mix_requests, 1), 1),
        "stampede": crowd,
    }


def verdicts(results: dict[str, Any]) -> list[Verdict]:
    static_p50 = results["references"]["static_file"]["p50_ms"]
    upstream_p50 = results["references"]["upstream_alone"]["p50_ms"]
    top = max(results["load"], key=lambda r: r["users"])
    return [
        at_most(
            "cache hit p50 within 3x the static file",
            results["cache_hit"]["p50_ms"],
            3 * static_p50,
        ),
        at_most(
            "cache miss p50 within upstream + 20 ms",
            results["cache_miss"]["p50_ms"],
            upstream_p50 + 20,
        ),
        exactly(
            f"stampede of {results['stampede']['requests']} makes 1 upstream call",
            results["stampede"]["upstream_calls"],
            1,
        ),
        exactly(f"errors at {top['users']} concurrent users", top["errors"], 0),
    ]


def to_markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Run {results['started_at']} (commit {results.get('commit', '?')}) on {m['cpu']}, "
        f"{m['cores']} cores, {m['memory']}, {m['os']}, Python {m['python']}."
        + (
            f" Load average (1 min) {load['start']} at the start, {load['end']} at the end."
            if (load := results.get("load_average", {})).get("end") is not None
            else ""
        ),
        "",
    ]
    if "cache_hit" in results:
        lines += latency_markdown(results)
    if results.get("cost"):
        lines += cost_markdown(results["cost"])
    if results.get("inbox"):
        lines += inbox_markdown(results["inbox"])
    lines += ["## Targets", "", "```", *[v["line"] for v in results["verdicts"]], "```", ""]
    return "\n".join(lines)


def latency_markdown(results: dict[str, Any]) -> list[str]:
    def lat(name: str, row: dict[str, Any], extra: str = "") -> list[object]:
        return [name, row["p50_ms"], row["p95_ms"], row["p99_ms"], row["n"], extra]

    refs = results["references"]
    latency = markdown_table(
        ["request", "p50 ms", "p95 ms", "p99 ms", "n", "note"],
        [
            lat(
                "upstream alone (reference)",
                refs["upstream_alone"],
                f"injected latency {results['config']['latency_s'] * 1000:.0f} ms",
            ),
            lat(
                "static file, table-sized (reference)",
                refs["static_file"],
                f"{refs['static_file']['html_bytes']:,} bytes",
            ),
            lat(
                "table from cache (hit)",
                results["cache_hit"],
                f"{results['cache_hit']['upstream_calls']} upstream calls",
            ),
            lat(
                "table missing the cache",
                results["cache_miss"],
                f"{results['cache_miss']['upstream_calls']} upstream calls",
            ),
            lat("full page (cached)", results["full_page"]),
            lat("htmx partial (cached)", results["htmx_partial"]),
            lat("health check, back to back (context)", results["wake_up"]["awake"]),
            lat(
                "health check after idling (context)",
                results["wake_up"]["after_idle"],
                f"{results['wake_up']['idle_s'] * 1000:.0f} ms idle before each",
            ),
        ],
    )
    sizes = markdown_table(
        ["response", "HTML bytes", "bytes as sent", "gzip -6 bytes"],
        [
            [name, r["html_bytes"], r["wire_bytes"], r["gzip_bytes"]]
            for name, r in (
                ("full page", results["full_page"]),
                ("htmx partial", results["htmx_partial"]),
            )
        ],
    )
    load = markdown_table(
        [
            "users",
            "requests",
            "req/s",
            "errors",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "upstream calls / 1,000",
        ],
        [
            [
                r["users"],
                r["requests"],
                r["rps"],
                r["errors"],
                r["latency"]["p50_ms"],
                r["latency"]["p95_ms"],
                r["latency"]["p99_ms"],
                r["upstream_calls_per_1000"],
            ]
            for r in results["load"]
        ],
    )
    s = results["stampede"]
    return [
        f"## Latency (gunicorn {results['config']['server']}; cache "
        f"{results['config']['cache']}; upstream latency {results['config']['latency_s']} s)",
        "",
        latency,
        "",
        "## Size (same cached table, 50 rows)",
        "",
        sizes,
        "",
        "## Throughput (realistic mix: open line, filter, page, sort, revisit, refresh)",
        "",
        load,
        "",
        f"Upstream calls per 1,000 dashboard requests over the whole mix: "
        f"{results['mix_upstream_calls_per_1000']}.",
        "",
        f"Stampede: {s['requests']} concurrent identical cold requests → "
        f"{s['upstream_calls']} upstream call(s), {s['errors']} errors, "
        f"p50 {s['latency']['p50_ms']} ms, p99 {s['latency']['p99_ms']} ms.",
        "",
    ]


def progress(step: str) -> None:
    print(f"bench: {step}…", flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=0.15, help="upstream latency, seconds")
    parser.add_argument(
        "--users", type=lambda s: [int(u) for u in s.split(",")], default=[1, 10, 50]
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per load level")
    parser.add_argument("--samples-hit", type=int, default=200)
    parser.add_argument("--samples-miss", type=int, default=40)
    parser.add_argument("--stampede", type=int, default=100)
    parser.add_argument(
        "--mix-duration", type=float, default=15.0, help="seconds per mix in the cost part"
    )
    parser.add_argument(
        "--cost-stampede", type=int, default=50, help="cold identical requests in the cost part"
    )
    parser.add_argument(
        "--parts",
        type=lambda s: [p.strip() for p in s.split(",") if p.strip()],
        default=["latency", "cost", "inbox"],
        help="latency (hit, miss, size, load levels), cost (CPU per request against "
        "the plain proxy, for the default install and Redis) and/or inbox (the missed-call "
        "inbox of lines with 500 missed callers at the provider: first loads, refreshes and "
        "cache hits); default all three",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="shorter runs (5 s per mix and load level, fewer samples): a check, not figures",
    )
    parser.add_argument(
        "--cache-url",
        default=os.environ.get("BENCH_CACHE_URL", ""),
        help=f"Redis CACHE_URL (default: {REDIS_DEFAULT} when reachable; else the latency "
        "part uses local memory with one worker process and the cost part skips Redis)",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="gunicorn workers (WEB_CONCURRENCY)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench")
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 1 when a target is missed"
    )
    parser.add_argument(
        "--inbox-open",
        type=int,
        default=500,
        help="missed callers at the provider per line in the inbox part",
    )
    parser.add_argument(
        "--inbox-cold", type=int, default=5, help="cold inbox loads (one line each)"
    )
    args = parser.parse_args(argv)
    unknown = set(args.parts) - {"latency", "cost", "inbox"}
    if unknown or not args.parts:
        parser.error(
            f"--parts: latency, cost and/or inbox, not {', '.join(sorted(unknown)) or 'none'}"
        )
    if args.quick:
        args.duration = min(args.duration, 5.0)
        args.mix_duration = min(args.mix_duration, 5.0)
        args.users = [u for u in args.users if u != 1] or args.users
        args.samples_hit = min(args.samples_hit, 60)
        args.samples_miss = min(args.samples_miss, 10)
    return args


def commit() -> str:
    """The commit measured, "+changes" when the code differs from it (results aside)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "?"
    own = [
        f":!bench/{name}"
        for name in (
            "results.json",
            "results.md",
            "inbox-results.json",
            "inbox-results.md",
            "browser-results.json",
        )
    ]
    changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", *own)
    return f"{head}+changes" if changed else head


def measure_latency(args: argparse.Namespace) -> dict[str, Any]:
    """The original part: hit, miss and size against their references, load levels."""
    cache_url, workers = args.cache_url, args.workers
    if not cache_url:
        if redis_reachable(REDIS_DEFAULT):
            cache_url = REDIS_DEFAULT
        else:
            # Local memory is per process: one worker keeps every thread on one cache.
            cache_url, workers = "locmem", workers or 1
    tmp = Path(tempfile.mkdtemp(prefix="calls-bench-"))
    stack = Stack(tmp=tmp, latency=args.latency, cache_url=cache_url, workers=workers)
    try:
        progress("starting the demo upstream and the dashboard")
        stack.start_upstream()
        seeded = stack.prepare_app(max(args.users))
        stack.start_app()
        measured = measure(args, stack, seeded)
    finally:
        stack.stop()
        shutil.rmtree(ROOT / "staticfiles" / "bench", ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    import multiprocessing

    server_workers = workers or max(2, min(4, multiprocessing.cpu_count()))
    threads = os.environ.get("GUNICORN_THREADS", "8")
    return {
        "config": {
            "latency_s": args.latency,
            "cache": cache_label(cache_url),
            "server": f"{server_workers} workers x {threads} threads (gthread)",
            "duration_per_level_s": args.duration,
        },
        **measured,
    }


# The inbox part ---------------------------------------------------------------------------
# Lines whose missed calls are only at the provider: 500 from 500 distinct callers, none
# called back (bench/upstream.py `backlog_history`), nothing filed. The first (cold) view of
# a line syncs at the injected latency (missed, incoming and outgoing read side by side, as
# deep as needed), files every caller and renders the first page; each cold sample is its
# own line, so its cache and its inbox really start empty. Then each line is refreshed
# (the Refresh button: the provider read again with the 500 callers already filed - what
# a pre-filed line's first load costs, so that variant is not seeded separately), and one
# line answers from the cache within the TTL. Before all that, one view of an empty line
# loads the inbox's code and templates in the server process (`warmup_ms`).
INBOX_COLD_LIMIT_MS = 1500.0
_TITLE_COUNT = re.compile(r"<title>\((\d[\d,. ]*)\)")

OPEN_COUNTS = """
import json
from dashboard.inbox.models import CallerStatus, Episode
ids = {ids}
print(json.dumps([Episode.objects.filter(line_id=i, status=CallerStatus.OPEN).count() for i in ids]))
"""


def open_counts(stack: Stack, line_ids: list[int]) -> list[int]:
    """Each line's open callers, as the database holds them."""
    printed = stack.manage("shell", "-c", OPEN_COUNTS.format(ids=line_ids))
    return json.loads(printed.strip().splitlines()[-1])


def shown_open_count(body: bytes) -> int | None:
    """The open count the page shows in its title ("(500) Missed calls · …"); None: none."""
    match = _TITLE_COUNT.search(body.decode("utf-8", errors="replace"))
    return int(re.sub(r"\D", "", match.group(1))) if match else None


def measure_inbox(args: argparse.Namespace) -> dict[str, Any]:
    cache_url = args.cache_url or "locmem"
    workers = args.workers or (1 if cache_url == "locmem" else None)
    tmp = Path(tempfile.mkdtemp(prefix="calls-bench-inbox-"))
    stack = Stack(
        tmp=tmp,
        latency=args.latency,
        cache_url=cache_url,
        workers=workers,
        backlog_open=args.inbox_open,
    )
    try:
        progress(
            f"inbox: {args.inbox_cold} lines, {args.inbox_open} missed callers each "
            "at the provider, none filed"
        )
        stack.start_upstream()
        os.environ["BENCH_INBOX_LINES"] = str(args.inbox_cold)
        try:
            seeded = stack.prepare_app(1)
        finally:
            os.environ.pop("BENCH_INBOX_LINES", None)
        line_ids = seeded["lines"]["inbox"]
        filed_before = open_counts(stack, line_ids)
        stack.start_app()
        client = new_client(seeded["sessions"][0], stack.app_url)

        def each_line(query: str) -> tuple[list[Sample], list[int]]:
            samples, calls = [], []
            for line_id in line_ids:
                before = stack.upstream_requests()
                samples.append(timed_get(client, f"/lines/{line_id}/inbox/{query}"))
                calls.append(stack.upstream_requests() - before)
            return samples, calls

        warm_url = f"/lines/{seeded['lines']['inbox_warmup']}/inbox/"
        warmup = sequential(client, [warm_url], htmx=False)
        progress("inbox: first loads, each line cold")
        cold, cold_upstream = each_line("")
        filed = open_counts(stack, line_ids)
        progress("inbox: refresh, each line with its callers filed")
        refresh, refresh_upstream = each_line("?refresh=1")
        progress("inbox: cache hits")
        before = stack.upstream_requests()
        hits = sequential(client, [f"/lines/{line_ids[0]}/inbox/"] * args.samples_miss, htmx=True)
        hit_upstream = stack.upstream_requests() - before
        client.close()
    finally:
        stack.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    def loads(samples: list[Sample], calls: list[int]) -> dict[str, Any]:
        summary = {
            **latency_summary([s.seconds for s in samples]),
            "max_ms": round(max(s.seconds for s in samples) * 1000, 1),
        }
        if calls:  # one sample per line, in the lines' order
            summary["ms_each"] = [round(s.seconds * 1000, 1) for s in samples]
        return {**summary, "upstream_calls_each": calls} if calls else summary

    return {
        "open_callers": args.inbox_open,
        "latency_s": args.latency,
        "cache": cache_label(cache_url),
        "seeded": "provider only: nothing filed before the first load",
        "filed_before": filed_before,
        # One view of an empty line's inbox first: the process's own first-request costs.
        "warmup_ms": round(warmup[0].seconds * 1000, 1),
        "cold": {
            **loads(cold, cold_upstream),
            "shown_open_each": [shown_open_count(s.body) for s in cold],
            "filed_open_each": filed,
        },
        "refresh": loads(refresh, refresh_upstream),
        "hit": {**loads(hits, []), "upstream_calls": hit_upstream},
        "status_codes": sorted({s.status for s in [*cold, *refresh, *hits]}),
    }


def inbox_verdicts(inbox: dict[str, Any]) -> list[Verdict]:
    n = inbox["open_callers"]
    shown = [c if c is not None else 0 for c in inbox["cold"]["shown_open_each"]]
    return [
        exactly("inbox lines start with nothing filed", max(inbox["filed_before"]), 0),
        at_most(
            f"inbox cold load ({n} missed callers at the provider) at "
            f"{inbox['latency_s'] * 1000:.0f} ms latency, slowest",
            inbox["cold"]["max_ms"],
            INBOX_COLD_LIMIT_MS,
        ),
        exactly(f"inbox shows {n} open callers after each cold load, fewest", min(shown), n),
        exactly(
            f"inbox files {n} open callers in each cold load, fewest",
            min(inbox["cold"]["filed_open_each"]),
            n,
        ),
        exactly("inbox cache hits make 0 upstream calls", inbox["hit"]["upstream_calls"], 0),
        exactly("inbox answers are all 200", len(inbox["status_codes"]), 1),
    ]


def inbox_markdown(inbox: dict[str, Any]) -> list[str]:
    def row(name: str, r: dict[str, Any], calls: str) -> list[object]:
        return [name, r["p50_ms"], r["p95_ms"], r.get("max_ms", ""), calls]

    def each(calls: list[int]) -> str:
        return ", ".join(str(n) for n in calls)

    cold = inbox["cold"]
    shown = ", ".join("?" if c is None else str(c) for c in cold["shown_open_each"])
    return [
        "## Inbox",
        "",
        f"{inbox['open_callers']} missed calls from as many callers, none called back, at the "
        f"provider only ({len(cold['upstream_calls_each'])} lines, nothing filed before the "
        f"first load); provider latency {inbox['latency_s'] * 1000:.0f} ms, cache "
        f"{inbox['cache']}.",
        "",
        markdown_table(
            ["load", "p50 ms", "p95 ms", "max ms", "upstream calls"],
            [
                row("cold (first load of a line)", cold, each(cold["upstream_calls_each"])),
                row(
                    "refresh (callers already filed)",
                    inbox["refresh"],
                    each(inbox["refresh"]["upstream_calls_each"]),
                ),
                row("cache hit (htmx partial)", inbox["hit"], str(inbox["hit"]["upstream_calls"])),
            ],
        ),
        "",
        f"Open callers after the cold load: shown {shown}; filed "
        f"{each(cold['filed_open_each'])}. Before the first line, one view of an empty "
        "line's inbox loaded the server's inbox code and templates "
        f"({inbox.get('warmup_ms', '?')} ms).",
        "",
    ]


def results_stem(parts: list[str]) -> str:
    """The results files' name: an inbox-only run (`--parts inbox`) writes its own
    inbox-results.*, so it never replaces the figures of a whole run."""
    return "inbox-results" if set(parts) == {"inbox"} else "results"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC)
    results: dict[str, Any] = {
        "started_at": started.isoformat(timespec="seconds"),
        "commit": commit(),
        "machine": machine(),
        "quick": args.quick,
        # Other work on the machine inflates every figure; the ratios are what to compare.
        "load_average": {"start": round(os.getloadavg()[0], 2)},
    }
    if "latency" in args.parts:
        results.update(measure_latency(args))
    checks = verdicts(results) if "cache_hit" in results else []
    if "cost" in args.parts:
        redis_url = args.cache_url or (REDIS_DEFAULT if redis_reachable(REDIS_DEFAULT) else "")
        installs = [("default install (no CACHE_URL)", "default")]
        if redis_url.startswith("redis") and redis_reachable(redis_url):
            installs.append(("Redis (CACHE_URL)", redis_url))
        else:
            progress("Redis not reachable: the cost part measures the default install only")
        cost_args = argparse.Namespace(**{**vars(args), "stampede": args.cost_stampede})
        results["cost"] = [measure_cost(cost_args, name, url) for name, url in installs]
        checks += cost_verdicts(results["cost"])
    if "inbox" in args.parts:
        results["inbox"] = measure_inbox(args)
        checks += inbox_verdicts(results["inbox"])
    results["load_average"]["end"] = round(os.getloadavg()[0], 2)
    results["verdicts"] = [{"name": v.name, "passed": v.passed, "line": v.line()} for v in checks]
    args.out.mkdir(parents=True, exist_ok=True)
    stem = results_stem(args.parts)
    (args.out / f"{stem}.json").write_text(json.dumps(results, indent=2) + "\n")
    markdown = to_markdown(results)
    (args.out / f"{stem}.md").write_text(markdown)
    print()
    print(markdown)
    print(f"Wrote {args.out / f'{stem}.json'} and {args.out / f'{stem}.md'}")
    return 1 if args.strict and not all(v.passed for v in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
