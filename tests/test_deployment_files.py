"""The Dockerfile and docker-compose.yml say what the README says they do. The image itself
is built and run by `make docker-check` (the last step of `make test`), and compose's nginx
configuration runs in tests/test_compose_nginx.py."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()
COMPOSE = (ROOT / "docker-compose.yml").read_text()


def test_the_image_installs_the_lock_runs_as_non_root_and_checks_health():
    assert re.search(r"^FROM python:3\.1[2-9]-slim", DOCKERFILE, re.M)
    assert "pip install --no-deps -r requirements.lock" in DOCKERFILE
    assert "collectstatic" in DOCKERFILE
    assert re.search(r"^USER app$", DOCKERFILE, re.M)
    assert "HEALTHCHECK" in DOCKERFILE and "/healthz" in DOCKERFILE
    assert "gunicorn" in DOCKERFILE and "dashboard/gunicorn.conf.py" in DOCKERFILE
    assert "migrate" not in DOCKERFILE.split("CMD", 1)[1]  # migrations are a separate step


def test_every_path_the_image_copies_exists():
    for source in re.findall(r"^COPY (\S+) ", DOCKERFILE, re.M):
        assert (ROOT / source).exists(), source


def test_compose_runs_two_instances_behind_nginx_on_postgres_and_redis():
    for service in ("postgres:", "redis:", "migrate:", "app1:", "app2:", "nginx:"):
        assert f"\n  {service}" in COMPOSE, service
    assert "DATABASE_URL: postgres://" in COMPOSE and "CACHE_URL: redis://" in COMPOSE
    assert "server app1:8000;" in COMPOSE and "server app2:8000;" in COMPOSE
    assert '"manage.py", "migrate"' in COMPOSE
    # Secrets come from the operator's environment, never from the file.
    assert "${DJANGO_SECRET_KEY:?" in COMPOSE and "${FIELD_ENCRYPTION_KEYS:?" in COMPOSE


def test_the_build_context_leaves_out_secrets_and_local_state():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for path in (".env", ".venv", ".git", "data/", "**/__pycache__"):
        assert path in ignored, path


def test_the_compose_nginx_forwards_the_host_with_its_port():
    # Django's CSRF check compares a POST's Origin with the Host: without the port, every
    # login on http://localhost:8080 was refused (tests/test_compose_nginx.py runs it).
    assert "proxy_set_header Host $$http_host;" in COMPOSE
