"""Two instances on one PostgreSQL and one Redis: a delivery accepted by one instance
reaches a browser whose stream is open on the other, woken through Redis pub/sub (the
database poll is set to an hour, so nothing else could bring it in time)."""

from __future__ import annotations

import os
import uuid

import pytest

from tests.live_servers import Stream, base_env, post_delivery, prepare, running, signed_in
from tests.webhook_helpers import envelope

pytestmark = pytest.mark.services

PG_SERVER = os.environ.get("SCALE_OUT_PG", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("LIVE_TEST_REDIS", "redis://127.0.0.1:6379/4")


@pytest.fixture(scope="module")
def database():
    from dashboard.ops.services_check import check

    problems = check(f"{PG_SERVER}/postgres", REDIS_URL)
    if problems:
        pytest.fail("PostgreSQL and Redis are required for this test: " + "; ".join(problems))
    import psycopg

    name = f"calls_live_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_delivery_on_one_instance_reaches_a_stream_on_the_other(database, tmp_path):
    def env(name: str) -> dict[str, str]:
        folder = tmp_path / name
        folder.mkdir()
        return base_env(
            folder,
            DATABASE_URL=database,
            CACHE_URL=REDIS_URL,  # LIVE_REDIS_URL follows it
            LIVE_POLL_SECONDS="3600",
            DJANGO_SECRET_KEY="live-scale-out-secret-0123456789abcdef",
        )

    first, second = env("a"), env("b")
    line_id, token = prepare(first)
    with (
        running(first, tmp_path / "a.log", "--single-port") as a,
        running(second, tmp_path / "b.log", "--single-port") as b,
    ):
        client = signed_in(b.url)
        stream = Stream(client, f"/lines/{line_id}/live/")
        try:
            event = envelope("call.missed", number="+32470111222")
            assert post_delivery(a.url, token, event).status_code == 202
            (got,) = stream.wait_for_event(timeout=30)
            assert got["number"] == "+32470111222"
        finally:
            stream.close()
