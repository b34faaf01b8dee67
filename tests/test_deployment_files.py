"""docker-compose.yml, read as text: no Docker engine runs compose here, so these check
only that the file still wires what the README says (services, shared PostgreSQL and
Redis, secrets from the operator's environment). Comment lines are dropped first, so a
comment cannot satisfy them.

The Dockerfile is not read here: `make docker-check` (.ci/docker-check.sh, the last step of
`make test`, required in CI) builds the image and checks the image itself (user, packages
against the lock, CMD, HEALTHCHECK, release id, contents), and tests/test_compose_nginx.py
runs the compose file's nginx configuration in a real nginx."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = re.sub(r"(?m)^\s*#.*\n", "", (ROOT / "docker-compose.yml").read_text())


def test_compose_runs_two_instances_behind_nginx_on_postgres_and_redis():
    for service in ("postgres:", "redis:", "migrate:", "app1:", "app2:", "nginx:"):
        assert f"\n  {service}" in COMPOSE, service
    assert "DATABASE_URL: postgres://" in COMPOSE and "CACHE_URL: redis://" in COMPOSE
    assert "server app1:8000;" in COMPOSE and "server app2:8000;" in COMPOSE
    assert '"manage.py", "migrate"' in COMPOSE
    # Secrets come from the operator's environment, never from the file.
    assert "${DJANGO_SECRET_KEY:?" in COMPOSE and "${FIELD_ENCRYPTION_KEYS:?" in COMPOSE


def test_the_compose_nginx_forwards_the_host_with_its_port():
    # Django's CSRF check compares a POST's Origin with the Host: without the port, every
    # login on http://localhost:8080 was refused (tests/test_compose_nginx.py runs it).
    assert "proxy_set_header Host $$http_host;" in COMPOSE


def test_compose_runs_the_background_worker_as_its_own_service():
    worker = COMPOSE.split("\n  worker:", 1)[1].split("\n  nginx:", 1)[0]
    assert '"manage.py", "run_worker"' in worker
    assert "disable: true" in worker  # the image's HEALTHCHECK asks a web server it lacks
