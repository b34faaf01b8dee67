"""A full add → browse → error → rotate cycle: no key in any page, header, log record,
cache entry, database row in clear, session or command output."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import httpx
import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from dashboard.lines.models import KeyStatus, Line
from dashboard.smsmobileapi import conf
from dashboard.smsmobileapi.client import SmsMobileApiClient
from tests.test_access_matrix import LINE_PATTERNS

# Every key typed in the cycle: accepted, rejected, malformed, refused for length.
ADDED = "demo-cycl3-s3cr3t-a"
REPLACED_WHILE_DOWN = "demo-cycl3-s3cr3t-b"
REJECTED = "cycl3-s3cr3t-rejected"
MALFORMED = "demo-cycl3-s3cr3t\nsecond-line"
TOO_LONG = "demo-cycl3-s3cr3t-long-" + "z" * 300
FROM_STDIN = "demo-cycl3-s3cr3t-stdin"
SECRETS = [ADDED, REPLACED_WHILE_DOWN, REJECTED, MALFORMED, TOO_LONG, FROM_STDIN]
# What must not appear: each key, and each line of a multi-line one.
NEEDLES = sorted({part for s in SECRETS for part in s.splitlines() if len(part) >= 12})

OLD_GEN = settings.FIELD_ENCRYPTION_KEYS[0]
NEW_GEN = Fernet.generate_key().decode()


class FakeStdin(io.StringIO):
    def isatty(self) -> bool:
        return False


class Cycle:
    """Collects everything the cycle produces that someone could read."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    def response(self, response, what: str):
        assert response.status_code != 500, (what, response.status_code)  # 502 is an answer
        body = b"".join(response.streaming_content) if response.streaming else response.content
        self.texts.append((f"{what} body", body.decode("utf-8", "replace")))
        self.texts.append((f"{what} headers", repr(dict(response.headers))))
        self.texts.append((f"{what} cookies", response.cookies.output()))
        for hop in getattr(response, "redirect_chain", []):
            self.texts.append((f"{what} redirect", repr(hop)))
        return response

    def command(self, name: str, *args: str, stdin: str | None = None) -> str:
        out, err = io.StringIO(), io.StringIO()
        extra = {"stdin": FakeStdin(stdin)} if stdin is not None else {}
        call_command(name, *args, stdout=out, stderr=err, **extra)
        self.texts.append((f"{name} output", out.getvalue() + err.getvalue()))
        return out.getvalue()

    def assert_clean(self, label: str, text: str) -> None:
        for needle in NEEDLES:
            assert needle not in text, f"a key leaked into {label}"


def rendered(record: logging.LogRecord) -> str:
    return " ".join(
        [record.getMessage(), str(record.args), repr(record.exc_info), str(record.exc_text)]
        + [str(v) for v in record.__dict__.values()]
    )


def cache_contents() -> Iterator[tuple[str, bytes]]:
    """Every key and stored (pickled) value of every configured cache."""
    for alias in settings.CACHES:
        backend = caches[alias]
        if isinstance(backend, LocMemCache):
            with backend._lock:
                items = list(backend._cache.items())
            for key, value in items:
                yield key, value
        elif isinstance(backend, RedisCache):
            client = backend._cache.get_client(write=False)
            for key in client.scan_iter(match="*"):
                yield key.decode("utf-8", "replace"), client.get(key) or b""
        elif isinstance(backend, DummyCache):
            continue
        else:
            pytest.fail(f"teach this test to read a {type(backend).__name__} cache")


def database_dump() -> str:
    """Every row of every table, read raw, plus decoded session data."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            chunks.append(repr(cursor.fetchall()))
    for session in Session.objects.all():
        chunks.append(repr(SessionStore().decode(session.session_data)))
    return "\n".join(chunks)


def browse_everything(
    cycle: Cycle, client: Client, line: Line, who: str, *, access: str, htmx: bool = True
) -> None:
    """Every line-scoped URL of that access level (so future views are covered too)."""
    for pattern in LINE_PATTERNS:
        if pattern.access != access:
            continue
        url = pattern.url(line.pk)
        cycle.response(client.get(url, follow=True), f"{who} GET {url}")
        if htmx:
            cycle.response(client.get(url, HTTP_HX_REQUEST="true"), f"{who} htmx {url}")
    cycle.response(client.get(reverse("line-list")), f"{who} line list")


@pytest.fixture
def every_log(caplog):
    for name in ("", "httpx", "httpcore", "django", "django.request", "dashboard", "py.warnings"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


@override_settings(FIELD_ENCRYPTION_KEYS=[OLD_GEN])
def test_no_key_escapes_a_full_add_browse_error_rotate_cycle(
    every_log, owner, group_user, support_group, demo_upstream
):
    cycle = Cycle()
    owner_client = Client()
    owner_client.force_login(owner)
    support = Client()
    support.force_login(group_user)

    # Add: two bad attempts, then a good one, shared with the support group.
    create = reverse("line-create")
    for bad in (MALFORMED, TOO_LONG):
        page = owner_client.post(create, {"label": "Cycle line", "api_key": bad})
        assert page.status_code == 200
        cycle.response(page, "add with a malformed key")
    cycle.response(
        owner_client.post(create, {"label": "Cycle line", "api_key": REJECTED}, follow=True),
        "add with a rejected key",
    )
    cycle.response(
        owner_client.post(create, {"label": "Cycle line", "api_key": ADDED}, follow=True),
        "add",
    )
    line = Line.objects.get(label="Cycle line")
    assert line.key_status == KeyStatus.VALID
    cycle.response(
        owner_client.post(reverse("line-share", args=[line.pk]), {"group": "support"}, follow=True),
        "share",
    )

    # Browse, as the owner and as support staff.
    # (Browsing views are the slow ones: each runs once per phase, as support staff.)
    browse_everything(cycle, owner_client, line, "owner", access="manage")
    browse_everything(cycle, support, line, "support", access="browse")
    assert ADDED in {r.params.get("apikey") for r in demo_upstream.recorded()}

    # Errors: the provider goes down (an error whose text holds the URL), a key is
    # replaced meanwhile, a rejected replacement, then the stored key becomes unreadable.
    def refuse(request):
        raise httpx.ConnectError(f"cannot connect to {request.url}", request=request)

    previous = conf.set_client(
        SmsMobileApiClient("http://upstream", transport=httpx.MockTransport(refuse))
    )
    try:
        for kind in ("missed", "incoming"):
            url = reverse("line-calls", args=[line.pk, kind]) + "?refresh=1"
            cycle.response(support.get(url), "browse while down")
            cycle.response(support.get(url, HTTP_HX_REQUEST="true"), "htmx while down")
        cycle.response(
            owner_client.post(
                reverse("line-key", args=[line.pk]), {"api_key": REPLACED_WHILE_DOWN}, follow=True
            ),
            "replace while down",
        )
        cycle.response(
            owner_client.post(reverse("line-check", args=[line.pk]), follow=True),
            "check while down",
        )
    finally:
        conf.set_client(previous).close()
    line.refresh_from_db()
    assert line.key_status == KeyStatus.UNREACHABLE and line.get_api_key() == REPLACED_WHILE_DOWN
    cycle.response(
        owner_client.post(reverse("line-key", args=[line.pk]), {"api_key": REJECTED}),
        "replace with a rejected key",
    )
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_GEN]):
        browse_everything(cycle, support, line, "support, wrong encryption key", access="browse")
        browse_everything(cycle, owner_client, line, "owner, wrong encryption key", access="manage")

    # Rotate, add from the command line, list; then browse under the new generation only.
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_GEN, OLD_GEN]):
        cycle.command("rotate_encryption_keys")
        cycle.command(
            "add_line",
            "--owner",
            "olivia",
            "--label",
            "From CLI",
            "--share-group",
            "support",
            stdin=FROM_STDIN + "\n",
        )
        cycle.command("list_lines")
        cycle.command("prune_access_log")
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_GEN]):
        demo_upstream.clear_requests()
        browse_everything(cycle, support, line, "after rotation", access="browse", htmx=False)
        browse_everything(cycle, owner_client, line, "owner after rotation", access="manage")
        # The rotated key still works: requests carry it, pages do not.
        assert REPLACED_WHILE_DOWN in {r.params.get("apikey") for r in demo_upstream.recorded()}
        assert Line.objects.get(label="From CLI").get_api_key() == FROM_STDIN

    # Everything anyone could read afterwards.
    for label, text in cycle.texts:
        cycle.assert_clean(label, text)
    assert every_log.records, "the log capture must see the cycle"
    for record in every_log.records:
        cycle.assert_clean(
            f"log record {record.name}: {record.getMessage()[:80]}", rendered(record)
        )
    contents = list(cache_contents())
    if not isinstance(caches["default"], DummyCache):
        assert any("lines:access-log" in key for key, _value in contents)  # we did look
    for key, value in contents:
        cycle.assert_clean(f"cache key {key}", key)
        cycle.assert_clean(f"cache entry {key}", value.decode("latin-1"))
    cycle.assert_clean("the database", database_dump())


def test_the_admin_shows_hints_and_trails_never_keys(client, owner, line, demo_upstream):
    from django.contrib.auth.models import User

    admin = User.objects.create_superuser("root", password="pw-root")
    client.force_login(admin)
    client.post(reverse("line-key", args=[line.pk]), {"api_key": ADDED})
    client.get(reverse("line-calls", args=[line.pk, "missed"]))
    for url in (
        reverse("admin:lines_line_changelist"),
        reverse("admin:lines_line_change", args=[line.pk]),
        reverse("admin:lines_auditevent_changelist"),
        reverse("admin:lines_accesslogentry_changelist"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert ADDED not in html and "demo-support" not in html, url
    assert (
        f"…{ADDED[-4:]}"
        in client.get(reverse("admin:lines_auditevent_changelist")).content.decode()
    )
    assert client.get(reverse("admin:lines_line_add")).status_code == 403
