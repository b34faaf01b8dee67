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
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `bench.report` importable
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.report import (  # noqa: E402
    Verdict,
    at_most,
    exactly,
    latency_summary,
    markdown_table,
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
    upstream_url: str = ""
    app_url: str = ""
    processes: list[subprocess.Popen] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    gunicorn: subprocess.Popen | None = None

    def start_upstream(self) -> None:
        proc = subprocess.Popen(
            [PY, "-m", "bench.upstream", "--port", "0", "--latency", str(self.latency)],
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
        self.env.pop("CACHE_URL", None)
        if self.cache_url != "locmem":
            self.env["CACHE_URL"] = self.cache_url
        if self.workers:
            self.env["WEB_CONCURRENCY"] = str(self.workers)
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

    def reload_app(self, probe: str) -> None:
        """SIGHUP: gunicorn starts new workers, which see new static files."""
        assert self.gunicorn is not None
        self.gunicorn.send_signal(signal.SIGHUP)
        time.sleep(1.0)
        self.wait_for(probe)

    def wait_for(self, url: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            if self.gunicorn is not None and self.gunicorn.poll() is not None:
                break
            time.sleep(0.2)
        tail = (self.tmp / "gunicorn.log").read_text(errors="replace")[-3000:]
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


@dataclass
class LoadResult:
    users: int
    seconds: float
    latencies: list[float]
    errors: int
    error_banners: int
    upstream_calls: int

    def as_dict(self) -> dict[str, Any]:
        n = len(self.latencies)
        return {
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


def run_load(
    stack: Stack, sessions: list[str], lines: list[int], users: int, duration: float, seed: int
) -> LoadResult:
    latencies: list[float] = []
    errors = banners = 0
    lock = threading.Lock()
    stop_at = 0.0
    barrier = threading.Barrier(users + 1)
    today = datetime.now(UTC).date()

    def user(n: int) -> None:
        nonlocal errors, banners
        person = SimulatedUser(lines, seed * 1000 + n, today)
        with new_client(sessions[n % len(sessions)], stack.app_url) as client:
            barrier.wait()
            while time.monotonic() < stop_at:
                url, htmx = person.next_request()
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
                    elif b"banner-error" in sample.body:
                        banners += 1

    threads = [threading.Thread(target=user, args=(n,), daemon=True) for n in range(users)]
    for thread in threads:
        thread.start()
    before = stack.upstream_requests()
    stop_at = time.monotonic() + duration
    started = time.monotonic()
    barrier.wait()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return LoadResult(
        users, elapsed, latencies, errors, banners, stack.upstream_requests() - before
    )


def stampede(stack: Stack, sessions: list[str], url: str, count: int) -> dict[str, Any]:
    """`count` identical cold requests released at once."""
    barrier = threading.Barrier(count)
    results: list[Sample | None] = [None] * count

    def hit(n: int) -> None:
        with new_client(sessions[n % len(sessions)], stack.app_url) as client:
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
    def lat(name: str, row: dict[str, Any], extra: str = "") -> list[object]:
        return [name, row["p50_ms"], row["p95_ms"], row["p99_ms"], row["n"], extra]

    refs, m = results["references"], results["machine"]
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
    lines = [
        "# Benchmark results",
        "",
        f"Run {results['started_at']} on {m['cpu']}, {m['cores']} cores, {m['memory']}, "
        f"{m['os']}, Python {m['python']}. gunicorn {results['config']['server']}; cache "
        f"{results['config']['cache']}; upstream latency {results['config']['latency_s']} s.",
        "",
        "## Latency",
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
        "## Targets",
        "",
        "```",
        *[v["line"] for v in results["verdicts"]],
        "```",
        "",
    ]
    return "\n".join(lines)


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
        "--cache-url",
        default=os.environ.get("BENCH_CACHE_URL", ""),
        help=f"CACHE_URL for the dashboard (default: {REDIS_DEFAULT} when reachable, else "
        "local memory with one worker process)",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="gunicorn workers (WEB_CONCURRENCY)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench")
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 1 when a target is missed"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cache_url, workers = args.cache_url, args.workers
    if not cache_url:
        if redis_reachable(REDIS_DEFAULT):
            cache_url = REDIS_DEFAULT
        else:
            # Local memory is per process: one worker keeps every thread on one cache.
            cache_url, workers = "locmem", workers or 1
    tmp = Path(tempfile.mkdtemp(prefix="calls-bench-"))
    stack = Stack(tmp=tmp, latency=args.latency, cache_url=cache_url, workers=workers)
    started = datetime.now(UTC)
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
    results: dict[str, Any] = {
        "started_at": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "config": {
            "latency_s": args.latency,
            "cache": cache_url if cache_url == "locmem" else cache_url.split("://")[0],
            "server": f"{server_workers} workers x {os.environ.get('GUNICORN_THREADS', '8')} threads (gthread)",
            "duration_per_level_s": args.duration,
        },
        **measured,
    }
    checks = verdicts(results)
    results["verdicts"] = [{"name": v.name, "passed": v.passed, "line": v.line()} for v in checks]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    markdown = to_markdown(results)
    (args.out / "results.md").write_text(markdown)
    print()
    print(markdown)
    print(f"Wrote {args.out / 'results.json'} and {args.out / 'results.md'}")
    return 1 if args.strict and not all(v.passed for v in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
