"""Every screen × hostile input: whatever a query string, a form or a header holds, the
answer is a page or a clear refusal, never a 500 (issue #16: "no new 5xx for any input").

The URLs come from the resolver (tests/test_access_matrix.py's walk) and the field names
from every form class and every query parameter the views read, so a view or a field
added later is swept without anyone editing this file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django import forms
from django.urls import reverse

from tests.test_access_matrix import LINE_PATTERNS, sample_objects  # noqa: F401 (a fixture)

ROOT = Path(__file__).resolve().parent.parent
# Values people paste, tools send and attackers try: empty, signs and overflows, impossible
# dates, markup, NUL and control characters, SQL, right-to-left marks, other digits, a
# value far longer than any field.
HOSTILE = [
    "",
    "-1",
    "99999999999999999999999999",
    "1e309",
    "nan",
    "2026-02-30",
    "2026-12-04T25:61",
    "<script>alert(1)</script>",
    "\x00\x01\x7f",
    "' OR 1=1 --",
    "\u202e\u0661\u0662\U0001d7d8",
    "%",
    "../../etc/passwd",
    "x" * 5000,
]
# Headers the app reads: htmx's, the language, the proxy's and the SSO's.
HOSTILE_HEADERS = {
    "HTTP_HX_REQUEST": "true",
    "HTTP_HX_CURRENT_URL": "javascript:alert(1)//\x00",
    "HTTP_HX_TARGET": "<x>",
    "HTTP_HX_TRIGGER": "\x00",
    "HTTP_ACCEPT_LANGUAGE": "x" * 300 + ";q=abc, ja;q=-1",
    "HTTP_X_FORWARDED_FOR": "not-an-ip, \x00",
    "HTTP_X_FORWARDED_PROTO": "gopher",
    "HTTP_LAST_EVENT_ID": "-99999999999999999999",
    "HTTP_COOKIE": "tz=\x00; sessionid=../../",
}


def _query_names() -> set[str]:
    """Every query parameter a view reads by name (request.GET.get("x") and the like)."""
    names = set()
    for path in (ROOT / "dashboard").rglob("*.py"):
        names |= set(re.findall(r"GET(?:\.get|\.getlist)?[\(\[]\"([a-z_]+)\"", path.read_text()))
    return names


def _form_field_names() -> set[str]:
    """Every field of every form class of the project, the call filter's included."""
    import dashboard.accounts.forms
    import dashboard.alerts.forms
    import dashboard.calls.filters
    import dashboard.followup.forms
    import dashboard.inbox.forms
    import dashboard.lines.forms
    import dashboard.webhooks.forms  # noqa: F401  (imported for their form classes)

    names = set()
    stack = [forms.BaseForm]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith("dashboard."):
            names |= set(getattr(cls, "base_fields", {}))
    return names


FIELDS = sorted(_query_names() | _form_field_names())


def test_the_sweep_knows_the_fields_people_type_into():
    # The walk must find the filters, the marks and the inbox's controls, or it sweeps air.
    assert {"q", "page", "sort", "cursor", "status", "note", "number"} <= set(FIELDS)
    assert {"line-inbox", "line-alerts", "alert-rule", "line-webhook"} <= {
        p.pattern.name for p in LINE_PATTERNS
    }


def _urls(line) -> list[str]:
    other = [
        reverse("home"),
        reverse("preferences"),
        reverse("browser-time-zone"),
        reverse("set_language"),
        reverse("line-list"),
        reverse("line-create"),
        reverse("webhook-receive", kwargs={"token": "x" * 40}),
    ]
    # Deleting the line (a confirmed POST) goes last, or every URL after it is a 404.
    ordered = sorted(LINE_PATTERNS, key=lambda p: p.pattern.name == "line-delete")
    return other + [p.url(line.pk) for p in ordered]


def _refused_cleanly(response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code}"
    # A streamed body (the CSV exports) fails while it is read, after its 200: read it.
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if response.get("Content-Type", "").startswith("text/html"):
        assert b"Traceback" not in body, what


@pytest.fixture
def signed_in(request, owner_client, line):
    request.getfixturevalue("sample_objects")  # an inbox caller for the routes naming one
    return owner_client, line


@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: repr(v[:20]))
def test_no_query_string_makes_any_screen_fail(signed_in, value):
    client, line = signed_in
    query = dict.fromkeys(FIELDS, value)
    for url in _urls(line):
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            _refused_cleanly(client.get(url, query, **headers), f"GET {url} {headers}")


@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: repr(v[:20]))
def test_no_query_string_makes_an_export_fail_while_it_streams(signed_in, value):
    # Without `format` (any hostile one is a 400 before a row is read), so the rows are.
    client, line = signed_in
    query = {name: value for name in FIELDS if name != "format"}
    for url in _urls(line):
        if url.endswith(".csv"):
            for variant in ({}, {"format": "plain"}):
                response = client.get(url, {**query, **variant})
                _refused_cleanly(response, f"GET {url} {variant}")


@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: repr(v[:20]))
def test_no_form_makes_any_screen_fail(signed_in, value):
    client, line = signed_in
    # Each field once with the value, and a list field twice (a repeated key).
    data = {name: [value, value] for name in FIELDS}
    for url in _urls(line):
        _refused_cleanly(client.post(url, data), f"POST {url}")


def test_no_header_makes_any_screen_fail(signed_in):
    client, line = signed_in
    for url in _urls(line):
        _refused_cleanly(client.get(url, **HOSTILE_HEADERS), f"GET {url} with hostile headers")
        _refused_cleanly(client.post(url, {}, **HOSTILE_HEADERS), f"POST {url} hostile headers")


def test_repeated_and_unknown_parameters_are_harmless(signed_in):
    client, line = signed_in
    query = "&".join(f"{name}=1&{name}=2" for name in FIELDS) + "&zzz=%ZZ&=&&a[b]=c"
    for url in _urls(line):
        _refused_cleanly(client.get(f"{url}?{query}"), f"GET {url}?(repeated)")
