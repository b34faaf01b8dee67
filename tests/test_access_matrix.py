"""Every line-scoped URL × every kind of user: the access check cannot be forgotten.

The URL patterns are discovered from the resolver, so a view added later with a
`<... :line_id>` in its route joins this matrix without anyone editing this file.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.core.management.color import no_style
from django.db import connection
from django.shortcuts import resolve_url
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import get_converters
from django.utils import timezone

from dashboard.lines.access import ACCESS_MARKER
from dashboard.lines.models import AuditEvent, Line

# A sample value for every other URL argument a line-scoped route may take, by converter.
# A new converter fails the matrix (below) until it gets a sample here.
SAMPLE_BY_CONVERTER = {
    "int": 1,
    "str": "sample",
    "slug": "sample",
    "path": "sample",
    "uuid": uuid.UUID(int=1),
    "kind": "missed",
}
_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class LinePattern:
    route: str  # the full route, prefixes included, e.g. "lines/<int:line_id>/settings/"
    pattern: URLPattern

    @property
    def access(self) -> str | None:
        return getattr(self.pattern.callback, ACCESS_MARKER, None)

    def url(self, line_id: int) -> str:
        def fill(match: re.Match) -> str:
            converter_name = match["converter"] or "str"
            converter = get_converters()[converter_name]
            if match["name"] == "line_id":
                return converter.to_url(line_id)
            if converter_name not in SAMPLE_BY_CONVERTER:
                pytest.fail(
                    f"{self.route}: add a sample value for converter {converter_name!r} "
                    "to SAMPLE_BY_CONVERTER"
                )
            return converter.to_url(SAMPLE_BY_CONVERTER[converter_name])

        return "/" + _PARAM.sub(fill, self.route)

    def __str__(self) -> str:
        return self.pattern.name or self.route


def _walk(resolver: URLResolver, prefix: str = "") -> Iterator[LinePattern]:
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry, route)
            continue
        # The line may be named by an include()'s prefix (the alerts' routes) as well as
        # by the route itself: look at the whole route.
        if "line_id>" in route:
            yield LinePattern(route, entry)


LINE_PATTERNS = list(_walk(get_resolver()))
ROLES = ["owner", "shared_user", "group_user", "staff_user", "stranger", "anonymous"]
MANAGERS = {"owner", "staff_user"}
BROWSERS = {"shared_user", "group_user"}


def test_the_walk_finds_the_known_line_urls():
    names = {p.pattern.name for p in LINE_PATTERNS}
    assert {
        "line-home",
        "line-calls",
        "line-settings",
        "line-key",
        "line-check",
        "line-share",
        "line-unshare",
        "line-delete",
        "line-audit",
        "line-inbox",
        "line-alerts",  # under an include(): the prefix names the line
        "alert-rule",
    } <= names


@pytest.mark.parametrize("line_pattern", LINE_PATTERNS, ids=str)
def test_every_line_url_goes_through_line_view(line_pattern):
    assert re.fullmatch(r"[^()\\^$]*", line_pattern.route), (
        f"{line_pattern.route}: use path(), not re_path(), for line-scoped URLs"
    )
    assert line_pattern.access in ("browse", "manage"), (
        f"{line_pattern} takes a line_id but is not wrapped in dashboard.lines.access.line_view"
    )


def _login_target(response) -> str:
    """Where the response sends the browser to log in ("" if it does not)."""
    login = resolve_url(settings.LOGIN_URL)
    location = response.headers.get("HX-Redirect") or (
        response.headers.get("Location", "") if response.status_code == 302 else ""
    )
    return location if location.split("?", 1)[0] == login else ""


def _requests(line_pattern: LinePattern) -> list[tuple[str, dict[str, str]]]:
    """GET and htmx GET everywhere; POST too where the view manages the line."""
    requests = [("get", {}), ("get", {"HTTP_HX_REQUEST": "true"})]
    if line_pattern.access == "manage":
        requests.append(("post", {}))
    return requests


CASES = [
    pytest.param(p, role, method, headers, id=f"{p}-{role}-{method}{'-htmx' if headers else ''}")
    for p in LINE_PATTERNS
    for method, headers in _requests(p)
    for role in ROLES
]


@pytest.fixture
def sample_objects(line):
    """Objects a route may name by id (the `int` sample, 1) on the line under test: an
    inbox caller. An explicit pk, as PostgreSQL's sequences outlive rolled-back tests."""
    from dashboard.inbox.models import Episode

    at = timezone.now()
    Episode.objects.create(
        pk=SAMPLE_BY_CONVERTER["int"],
        line=line,
        number="+32470000000",
        first_attempt_at=at,
        last_attempt_at=at,
        attempts=1,
    )
    # The sequence past that pk, or the inbox's own filings collide with it (PostgreSQL).
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Episode]):
            cursor.execute(sql)


@pytest.mark.parametrize(("line_pattern", "role", "method", "headers"), CASES)
def test_access_matrix(request, client, line, sample_objects, line_pattern, role, method, headers):
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))
    else:
        # The shared users exist in every case, so only the role differs between runs.
        request.getfixturevalue("shared_user")
        request.getfixturevalue("group_user")
    url = line_pattern.url(line.pk)
    response = getattr(client, method)(url, **headers)

    if role == "anonymous":
        target = _login_target(response)
        assert target, f"{method.upper()} {url}: {response.status_code}, not sent to log in"
        assert "next=" in target
        _assert_untouched(line)
        return
    assert not _login_target(response)
    if role == "stranger":
        assert response.status_code == 404
        _assert_untouched(line)
    elif role in BROWSERS and line_pattern.access == "manage":
        assert response.status_code == 403
        _assert_untouched(line)
    else:
        # Through the check: a page, a redirect, (method-restricted views) 405, or 400 from
        # a screen that needs a query this matrix does not send (the mark screen's call).
        assert response.status_code in (200, 302, 400, 405), response.status_code


def _assert_untouched(line: Line) -> None:
    """A refused request changed nothing: same line, no audit event."""
    stored = Line.objects.get(pk=line.pk)
    assert (stored.label, stored.encrypted_api_key) == (line.label, line.encrypted_api_key)
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("line_pattern", LINE_PATTERNS, ids=str)
def test_a_line_that_does_not_exist_is_a_404_even_for_staff(client, staff_user, line_pattern):
    client.force_login(staff_user)
    assert client.get(line_pattern.url(987654)).status_code == 404


@pytest.mark.parametrize("line_pattern", LINE_PATTERNS, ids=str)
def test_an_inactive_owner_is_treated_as_a_stranger(client, owner, line, line_pattern):
    owner.is_active = False
    owner.save()
    client.force_login(owner)
    response = client.get(line_pattern.url(line.pk))
    # Django's ModelBackend logs an inactive user out; either way they see nothing.
    assert response.status_code in (302, 404)
    assert response.status_code == 404 or _login_target(response)
