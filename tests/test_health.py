"""/healthz and /readyz: for load balancers, unauthenticated, revealing nothing else."""

from __future__ import annotations

from unittest import mock

import pytest


def test_healthz_answers_without_touching_the_database(client):
    # No db fixture: pytest-django raises on any database access in this test.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_endpoints_accept_any_host_header_and_plain_http(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/healthz", HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 200


@pytest.mark.django_db
def test_readyz_reports_database_and_cache(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}


@pytest.mark.django_db
def test_readyz_reports_a_failing_cache_with_503(client):
    with mock.patch("dashboard.ops.health.cache.set", side_effect=ConnectionError("redis down")):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "cache": "failing"}


@pytest.mark.django_db
def test_readyz_reports_a_failing_database_with_503(client):
    with mock.patch("dashboard.ops.health.connection.cursor", side_effect=OSError("db down")):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "failing"
    assert "db down" not in response.content.decode()
