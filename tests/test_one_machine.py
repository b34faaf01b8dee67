"""The default install (no CACHE_URL, no DATABASE_URL) under real gunicorn with two worker
processes: the disk cache in DATA_DIR is one cache for both.

Which worker answered each request is read from gunicorn's own access log (its pid), so
"the other worker" is proven, not assumed.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from dashboard.smsmobileapi.demo import DemoUpstream
from tests.conftest import DEMO_NOW
from tests.servers import Gunicorn, serve_wsgi, start_gunicorn

ROOT = Path(__file__).resolve().parent.parent
STAMPEDE = 50


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[DemoUpstream, str]]:
    # Slow enough that 50 concurrent requests really overlap.
    app = DemoUpstream(clock=lambda: DEMO_NOW, latency=0.4, record_requests=True)
    with serve_wsgi(app) as base_url:
        yield app, base_url


@pytest.fixture(scope="module")
def app_env(upstream, tmp_path_factory) -> dict[str, str]:
    data = tmp_path_factory.mktemp("data")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DJANGO_SECRET_KEY": "one-machine-test-secret",
        "FIELD_ENCRYPTION_KEYS": "zDjOSIF0VYJ-MOU5G0lVzBKG2jS_Lds7Ba9dcHQ-Qhk=",
        "DATA_DIR": str(data),
        "SMSMOBILEAPI_BASE_URL": upstream[1],
        "DJANGO_SECURE": "false",
        "WEB_CONCURRENCY": "2",
        # Every request of the stampede in a thread at once, across both workers.
        "GUNICORN_THREADS": str(STAMPEDE),
        "LOG_LEVEL": "WARNING",
        "GUNICORN_ACCESS_LOG": str(data / "access.log"),
        # The worker's pid ("<1234>") and the test's request id on each access-log line.
        "GUNICORN_CMD_ARGS": "--access-logformat '%(p)s %({x-test-request}i)s %(s)s'",
    }
    # The default install: SQLite and the disk cache in DATA_DIR, whatever this run uses.
    for name in (
        "CACHE_URL",
        "DATABASE_URL",
        "PROMETHEUS_MULTIPROC_DIR",
        "DJANGO_READ_DOT_ENV_FILE",
    ):
        env.pop(name, None)
    manage = [sys.executable, "manage.py"]
    subprocess.run(
        [*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=120
    )
    subprocess.run(
        [*manage, "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    create = (
        "from django.contrib.auth.models import User; from dashboard.lines.models import Line;"
        "u = User.objects.create_user('ada', password='pw-ada-123');"
        "l = Line(owner=u, label='Support phone'); l.set_api_key('demo-support'); l.save();"
        "print(l.pk)"
    )
    out = subprocess.run(
        [*manage, "shell", "-c", create],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    env["TEST_LINE_ID"] = out.stdout.strip().splitlines()[-1]
    return env


@pytest.fixture(scope="module")
def server(app_env) -> Iterator[Gunicorn]:
    server = start_gunicorn(app_env, Path(app_env["DATA_DIR"]) / "gunicorn.log")
    try:
        server.wait_until_answers("/readyz")
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def cookies(server) -> dict[str, str]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        page = client.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = client.post(
            "/accounts/login/",
            data={"csrfmiddlewaretoken": token, "username": "ada", "password": "pw-ada-123"},
            headers={"Referer": f"{server.url}/accounts/login/"},
        )
        assert response.status_code == 302, response.text[:500]
        return dict(client.cookies)


def get(server: Gunicorn, cookies: dict[str, str], path: str, **headers: str):
    """One request on a connection of its own (any worker may accept it): the response and
    the pid of the worker that answered, from the access log."""
    request_id = uuid.uuid4().hex
    with httpx.Client(base_url=server.url, cookies=cookies, timeout=30) as client:
        response = client.get(path, headers={"X-Test-Request": request_id, **headers})
    log = _access_log(server)
    deadline = time.monotonic() + 10  # gunicorn logs the line just after the response
    while time.monotonic() < deadline:
        found = re.search(rf"^<(\d+)> {request_id} ", log.read_text(), flags=re.M)
        if found:
            return response, int(found.group(1))
        time.sleep(0.02)
    pytest.fail(f"request {request_id} is not in gunicorn's access log")


def _access_log(server: Gunicorn) -> Path:
    return server.log.parent / "access.log"


def rows(response: httpx.Response) -> list[str]:
    return re.findall(r"<tr>.*?</tr>", response.text, flags=re.S)


def test_a_cold_stampede_over_both_workers_makes_one_provider_call(
    server, cookies, app_env, upstream
):
    app, _ = upstream
    path = f"/lines/{app_env['TEST_LINE_ID']}/outgoing/?q=%2B33&per_page=25"
    app.clear_requests()
    with ThreadPoolExecutor(max_workers=STAMPEDE) as pool:
        answers = list(
            pool.map(
                lambda _: get(server, cookies, path, **{"HX-Request": "true"}), range(STAMPEDE)
            )
        )

    assert [response.status_code for response, _ in answers] == [200] * STAMPEDE
    assert len({pid for _, pid in answers}) == 2  # both workers took part
    assert len({tuple(rows(response)) for response, _ in answers}) == 1
    assert rows(answers[0][0])
    assert app.calls_to("/call/outgoing/list/") == 1


def test_a_view_first_served_by_one_worker_costs_no_call_on_the_other(
    server, cookies, app_env, upstream
):
    app, _ = upstream
    path = f"/lines/{app_env['TEST_LINE_ID']}/incoming/?q=%2B32&sort=duration"
    app.clear_requests()
    first, first_pid = get(server, cookies, path)
    assert first.status_code == 200 and rows(first)
    calls = len(app.recorded())
    assert calls >= 1
    # New connections until the kernel hands one to the other worker (it takes a few).
    for _ in range(200):
        again, pid = get(server, cookies, path)
        if pid != first_pid:
            break
    else:
        pytest.fail(f"every request went to worker {first_pid}")

    assert again.status_code == 200
    assert rows(again) == rows(first)
    assert len(app.recorded()) == calls  # not one more call, from either worker


def test_the_access_log_throttle_holds_across_workers(server, cookies, app_env):
    path = f"/lines/{app_env['TEST_LINE_ID']}/missed/"
    pids = set()
    for _ in range(200):
        response, pid = get(server, cookies, path)
        assert response.status_code == 200
        pids.add(pid)
        if len(pids) == 2:
            break
    assert len(pids) == 2
    with sqlite3.connect(Path(app_env["DATA_DIR"]) / "dashboard.sqlite3") as db:
        (logged,) = db.execute(
            "SELECT count(*) FROM lines_accesslogentry WHERE kind = 'missed'"
        ).fetchone()
    assert logged == 1  # one row per user, line and kind per interval, whichever worker


def test_the_refresh_interval_holds_across_workers(server, cookies, app_env, upstream):
    app, _ = upstream
    path = f"/lines/{app_env['TEST_LINE_ID']}/outgoing/?q=%2B31"
    htmx = {"HX-Request": "true"}
    app.clear_requests()
    first, first_pid = get(server, cookies, path, **htmx)
    refreshed, _ = get(server, cookies, f"{path}&refresh=1", **htmx)
    assert first.status_code == refreshed.status_code == 200
    assert app.calls_to("/call/outgoing/list/") == 2  # the view, then its one Refresh
    # More presses within CALLS_REFRESH_INTERVAL, until one reaches the other worker.
    for _ in range(200):
        again, pid = get(server, cookies, f"{path}&refresh=1", **htmx)
        assert again.status_code == 200
        if pid != first_pid:
            break
    else:
        pytest.fail(f"every request went to worker {first_pid}")
    assert app.calls_to("/call/outgoing/list/") == 2
