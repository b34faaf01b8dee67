"""The dashboard's own processes for the live tests: `python -m dashboard.ops.processes`
in a folder of the test's own, a user and a line with a webhook, a signed-in client."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.servers import free_port
from tests.webhook_helpers import SECRET, envelope, headers_for
from tests.workers import wait_for

ROOT = Path(__file__).resolve().parent.parent
SETUP = """
from django.contrib.auth.models import User
from dashboard.lines.models import Line
from dashboard.webhooks import services
user = User.objects.filter(username="olivia").first() or User.objects.create_user("olivia", password="pw-olivia")
line = Line.objects.filter(owner=user).first()
if line is None:
    line = Line(owner=user, label="Support phone", default_region="BE")
    line.set_api_key("demo-support")
    line.save()
endpoint = services.set_secret(line, %r)
print("SETUP", line.pk, endpoint.token)
"""


def base_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        # Static files from the source folders (no collectstatic, never a stale copy).
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATA_DIR": str(data_dir),
        "DJANGO_SECURE": "false",
        "WEB_CONCURRENCY": "1",
        "LOG_LEVEL": "INFO",
        "ALERTS_EVALUATE_SECONDS": "3600",
    }
    for name in (
        "CACHE_URL",
        "DATABASE_URL",
        "PROMETHEUS_MULTIPROC_DIR",
        "DJANGO_READ_DOT_ENV_FILE",
    ):
        env.pop(name, None)
    env.update(extra)
    return env


def prepare(env: dict[str, str]) -> tuple[int, str]:
    """Migrate, and a line with a webhook secret: (line id, webhook token)."""
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=180,
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SETUP % SECRET],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    )
    _, line_id, token = re.search(r"SETUP (\d+) (\S+)", done.stdout).group(0).split()
    return int(line_id), token


ADD_LINE = """
from django.contrib.auth.models import User
from dashboard.lines.models import Line
user = User.objects.get(username="olivia")
if not Line.objects.filter(owner=user, label=%r).exists():
    line = Line(owner=user, label=%r, default_region="BE")
    line.set_api_key(%r)
    line.save()
"""


def add_line(env: dict[str, str], label: str, key: str) -> None:
    """Another line of olivia's (no webhook), e.g. so her pages show the line switcher."""
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", ADD_LINE % (label, label, key)],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
    )


@dataclass
class Instance:
    url: str
    log: Path

    def answers(self) -> bool:
        try:
            return httpx.get(self.url + "/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False


@contextmanager
def running(
    env: dict[str, str], log: Path, *args: str, wait_url: str | None = None
) -> Iterator[Instance]:
    """`python -m dashboard.ops.processes ARGS` until the block ends (SIGTERM)."""
    port = free_port()
    with log.open("wb") as sink:
        supervisor = subprocess.Popen(
            [sys.executable, "-m", "dashboard.ops.processes", "--bind", f"127.0.0.1:{port}", *args],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    instance = Instance(f"http://127.0.0.1:{port}", log)
    try:
        wait_for(instance.answers, 60, f"the dashboard ({log.read_text()[-2000:]})")
        if wait_url:
            wait_for(lambda: _up(wait_url), 60, "the live process")
        yield instance
    finally:
        supervisor.terminate()
        try:
            supervisor.wait(timeout=40)
        except subprocess.TimeoutExpired:
            supervisor.kill()
            supervisor.wait()


def _up(url: str) -> bool:
    try:
        httpx.get(url, timeout=1)
    except httpx.HTTPError:
        return False
    return True


def signed_in(url: str, username: str = "olivia", password: str = "pw-olivia") -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=10, follow_redirects=True)
    page = client.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    client.post(
        "/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        headers={"Referer": url + "/accounts/login/"},
    )
    assert "sessionid" in client.cookies
    return client


def post_delivery(url: str, token: str, event: dict | None = None, **kwargs) -> httpx.Response:
    event = event or envelope()
    body = json.dumps(event).encode()
    return httpx.post(
        f"{url}/webhooks/smsmobileapi/{token}/",
        content=body,
        headers={"Content-Type": "application/json", **headers_for(body, event)},
        timeout=10,
        **kwargs,
    )


class Stream:
    """Reads server-sent events from an open stream in a thread."""

    def __init__(self, client: httpx.Client, path: str, headers: dict | None = None) -> None:
        import threading

        self.events: list[dict] = []
        self.counts: list[dict] = []
        self.lines: list[str] = []
        self.status: int | None = None
        self.headers: dict = {}
        self._client, self._path, self._headers = client, path, headers or {}
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        wait_for(lambda: self.lines, 30, "the stream's first line")

    def _read(self) -> None:
        try:
            with self._client.stream(
                "GET", self._path, headers=self._headers, timeout=None
            ) as response:
                self.status = response.status_code
                self.headers = dict(response.headers)
                name = ""
                for line in response.iter_lines():
                    self.lines.append(line)
                    if line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("data: "):
                        # Calls in `events`; the line's open counts (no id) in `counts`.
                        target = self.counts if name == "counts" else self.events
                        target.append(json.loads(line[6:]))
                    elif not line:
                        name = ""
        except httpx.HTTPError:
            pass

    def wait_for_event(self, count: int = 1, timeout: float = 30) -> list[dict]:
        wait_for(lambda: len(self.events) >= count, timeout, f"{count} event(s) on the stream")
        return self.events

    def close(self) -> None:
        self._client.close()


def no_later_than(seconds: float):
    return time.monotonic() + seconds
