"""Shared fixtures: a recording demo upstream behind the real client, and users of each
access level around one line."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.utils import translation

from dashboard.lines.models import Line
from dashboard.ops.local_cache import LocalCache
from dashboard.ops.safe_cache import SafeCache
from dashboard.smsmobileapi import conf
from dashboard.smsmobileapi.client import SmsMobileApiClient
from dashboard.smsmobileapi.demo import DemoUpstream

# A fixed "now" for the demo data: tests see the same calls on every run.
DEMO_NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
SUPPORT_KEY = "demo-support"


@pytest.fixture
def demo_upstream() -> DemoUpstream:
    return DemoUpstream(clock=lambda: DEMO_NOW, record_requests=True)


@pytest.fixture(autouse=True)
def upstream_client(demo_upstream: DemoUpstream) -> Iterator[SmsMobileApiClient]:
    """Every test talks to its own recording demo upstream through the real client."""
    client = SmsMobileApiClient(
        conf.DEMO_BASE_URL,
        transport=httpx.WSGITransport(app=demo_upstream),
        connect_timeout=1.0,
        read_timeout=2.0,
    )
    previous = conf.set_client(client)
    yield client
    conf.set_client(previous)
    client.close()


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    cache.clear()
    LocalCache.clear_all()
    yield
    cache.clear()
    LocalCache.clear_all()


@pytest.fixture(autouse=True)
def _fresh_cache_warnings(monkeypatch) -> None:
    """SafeCache warns once a minute per process (a class attribute): each test starts
    with no warning given yet, and the value a test leaves is undone after it."""
    monkeypatch.setattr(SafeCache, "_warned_at", 0.0)


@pytest.fixture(autouse=True)
def _english_after_each_test() -> Iterator[None]:
    """LocaleMiddleware activates a request's language in the thread and leaves it there
    (the next request sets its own); a Japanese request must not leak into the next test."""
    yield
    translation.deactivate()


@pytest.fixture
def owner(db) -> User:
    return User.objects.create_user("olivia", password="pw-olivia")


@pytest.fixture
def line(owner: User) -> Line:
    line = Line(owner=owner, label="Support phone", default_region="BE")
    line.set_api_key(SUPPORT_KEY)
    line.save()
    return line


def make_line(owner: User, key: str, label: str | None = None) -> Line:
    line = Line(owner=owner, label=label or key.replace("demo-", "Line "))
    line.set_api_key(key)
    line.save()
    return line


@pytest.fixture
def support_group(db) -> Group:
    return Group.objects.create(name="support")


@pytest.fixture
def shared_user(line: Line) -> User:
    user = User.objects.create_user("sam", password="pw-sam")
    line.shared_with_users.add(user)
    return user


@pytest.fixture
def group_user(line: Line, support_group: Group) -> User:
    user = User.objects.create_user("gabriel", password="pw-gabriel")
    user.groups.add(support_group)
    line.shared_with_groups.add(support_group)
    return user


@pytest.fixture
def staff_user(db) -> User:
    return User.objects.create_user("stella", password="pw-stella", is_staff=True)


@pytest.fixture
def stranger(db) -> User:
    return User.objects.create_user("mallory", password="pw-mallory")


@pytest.fixture
def owner_client(client, owner: User):
    client.force_login(owner)
    return client


@pytest.fixture(scope="session", autouse=True)
def _services_pass_really_uses_the_services(django_db_setup, django_db_blocker):
    """In the services pass (make test sets REQUIRE_SERVICES=1) the suite must run on
    PostgreSQL and Redis, not silently fall back to SQLite and local memory."""
    import os

    if os.environ.get("REQUIRE_SERVICES") != "1":
        return
    from django.db import connection

    assert connection.vendor == "postgresql", f"services pass on {connection.vendor}"
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    assert isinstance(caches["default"], RedisCache), f"services pass on {caches['default']!r}"
    with django_db_blocker.unblock():
        cache.set("services-pass-probe", "1", timeout=5)
        assert cache.get("services-pass-probe") == "1"
