"""Line settings → Webhook: the URL, write-only secrets, rotation, delivery counts; the
set_webhook_secret and prune_webhook_events commands."""

from __future__ import annotations

import io
import logging
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dashboard.lines.models import AuditEvent
from dashboard.webhooks import services
from dashboard.webhooks.models import WebhookEndpoint, WebhookEvent
from tests.webhook_helpers import NEXT_SECRET, SECRET, deliver, envelope


class FakeStdin(io.StringIO):
    def isatty(self) -> bool:
        return False


def page(client, line):
    return client.get(reverse("line-webhook", args=[line.pk]))


def test_the_owner_sees_the_full_url_to_paste(owner_client, line):
    response = page(owner_client, line)
    assert response.status_code == 200
    token = WebhookEndpoint.objects.get(line=line).token
    assert f"http://testserver/webhooks/smsmobileapi/{token}/" in response.content.decode()
    assert "Not set: deliveries are refused" in response.content.decode()


def test_each_line_gets_its_own_unguessable_url(owner_client, line, owner):
    from tests.conftest import make_line

    other = make_line(owner, "demo-sales")
    page(owner_client, line)
    page(owner_client, other)
    tokens = list(WebhookEndpoint.objects.values_list("token", flat=True))
    assert len(set(tokens)) == 2
    assert all(len(t) >= 43 for t in tokens)


def test_browse_only_users_cannot_open_it(client, line, shared_user):
    client.force_login(shared_user)
    assert page(client, line).status_code == 403


def test_saving_a_secret_stores_it_encrypted_and_never_shows_it(owner_client, line, caplog):
    caplog.set_level(logging.DEBUG)
    url = reverse("line-webhook", args=[line.pk])
    response = owner_client.post(url, {"action": "secret", "secret": SECRET}, follow=True)
    html = response.content.decode()
    assert "Signing secret saved." in html
    assert SECRET not in html
    endpoint = WebhookEndpoint.objects.get(line=line)
    assert endpoint.has_secret and SECRET not in endpoint.encrypted_secret
    assert endpoint.signing_secrets() == [SECRET]
    assert SECRET not in "\n".join(r.getMessage() for r in caplog.records)
    audit = AuditEvent.objects.get(line=line)
    assert audit.action == "webhook_secret_set" and SECRET not in repr(audit.details)
    # Deliveries signed with it are now accepted.
    assert deliver(Client(), endpoint).status_code == 202


def test_an_invalid_secret_is_refused_without_being_quoted(owner_client, line):
    url = reverse("line-webhook", args=[line.pk])
    pasted = "whsec_has a_space_inside_it_123"
    response = owner_client.post(url, {"action": "secret", "secret": pasted})
    assert response.status_code == 200
    html = response.content.decode()
    assert "contains spaces" in html
    assert pasted not in html
    assert not WebhookEndpoint.objects.get(line=line).has_secret


def test_a_rotation_from_the_page(owner_client, line):
    url = reverse("line-webhook", args=[line.pk])
    owner_client.post(url, {"action": "secret", "secret": SECRET})
    owner_client.post(url, {"action": "next_secret", "next_secret": NEXT_SECRET})
    endpoint = WebhookEndpoint.objects.get(line=line)
    assert endpoint.signing_secrets() == [SECRET, NEXT_SECRET]
    assert "Make the next secret current" in page(owner_client, line).content.decode()
    owner_client.post(url, {"action": "finish_rotation"})
    endpoint.refresh_from_db()
    assert endpoint.signing_secrets() == [NEXT_SECRET]
    assert deliver(Client(), endpoint, secret=SECRET).status_code == 401


def test_a_new_url_replaces_the_old_one(owner_client, line):
    old = services.set_secret(line, SECRET)
    owner_client.post(reverse("line-webhook", args=[line.pk]), {"action": "rotate_url"})
    new = WebhookEndpoint.objects.get(line=line)
    assert new.token != old.token
    assert deliver(Client(), old).status_code == 404
    assert deliver(Client(), new).status_code == 202


def test_the_page_shows_the_last_delivery_and_the_counts(owner_client, line):
    endpoint = services.set_secret(line, SECRET)
    event = envelope()
    deliver(Client(), endpoint, event)
    deliver(Client(), endpoint, event)
    deliver(Client(), endpoint, secret="whsec_wrong_wrong_wrong")
    html = page(owner_client, line).content.decode()
    assert "Refused: the signature does not match the secret" in html
    import re

    numbers = re.findall(r'<dd class="num">(\d+)</dd>', html)
    assert numbers == ["1", "1", "1"]


def test_the_settings_tabs_link_to_it(owner_client, line):
    html = owner_client.get(reverse("line-settings", args=[line.pk])).content.decode()
    assert reverse("line-webhook", args=[line.pk]) in html


# Commands ---------------------------------------------------------------------------------


def test_set_webhook_secret_reads_stdin_and_prints_the_path(line):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "set_webhook_secret", str(line.pk), stdin=FakeStdin(SECRET + "\n"), stdout=out, stderr=err
    )
    endpoint = WebhookEndpoint.objects.get(line=line)
    assert out.getvalue().strip() == f"/webhooks/smsmobileapi/{endpoint.token}/"
    assert SECRET not in out.getvalue() + err.getvalue()
    assert endpoint.signing_secrets() == [SECRET]


def test_set_webhook_secret_next_adds_the_rotation_secret(line):
    call_command(
        "set_webhook_secret",
        str(line.pk),
        stdin=FakeStdin(SECRET),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    call_command(
        "set_webhook_secret",
        str(line.pk),
        "--next",
        stdin=FakeStdin(NEXT_SECRET),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert WebhookEndpoint.objects.get(line=line).signing_secrets() == [SECRET, NEXT_SECRET]


@pytest.mark.parametrize("stdin", ["", "short", "two\nlines-of-secret-text", "x" * 5000])
def test_set_webhook_secret_refuses_bad_input_without_quoting_it(line, stdin):
    with pytest.raises(CommandError) as caught:
        call_command(
            "set_webhook_secret",
            str(line.pk),
            stdin=FakeStdin(stdin),
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    if len(stdin) > 8:
        assert stdin[:20] not in str(caught.value)
    assert not WebhookEndpoint.objects.filter(line=line).exclude(encrypted_secret="").exists()


def test_set_webhook_secret_names_an_unknown_line(db):
    with pytest.raises(CommandError, match="No line has the id 999"):
        call_command("set_webhook_secret", "999", stdin=FakeStdin(SECRET), stdout=io.StringIO())


def test_prune_deletes_only_events_past_the_retention(line, settings):
    settings.WEBHOOK_EVENT_RETENTION_DAYS = 30
    endpoint = services.set_secret(line, SECRET)
    deliver(Client(), endpoint)
    deliver(Client(), endpoint)
    old = WebhookEvent.objects.first()
    WebhookEvent.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=31))
    out = io.StringIO()
    call_command("prune_webhook_events", "--dry-run", stdout=out)
    assert "Would delete 1 webhook events older than 30 days." in out.getvalue()
    assert WebhookEvent.objects.count() == 2
    call_command("prune_webhook_events", stdout=io.StringIO())
    assert list(WebhookEvent.objects.values_list("pk", flat=True)) == [
        e for e in WebhookEvent.objects.values_list("pk", flat=True) if e != old.pk
    ]
    assert WebhookEvent.objects.count() == 1


def test_deliveries_refused_for_the_rate_count_as_refused(owner_client, line, owner):
    import re

    from django.test import override_settings

    from tests.conftest import make_line

    endpoint = services.set_secret(line, SECRET)
    other = services.set_secret(make_line(owner, "demo-sales"), SECRET)
    with override_settings(WEBHOOK_RATE_LIMIT=1):
        assert deliver(Client(), endpoint).status_code == 202
        assert deliver(Client(), endpoint).status_code == 429
        assert deliver(Client(), endpoint).status_code == 429
        assert deliver(Client(), other).status_code == 202
        assert deliver(Client(), other).status_code == 429
        deliver(Client(), endpoint, secret="whsec_wrong_wrong_wrong")  # 429 before the signature
        html = page(owner_client, line).content.decode()
    accepted, duplicates, refused = re.findall(r'<dd class="num">(\d+)</dd>', html)
    assert (accepted, duplicates, refused) == ("1", "0", "3")  # the other line's is its own
    assert "including 3 over the rate limit (more than 1 deliveries a minute)" in html
    # Counted in the cache: no row written per refusal.
    endpoint.refresh_from_db()
    assert endpoint.refused_count == 0
