"""Two app instances (real gunicorn processes) sharing one PostgreSQL and one Redis.

Proves what the README's "Running in production" section claims: a login on one instance
is valid on the other, a response cached by one is a hit on the other, and a stampede of
identical cold requests spread over both reaches the provider once.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from dashboard.smsmobileapi.demo import DemoUpstream
from tests.conftest import DEMO_NOW
from tests.servers import serve_wsgi, start_gunicorn

pytestmark = pytest.mark.services

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("SCALE_OUT_PG", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("SCALE_OUT_REDIS", "redis://127.0.0.1:6379/3")


def _require_services() -> None:
    from dashboard.ops.services_check import check

    problems = check(f"{PG_SERVER}/postgres", REDIS_URL)
    if problems:
        pytest.fail("PostgreSQL and Redis are required for this test: " + "; ".join(problems))


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[DemoUpstream, str]]:
    # Slow enough that 100 concurrent requests really overlap.
    app = DemoUpstream(clock=lambda: DEMO_NOW, latency=0.4, record_requests=True)
    with serve_wsgi(app) as base_url:
        yield app, base_url


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    _require_services()
    import psycopg

    name = f"calls_scaleout_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def app_env(database, upstream) -> dict[str, str]:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DJANGO_SECRET_KEY": "scale-out-test-secret",
        "FIELD_ENCRYPTION_KEYS": "zDjOSIF0VYJ-MOU5G0lVzBKG2jS_Lds7Ba9dcHQ-Qhk=",
        "DATABASE_URL": database,
        "CACHE_URL": REDIS_URL,
        "SMSMOBILEAPI_BASE_URL": upstream[1],
        "DJANGO_SECURE": "false",
        "WEB_CONCURRENCY": "2",
        # Each thread may hold a database connection: 2 instances x 2 workers x 12 threads
        # stays well under PostgreSQL's default 100 connections.
        "GUNICORN_THREADS": "12",
        "LOG_LEVEL": "WARNING",
        "METRICS_TOKEN": "scale-out-metrics",
    }
    for name in ("PROMETHEUS_MULTIPROC_DIR", "DJANGO_READ_DOT_ENV_FILE"):
        env.pop(name, None)
    manage = [sys.executable, "manage.py"]
    subprocess.run(
        [*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=120
    )
    # Hashed static names need the manifest, as in production (make serve does the same).
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
def instances(app_env, tmp_path_factory) -> Iterator[list[str]]:
    logs = tmp_path_factory.mktemp("gunicorn")
    servers = [start_gunicorn(app_env, logs / f"instance-{n}.log") for n in (1, 2)]
    try:
        for server in servers:
            server.wait_until_answers("/readyz")
        yield [server.url for server in servers]
    finally:
        for server in servers:
            server.stop()


def _log_in(base_url: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=30)
    page = client.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = client.post(
        "/accounts/login/",
        data={"csrfmiddlewaretoken": token, "username": "ada", "password": "pw-ada-123"},
        headers={"Referer": f"{base_url}/accounts/login/"},
    )
    assert response.status_code == 302, response.text[:500]
    return client


def test_a_login_on_one_instance_is_valid_on_the_other(instances, app_env):
    first, second = instances
    on_first = _log_in(first)
    cookies = dict(on_first.cookies)
    on_first.close()
    with httpx.Client(base_url=second, cookies=cookies, timeout=30) as on_second:
        response = on_second.get(f"/lines/{app_env['TEST_LINE_ID']}/missed/")
    assert response.status_code == 200
    assert "Support phone" in response.text


def test_a_response_cached_by_one_instance_is_a_hit_on_the_other(instances, app_env, upstream):
    app, _ = upstream
    first, second = instances
    path = f"/lines/{app_env['TEST_LINE_ID']}/incoming/?q=%2B32&sort=duration"
    on_first, on_second = _log_in(first), _log_in(second)
    try:
        app.clear_requests()
        rows_first = re.findall(r"<tr>.*?</tr>", on_first.get(path).text, flags=re.S)
        rows_second = re.findall(r"<tr>.*?</tr>", on_second.get(path).text, flags=re.S)
    finally:
        on_first.close()
        on_second.close()
    assert rows_first and rows_first == rows_second
    assert app.calls_to("/call/incoming/list/") == 1


def test_a_cold_stampede_over_both_instances_makes_one_upstream_call(instances, app_env, upstream):
    app, _ = upstream
    clients = [_log_in(url) for url in instances]
    path = f"/lines/{app_env['TEST_LINE_ID']}/outgoing/?q=%2B33&per_page=25"
    app.clear_requests()
    try:
        with ThreadPoolExecutor(max_workers=100) as pool:
            statuses = list(
                pool.map(
                    lambda i: clients[i % 2].get(path, headers={"HX-Request": "true"}).status_code,
                    range(100),
                )
            )
    finally:
        for client in clients:
            client.close()
    assert statuses == [200] * 100
    assert app.calls_to("/call/outgoing/list/") == 1


def test_metrics_add_up_every_worker_of_an_instance(instances, app_env, upstream):
    """gunicorn's workers each write samples to PROMETHEUS_MULTIPROC_DIR; /metrics sums them."""
    first, _ = instances
    client = _log_in(first)
    try:
        path = f"/lines/{app_env['TEST_LINE_ID']}/incoming/"
        # Distinct searches: each is a miss, whichever worker answers it.
        for term in ("+32", "+33", "+31", "+81", "+1"):
            assert client.get(path, params={"q": term}).status_code == 200
        scrape = httpx.get(
            f"{first}/metrics", headers={"Authorization": "Bearer scale-out-metrics"}, timeout=10
        )
    finally:
        client.close()
    assert scrape.status_code == 200
    misses = re.search(
        r'^calls_dashboard_cache_results_total\{result="miss"\} ([0-9.]+)$', scrape.text, re.M
    )
    assert misses and float(misses.group(1)) >= 5
    assert "demo-support" not in scrape.text
