"""The line's Alerts page: rules and destinations managed by the owner (through the one
access check), the destination's URL write-only, a test send, the outbox with each
delivery's state, and each person's own opt-out."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from dashboard.alerts import delivery, rules
from dashboard.alerts.models import (
    AlertRule,
    Delivery,
    DeliveryState,
    Destination,
    MemberPreference,
    RuleKind,
)
from tests.alerting import (
    CHAT_PASSWORD,
    CHAT_TOKEN,
    chat_destination,
    chat_url,
    spike_alert,
    spike_rule,
)
from tests.receivers import http_receiver


def page(client, line):
    return client.get(reverse("line-alerts", kwargs={"line_id": line.pk}))


def test_the_owner_adds_a_spike_rule_and_it_is_listed(owner_client, line):
    url = reverse("alert-rule", kwargs={"line_id": line.pk})
    assert owner_client.get(url + "?kind=spike").status_code == 200
    response = owner_client.post(
        url,
        {
            "kind": "spike",
            "enabled": "on",
            "missed_count": "3",
            "window_minutes": "15",
            "time_zone": "Europe/Brussels",
            "notify_members": "on",
        },
    )
    assert response.status_code == 302
    rule = AlertRule.objects.get(line=line)
    assert (rule.kind, rule.missed_count, rule.window_minutes) == (RuleKind.SPIKE, 3, 15)
    html = page(owner_client, line).content.decode()
    assert "More than 3 missed calls within 15 minutes" in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"missed_count": "0", "window_minutes": "10"}, "Between 1 and 99."),
        ({"missed_count": "3", "window_minutes": "99999"}, "Between 1 and 1440 minutes."),
        ({"missed_count": "x", "window_minutes": "10"}, "Enter a whole number."),
        (
            {"missed_count": "3", "window_minutes": "10", "time_zone": "Mars/Olympus"},
            "Not a time zone name",
        ),
        ({"missed_count": "3", "window_minutes": "10", "quiet_start": "22:00"}, "Give both ends"),
        (
            {"missed_count": "3", "window_minutes": "10", "notify_members": ""},
            "Choose where the alerts go",
        ),
        ({"kind": "digest"}, "Pick the time of the digest."),
        ({"kind": "waiting"}, "Between 1 and 10080 minutes."),
        ({"kind": "waiting", "wait_minutes": "30", "repeat_minutes": "1"}, "Between 5 and"),
        ({"kind": "alarm"}, "Select a valid choice."),
        # An id past any database integer (SQLite used to overflow into a 500).
        (
            {"missed_count": "3", "window_minutes": "10", "destinations": "99999999999999999999"},
            "is not a valid value.",
        ),
    ],
)
def test_a_bad_rule_is_refused_with_a_message_and_nothing_saved(owner_client, line, data, message):
    form = {"kind": "spike", "time_zone": "UTC", "notify_members": "on", **data}
    response = owner_client.post(reverse("alert-rule", kwargs={"line_id": line.pk}), form)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not AlertRule.objects.exists()


def test_a_rule_of_another_line_or_a_garbage_id_is_never_edited(owner_client, line, stranger):
    from tests.conftest import make_line

    other = spike_rule(make_line(stranger, "demo-sales"), members=True)
    url = reverse("alert-rule", kwargs={"line_id": line.pk})
    for raw in (str(other.pk), "abc", "99999999999999999999999"):
        response = owner_client.get(f"{url}?rule={raw}")
        assert response.status_code == 302
        response = owner_client.post(
            reverse("alert-rule-delete", kwargs={"line_id": line.pk}), {"rule": raw}
        )
        assert response.status_code == 302
    assert AlertRule.objects.filter(pk=other.pk).exists()


@pytest.mark.parametrize(
    ("name", "field", "message"),
    [
        ("alert-rule-delete", "rule", "That rule no longer exists."),
        ("alert-destination-delete", "destination", "That destination no longer exists."),
        ("alert-destination-test", "destination", "That destination no longer exists."),
        ("alert-resend", "delivery", "That alert no longer exists."),
    ],
)
def test_acting_on_something_already_gone_says_so(owner_client, line, name, field, message):
    for raw in ("424242", "abc"):
        response = owner_client.post(
            reverse(name, kwargs={"line_id": line.pk}), {field: raw}, follow=True
        )
        assert response.status_code == 200
        assert message in response.content.decode()


def test_a_destination_url_is_stored_encrypted_and_shown_as_a_hint_only(owner_client, line):
    secret_url = chat_url(8080)
    response = owner_client.post(
        reverse("alert-destination", kwargs={"line_id": line.pk}),
        {"kind": "apprise", "label": "Team chat", "url": secret_url, "language": "en"},
    )
    assert response.status_code == 302
    stored = Destination.objects.get(line=line)
    assert stored.get_target() == secret_url
    assert CHAT_TOKEN not in stored.encrypted_target and CHAT_PASSWORD not in stored.target_hint
    html = page(owner_client, line).content.decode()
    assert "json://…" + secret_url[-4:] in html
    assert CHAT_TOKEN not in html and CHAT_PASSWORD not in html


def test_an_invalid_apprise_url_is_refused_and_never_shown_back(owner_client, line):
    response = owner_client.post(
        reverse("alert-destination", kwargs={"line_id": line.pk}),
        {"kind": "apprise", "label": "Chat", "url": "nothing://SECRETISH-value", "language": "en"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter an Apprise URL it understands" in html
    assert "SECRETISH" not in html
    assert not Destination.objects.exists()


def test_send_a_test_queues_it_for_the_worker_which_delivers_it(owner_client, line, settings):
    settings.ALERTS_SEND_TIMEOUT = 5
    with http_receiver() as receiver:
        chat = chat_destination(line, receiver.port)
        response = owner_client.post(
            reverse("alert-destination-test", kwargs={"line_id": line.pk}),
            {"destination": chat.pk},
        )
        assert response.status_code == 302
        item = Delivery.objects.get(destination=chat)
        # Queued, not sent by the web request.
        assert receiver.requests == [] and item.state == DeliveryState.PENDING
        assert DBTaskResult.objects.filter(task_path="dashboard.alerts.tasks.deliver").exists()
        assert delivery.attempt(item.pk) == DeliveryState.SENT  # what the worker runs
    assert receiver.requests[0]["title"] == "Support phone: test alert"
    html = page(owner_client, line).content.decode()
    assert "Support phone: test alert" in html and "Working (last sent" in html


def test_the_outbox_shows_an_unknown_outcome_and_the_owner_can_send_it_again(owner_client, line):
    chat = chat_destination(line, 9)
    alert = spike_alert(spike_rule(line, chat))
    item = alert.deliveries.get()
    Delivery.objects.filter(pk=item.pk).update(state=DeliveryState.UNKNOWN, attempts=1)
    html = page(owner_client, line).content.decode()
    assert "Outcome unknown" in html and "Send again" in html
    owner_client.post(reverse("alert-resend", kwargs={"line_id": line.pk}), {"delivery": item.pk})
    item.refresh_from_db()
    assert item.state == DeliveryState.PENDING and item.attempts == 0


def test_a_failing_destination_shows_as_failing_with_its_last_error(owner_client, line):
    chat = chat_destination(line, 9)
    Destination.objects.filter(pk=chat.pk).update(failures=3, last_error="error=500.")
    html = page(owner_client, line).content.decode()
    assert "Failing: 3 failed attempts in a row" in html and "error=500." in html


def test_a_team_member_sees_the_page_cannot_manage_and_can_opt_out(client, line, shared_user):
    shared_user.email = "sam@example.com"
    shared_user.save()
    rule = spike_rule(line, members=True)
    client.force_login(shared_user)
    html = page(client, line).content.decode()
    assert "Your alert e-mails" in html and "Add a spike alert" not in html
    assert client.post(reverse("alert-rule", kwargs={"line_id": line.pk}), {}).status_code == 403
    assert rules.recipients(rule)[1] == [shared_user.pk]

    response = client.post(
        reverse("alert-preference", kwargs={"line_id": line.pk}), {"language": "ja"}
    )
    assert response.status_code == 302
    assert MemberPreference.objects.get(user=shared_user, line=line).receives is False
    assert rules.recipients(rule)[1] == []


def test_the_page_in_japanese(client, line, owner):
    client.force_login(owner)
    spike_rule(line, members=True)
    html = client.get(
        reverse("line-alerts", kwargs={"line_id": line.pk}), HTTP_ACCEPT_LANGUAGE="ja"
    ).content.decode()
    assert "通知" in html


def test_the_owner_adds_a_waiting_too_long_rule(owner_client, line):
    response = owner_client.post(
        reverse("alert-rule", kwargs={"line_id": line.pk}),
        {
            "kind": "waiting",
            "enabled": "on",
            "wait_minutes": "30",
            "repeat_minutes": "60",
            "time_zone": "Europe/Brussels",
            "notify_members": "on",
        },
    )
    assert response.status_code == 302
    html = page(owner_client, line).content.decode()
    assert "A caller open and unclaimed for 30 minutes of business hours" in html
    assert "again every 60 minutes" in html


def test_a_waiting_rule_counts_until_claimed_unless_told_until_closed(owner_client, line):
    url = reverse("alert-rule", kwargs={"line_id": line.pk})
    form = owner_client.get(url + "?kind=waiting").content.decode()
    assert '<option value="claimed" selected>until someone claims it</option>' in form
    assert '<option value="closed">until it is closed</option>' in form
    fields = {
        "kind": "waiting",
        "enabled": "on",
        "wait_minutes": "45",
        "time_zone": "Europe/Brussels",
        "notify_members": "on",
    }
    assert owner_client.post(url, {**fields, "waiting_until": "closed"}).status_code == 302
    rule = AlertRule.objects.get(line=line)
    assert rule.waiting_until == "closed"
    html = page(owner_client, line).content.decode()
    assert "A caller open, claimed or not, for 45 minutes of business hours" in html
    # The edit form shows the choice as saved, and saving it back keeps it.
    edit = owner_client.get(f"{url}?rule={rule.pk}").content.decode()
    assert '<option value="closed" selected>until it is closed</option>' in edit
    owner_client.post(url, {**fields, "rule": rule.pk, "waiting_until": "closed"})
    rule.refresh_from_db()
    assert rule.waiting_until == "closed"
    # An edit that leaves the field out (an older page, a script) keeps it too.
    owner_client.post(url, {**fields, "rule": rule.pk})
    rule.refresh_from_db()
    assert rule.waiting_until == "closed"
    # Back to the default.
    owner_client.post(url, {**fields, "rule": rule.pk, "waiting_until": "claimed"})
    rule.refresh_from_db()
    assert rule.waiting_until == "claimed"
    assert "A caller open and unclaimed for 45 minutes" in page(owner_client, line).content.decode()


@pytest.mark.parametrize("choice", [{}, {"waiting_until": ""}])
def test_a_rule_saved_without_the_choice_counts_until_claimed(owner_client, line, choice):
    response = owner_client.post(
        reverse("alert-rule", kwargs={"line_id": line.pk}),
        {
            "kind": "waiting",
            "wait_minutes": "30",
            "time_zone": "UTC",
            "notify_members": "on",
            **choice,
        },
    )
    assert response.status_code == 302
    assert AlertRule.objects.get(line=line).waiting_until == "claimed"


def test_a_bad_waiting_choice_is_refused(owner_client, line):
    response = owner_client.post(
        reverse("alert-rule", kwargs={"line_id": line.pk}),
        {
            "kind": "waiting",
            "wait_minutes": "30",
            "waiting_until": "forever",
            "time_zone": "UTC",
            "notify_members": "on",
        },
    )
    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert not AlertRule.objects.exists()


def test_the_page_says_when_no_worker_evaluates_the_rules(owner_client, line):
    from datetime import timedelta

    from django.utils import timezone

    from dashboard.alerts import schedule
    from dashboard.alerts.models import SchedulerClock

    assert "The background worker has never run here" in page(owner_client, line).content.decode()
    schedule.tick("worker-a")
    assert "Rules last evaluated" in page(owner_client, line).content.decode()
    SchedulerClock.objects.update(last_run_at=timezone.now() - timedelta(minutes=20))
    html = page(owner_client, line).content.decode()
    assert "The background worker has not evaluated the rules for 20 min" in html


def test_the_owner_renames_a_destination_and_replaces_its_url(owner_client, line):
    chat = chat_destination(line, 8080)
    Destination.objects.filter(pk=chat.pk).update(failures=4, last_error="error=500.")
    url = reverse("alert-destination", kwargs={"line_id": line.pk})
    form = owner_client.get(f"{url}?destination={chat.pk}").content.decode()
    assert "Leave empty to keep the current URL" in form and CHAT_TOKEN not in form
    # Renamed, language changed, URL left empty: the stored URL stays.
    response = owner_client.post(
        url, {"destination": chat.pk, "label": "Support chat", "language": "ja", "url": ""}
    )
    assert response.status_code == 302
    chat.refresh_from_db()
    assert (chat.label, chat.language, chat.get_target()) == ("Support chat", "ja", chat_url(8080))
    assert chat.failures == 4
    # A new URL replaces it and starts with a clean record; the kind cannot change.
    owner_client.post(
        url,
        {
            "destination": chat.pk,
            "kind": "email",
            "label": "Support chat",
            "language": "ja",
            "url": "ntfy://ntfy.sh/new-topic-abcd",
        },
    )
    chat.refresh_from_db()
    assert chat.kind == "apprise" and chat.get_target() == "ntfy://ntfy.sh/new-topic-abcd"
    assert chat.target_hint == "ntfy://…abcd" and chat.failures == 0
    # Garbage ids redirect, never edit another line's destination.
    assert owner_client.get(f"{url}?destination=x").status_code == 302
