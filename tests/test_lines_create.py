"""Adding a line: the key is checked live, validated clearly, never shown back."""

from __future__ import annotations

import httpx
import pytest
from django.urls import reverse

from dashboard.lines.models import AuditAction, AuditEvent, KeyStatus, Line
from dashboard.smsmobileapi import conf
from dashboard.smsmobileapi.client import SmsMobileApiClient

URL = reverse("line-create")
SECRET = "demo-n3w-s3cr3t"


def post(client, **fields):
    return client.post(URL, {"label": "Support phone", "api_key": SECRET, **fields})


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_the_form_has_a_write_only_password_field(owner_client):
    html = owner_client.get(URL).content.decode()
    assert 'type="password" name="api_key"' in html
    assert 'autocomplete="off"' in html
    # No maxlength: the browser would cut a long paste silently instead of us explaining.
    field = html.split('name="api_key"', 1)[1].split(">", 1)[0]
    assert "maxlength" not in field and "value=" not in field


def test_a_valid_key_is_checked_with_one_request_per_family_and_saved(
    owner_client, owner, demo_upstream
):
    response = post(owner_client, default_region="be")
    line = Line.objects.get(owner=owner)
    assert response.status_code == 302 and response["Location"] == reverse(
        "line-settings", args=[line.pk]
    )
    assert (line.label, line.default_region, line.key_hint) == ("Support phone", "BE", "cr3t")
    assert line.get_api_key() == SECRET
    assert line.key_status == KeyStatus.VALID and line.key_checked_at is not None
    assert [(r.path, r.params) for r in demo_upstream.recorded()] == [
        ("/call/missed/list/", {"offset": "0", "limit": "1", "apikey": SECRET}),
        (
            "/call/incoming/list/",
            {
                "offset": "0",
                "limit": "1",
                "sort_by": "call_date_ms",
                "sort_dir": "desc",
                "apikey": SECRET,
            },
        ),
    ]
    page = owner_client.get(response["Location"])
    assert "SMSMobileAPI accepted the key." in messages_of(page)
    assert SECRET not in page.content.decode()
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.details) == (
        AuditAction.CREATED,
        owner,
        {"key_hint": "cr3t", "key_status": "valid"},
    )


def test_a_rejected_key_is_not_saved_and_not_shown_back(owner_client, demo_upstream):
    response = post(owner_client, api_key="demo-invalid")
    assert response.status_code == 200
    html = response.content.decode()
    assert "SMSMobileAPI rejected this API key" in html
    assert "demo-invalid" not in html
    assert 'value="Support phone"' in html  # the label is kept for the retry
    assert not Line.objects.exists() and not AuditEvent.objects.exists()
    # Rejected on the missed endpoint already: no second request.
    assert [r.path for r in demo_upstream.recorded()] == ["/call/missed/list/"]


def test_a_key_with_an_expired_subscription_is_saved_with_a_warning(owner_client):
    response = post(owner_client, api_key="demo-expired", label="Expired")
    line = Line.objects.get()
    assert line.key_status == KeyStatus.EXPIRED
    warnings = messages_of(owner_client.get(response["Location"]))
    assert any("subscription has expired" in m for m in warnings)


@pytest.mark.parametrize("key", ["demo-failing", "demo-broken", "demo-ratelimited"])
def test_a_key_the_provider_cannot_answer_for_is_saved_as_could_not_be_checked(owner_client, key):
    response = post(owner_client, api_key=key)
    assert response.status_code == 302
    assert Line.objects.get().key_status == KeyStatus.UNREACHABLE
    warnings = messages_of(owner_client.get(response["Location"]))
    assert any("could not be checked" in m for m in warnings)


def test_an_unreachable_provider_is_asked_once_and_the_key_saved_unchecked(owner_client):
    attempts = []

    def refuse(request):
        attempts.append(request.url.path)
        raise httpx.ConnectError("refused", request=request)

    previous = conf.set_client(
        SmsMobileApiClient("http://upstream", transport=httpx.MockTransport(refuse))
    )
    try:
        response = post(owner_client)
    finally:
        conf.set_client(previous).close()
    assert response.status_code == 302
    assert Line.objects.get().key_status == KeyStatus.UNREACHABLE
    # The client's one connect retry, on the missed endpoint only: no second family.
    assert attempts == ["/call/missed/list/", "/call/missed/list/"]


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "Enter the API key."),
        ("   \t  ", "Enter the API key."),
        ("x" * 10_240, "That is 10240 characters long; an SMSMobileAPI key has at most 200."),
        ("demo-abc\ndemo-def", "line break or another invisible control character"),
        ("demo-abc\x07defgh", "line break or another invisible control character"),
        ("demo-abc\u200bdefgh", "line break or another invisible control character"),
        ("demo-abc defgh", "The key contains spaces."),
        ("demo-x", "too short to be an SMSMobileAPI key"),
    ],
)
def test_bad_keys_get_a_clear_message_and_nothing_is_saved(
    owner_client, demo_upstream, key, message
):
    response = post(owner_client, api_key=key)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    if key.strip():
        assert key.strip()[:12] not in html.split("<main", 1)[1]
    assert not Line.objects.exists()
    assert demo_upstream.recorded() == []  # never sent upstream


def test_whitespace_around_a_pasted_key_is_stripped(owner_client):
    post(owner_client, api_key=f"  {SECRET}\n")
    assert Line.objects.get().get_api_key() == SECRET


def test_a_duplicate_label_is_a_form_error_and_the_key_is_not_rendered(owner_client, line):
    response = post(owner_client, label="  Support   phone ")
    html = response.content.decode()
    assert "You already have a line called “Support phone”" in html
    assert SECRET not in html
    assert Line.objects.count() == 1


def test_another_owner_may_use_the_same_label(client, line, stranger):
    client.force_login(stranger)
    assert post(client).status_code == 302
    assert Line.objects.filter(label="Support phone").count() == 2


def test_labels_with_markup_are_stored_as_typed_and_escaped_everywhere(owner_client, owner):
    label = '<img src=x onerror="alert(1)">'
    response = post(owner_client, label=label)
    line = Line.objects.get(owner=owner)
    assert line.label == label
    for url in (response["Location"], reverse("line-list"), reverse("line-audit", args=[line.pk])):
        html = owner_client.get(url).content.decode()
        assert "<img src=x" not in html
        assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"label": "   "}, "Give the line a label"),
        ({"label": "x" * 81}, "Keep the label under 80 characters."),
        ({"label": "Support\x07phone"}, "invisible control characters"),
        ({"label": "Support\x00phone"}, "Null characters are not allowed."),
        ({"default_region": "XX"}, "is not a country code"),
    ],
)
def test_bad_labels_and_regions_get_a_clear_message(owner_client, demo_upstream, fields, message):
    response = post(owner_client, **fields)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Line.objects.exists()
    assert demo_upstream.recorded() == []


def test_anyone_logged_in_can_add_their_own_line(client, stranger):
    client.force_login(stranger)
    post(client)
    assert Line.objects.get().owner == stranger


def test_anonymous_users_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_error_reports_are_told_to_hide_the_posted_key(owner_client):
    response = post(owner_client, api_key="demo-invalid")
    assert response.wsgi_request.sensitive_post_parameters == ("api_key",)
