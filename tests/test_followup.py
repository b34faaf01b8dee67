"""Follow-up marks on missed calls: create, change, clear, who sees them, who may set
them, "answered later", and two people marking at once."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import pre_save
from django.test import Client
from django.urls import reverse

from dashboard.followup import marks
from dashboard.followup.later import CHUNK, LaterContacts
from dashboard.followup.models import FollowUpEvent, FollowUpMark
from dashboard.lines.models import AuditEvent
from dashboard.smsmobileapi.records import CallKind
from tests.conftest import SUPPORT_KEY, make_line
from tests.fake_provider import T0, call, provider

NUMBER = "+32470123456"


def missed_url(line, query: str = "") -> str:
    return reverse("line-calls", kwargs={"line_id": line.pk, "kind": "missed"}) + query


def mark_url(line) -> str:
    return reverse("followup-mark", kwargs={"line_id": line.pk})


def post_mark(client, line, status, *, note="", at=T0, number=NUMBER, htmx=True, **extra):
    data = {"number": number, "called_at": at.isoformat(), "status": status, "note": note}
    data.update(extra)
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(mark_url(line), data, headers=headers)


def one_missed():
    return {SUPPORT_KEY: [call("missed", "0470123456", T0, name="Alice")]}


# Create, change, clear ----------------------------------------------------------------------


def test_marking_a_missed_call_stores_it_by_number_and_time_and_returns_the_cell(
    owner_client, line
):
    response = post_mark(owner_client, line, "called_back", note="Left a voicemail")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<td" not in html and "<html" not in html  # the cell's content, swapped in place
    assert response["X-Followup-Cell"] == "1"
    assert "Called back" in html and "by olivia" in html and "Left a voicemail" in html
    mark = FollowUpMark.objects.get()
    assert (mark.line, mark.number, mark.called_at, mark.status) == (
        line,
        NUMBER,
        T0,
        "called_back",
    )
    assert mark.marked_by_name == "olivia"


def test_a_mark_can_be_changed_and_cleared_and_every_step_is_kept(owner_client, line):
    post_mark(owner_client, line, "called_back")
    post_mark(owner_client, line, "handled", note="Refund sent")
    response = post_mark(owner_client, line, "open")
    assert FollowUpMark.objects.count() == 0
    assert "To follow up" in response.content.decode()
    events = list(FollowUpEvent.objects.order_by("pk").values_list("status", "note"))
    assert events == [("called_back", ""), ("handled", "Refund sent"), ("", "")]
    actions = list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))
    assert actions == ["followup_marked", "followup_marked", "followup_cleared"]
    assert AuditEvent.objects.first().line_id == line.pk


def test_the_number_is_normalised_whatever_form_was_posted(owner_client, line):
    post_mark(owner_client, line, "handled", number="0470 12 34 56")
    post_mark(owner_client, line, "ignored", number="0032470123456")
    assert list(FollowUpMark.objects.values_list("number", "status")) == [(NUMBER, "ignored")]


def test_marks_show_on_the_missed_tab_the_timeline_and_the_caller_page(owner_client, line):
    post_mark(owner_client, line, "handled", note="Sorted by mail")
    with provider(one_missed()):
        pages = [
            owner_client.get(missed_url(line)),
            owner_client.get(reverse("line-timeline", args=[line.pk])),
            owner_client.get(reverse("line-caller", args=[line.pk, NUMBER])),
        ]
    for response in pages:
        html = response.content.decode()
        assert "badge-handled" in html and "Sorted by mail" in html and "by olivia" in html


def test_marks_survive_cache_expiry(owner_client, line):
    post_mark(owner_client, line, "ignored")
    cache.clear()
    with provider(one_missed()):
        assert "badge-ignored" in owner_client.get(missed_url(line)).content.decode()


# Who may see and set marks ------------------------------------------------------------------


def test_shared_and_group_users_see_the_marks(client, line, owner, shared_user, group_user):
    client.force_login(owner)
    post_mark(client, line, "called_back")
    for user in (shared_user, group_user):
        client.force_login(user)
        with provider(one_missed()):
            html = client.get(missed_url(line)).content.decode()
        assert "Called back" in html and "by olivia" in html


def test_a_browse_only_user_may_mark_but_not_manage_the_line(client, line, shared_user):
    client.force_login(shared_user)
    assert post_mark(client, line, "handled").status_code == 200
    assert FollowUpMark.objects.get().marked_by == shared_user
    assert client.get(reverse("line-settings", args=[line.pk])).status_code == 403


def test_strangers_and_anonymous_users_cannot_mark(client, line, stranger):
    assert post_mark(client, line, "handled", htmx=False).status_code == 302  # to login
    client.force_login(stranger)
    assert post_mark(client, line, "handled").status_code == 404
    assert FollowUpMark.objects.count() == 0


def test_marking_needs_a_post_with_a_csrf_token(line, owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    missing = client.get(mark_url(line))  # the mark screen needs a call to name
    assert missing.status_code == 400
    assert "This missed call could not be found" in missing.content.decode()
    assert post_mark(client, line, "handled").status_code == 403
    with provider(one_missed()):
        page = client.get(missed_url(line)).content.decode()
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    response = client.post(
        mark_url(line),
        {"number": NUMBER, "called_at": T0.isoformat(), "status": "handled"},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    assert response.status_code == 200
    assert FollowUpMark.objects.count() == 1


def test_without_javascript_the_form_posts_and_returns_to_the_page(owner_client, line):
    back = missed_url(line, "?q=0470")
    response = post_mark(owner_client, line, "handled", htmx=False, next=back)
    assert response.status_code == 302 and response["Location"] == back
    evil = post_mark(owner_client, line, "handled", htmx=False, next="https://evil.example/")
    assert evil["Location"] == missed_url(line)


# The mark screen: one dialog for the table, a page of its own without JavaScript -------------


def row_mark_link(html: str) -> str:
    return re.search(r'<a class="mark" href="([^"]+)"', html).group(1).replace("&amp;", "&")


def test_a_row_links_to_the_mark_screen_of_its_call_with_nothing_chosen(owner_client, line):
    with provider(one_missed()):
        link = row_mark_link(owner_client.get(missed_url(line, "?q=0470")).content.decode())
        page = owner_client.get(
            link, HTTP_REFERER="http://testserver" + missed_url(line, "?q=0470")
        )
    html = page.content.decode()
    assert page.status_code == 200 and "<html" in html  # the whole page without JavaScript
    assert 'name="number" value="+32470123456"' in html
    assert f'name="called_at" value="{T0.isoformat()}"' in html
    assert " checked" not in html  # an accidental Save records nothing
    # Save and Cancel go back to the list it was opened from, search included.
    assert f'name="next" value="http://testserver{missed_url(line, "?q=0470")}"' in html


def test_with_htmx_the_mark_screen_is_the_dialog_content_and_shows_the_current_mark(
    owner_client, line
):
    post_mark(owner_client, line, "handled", note="Refund sent")
    with provider(one_missed()):
        link = row_mark_link(owner_client.get(missed_url(line)).content.decode())
        html = owner_client.get(link, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in html and 'id="followup-dialog-title"' in html
    assert 'value="handled" checked' in html and 'value="Refund sent"' in html
    assert "by olivia" in html  # the history


def test_saving_without_choosing_keeps_the_note_and_asks_again(owner_client, line):
    response = post_mark(owner_client, line, "", note="Rang twice", htmx=False)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Choose what happened to this call." in html and 'value="Rang twice"' in html
    assert FollowUpMark.objects.count() == 0


@pytest.mark.parametrize("query", ["", "?n=0470123456", "?n=0470123456&at=soon", "?at=1&n=x"])
def test_a_mark_link_without_a_call_says_so(owner_client, line, query):
    response = owner_client.get(mark_url(line) + query)
    assert response.status_code == 400
    assert "This missed call could not be found" in response.content.decode()


def test_a_stranger_cannot_open_the_mark_screen(client, line, stranger):
    client.force_login(stranger)
    assert client.get(mark_url(line) + f"?n=0470123456&at={int(T0.timestamp())}").status_code == 404


# Lean rows ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "budget"), [("missed", 600), ("incoming", 500), ("outgoing", 500)]
)
def test_a_50_row_table_partial_stays_within_its_bytes_per_row(owner_client, line, kind, budget):
    response = owner_client.get(
        missed_url(line, "?per_page=50").replace("/missed/", f"/{kind}/"),
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert html.count("<tr>") == 50 + 1  # the header row and 50 calls
    if kind == "missed":
        assert html.count('<a class="mark"') == 50  # follow-up state shown on every row
        assert "csrfmiddlewaretoken" not in html  # the token goes once, in hx-headers
    assert len(response.content) / 50 <= budget


# Bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"status": "deleted"}, "Select a valid choice"),
        ({"called_at": "yesterday"}, "The call time was not understood."),
        ({"called_at": "2026-11-20T09:00:00"}, "The call time was not understood."),  # no zone
        ({"number": "anonymous"}, "This call has no number to follow up."),
        ({"note": "x" * 201}, "at most 200 characters"),
    ],
)
def test_bad_marks_are_refused_with_a_message_in_the_cell(owner_client, line, data, message):
    fields = {"number": NUMBER, "called_at": T0.isoformat(), "status": "handled", **data}
    response = owner_client.post(mark_url(line), fields, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert FollowUpMark.objects.count() == 0


def test_notes_are_escaped_and_kept_to_one_line(owner_client, line):
    html = post_mark(
        owner_client, line, "handled", note="<script>alert(1)</script>\n\x07second line"
    ).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; second line" in html


# Two people at once ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # each thread has its own connection
def test_concurrent_marks_by_two_users_keep_the_last_and_the_history(
    line, owner, shared_user, monkeypatch
):
    olivia, sam = Client(), Client()
    olivia.force_login(owner)
    sam.force_login(shared_user)
    with provider(one_missed()):
        # Both open the page while the call is still open...
        for client in (olivia, sam):
            assert "To follow up" in client.get(missed_url(line)).content.decode()
    # ...and both mark it at the same moment. On PostgreSQL both requests find no mark and
    # meet just before inserting one (the unique constraint decides); SQLite lets one
    # writer in at a time, so there they meet just before their transactions begin.
    barrier = threading.Barrier(2, timeout=10)
    met = threading.local()

    def meet_once():
        if not getattr(met, "done", False):
            met.done = True
            barrier.wait()

    answers = {}

    def mark(client, name, status, note):
        try:
            answers[name] = post_mark(client, line, status, note=note).status_code
        finally:
            connection.close()

    threads = [
        threading.Thread(target=mark, args=(olivia, "olivia", "called_back", "No answer")),
        threading.Thread(target=mark, args=(sam, "sam", "handled", "Customer called again")),
    ]

    def before_insert(sender, instance, **kwargs):
        meet_once()

    if connection.vendor == "sqlite":
        real_atomic = transaction.atomic

        def atomic_after_meeting(*args, **kwargs):
            meet_once()
            return real_atomic(*args, **kwargs)

        monkeypatch.setattr(marks, "transaction", SimpleNamespace(atomic=atomic_after_meeting))
    else:
        pre_save.connect(before_insert, sender=FollowUpMark)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        pre_save.disconnect(before_insert, sender=FollowUpMark)
    assert not barrier.broken  # both really were inside set_mark at once
    assert answers == {"olivia": 200, "sam": 200}
    # One mark, the last committed write's; both writes in the history, in that order.
    history = list(FollowUpEvent.objects.order_by("pk").values_list("actor_name", "status"))
    assert sorted(history) == [("olivia", "called_back"), ("sam", "handled")]
    mark_row = FollowUpMark.objects.get()
    last_name, last_status = history[-1]
    assert (mark_row.marked_by_name, mark_row.status) == (last_name, last_status)
    with provider(one_missed()):
        html = olivia.get(reverse("line-caller", args=[line.pk, NUMBER])).content.decode()
    assert "olivia:" in html and "sam:" in html  # the caller page's follow-up history


# "Answered later" ---------------------------------------------------------------------------


def later_index(calls):
    def fetch(kind, offset, limit):
        rows = sorted((c for c in calls if c.kind is kind), key=lambda c: c.started_at)[::-1]
        page = rows[offset : offset + limit]
        return page, len(page)

    return LaterContacts(fetch, "BE")


@pytest.mark.parametrize(
    ("later_call", "answered"),
    [
        (call("incoming", NUMBER, T0 + timedelta(seconds=29)), True),  # same minute, after
        (call("outgoing", NUMBER, T0 + timedelta(days=2)), True),
        (call("outgoing", NUMBER, T0), False),  # the same instant is not later
        (call("incoming", NUMBER, T0 - timedelta(seconds=5)), False),  # same minute, before
        (call("outgoing", "0032 470 12 34 56", T0 + timedelta(hours=1)), True),  # formatting
        (call("outgoing", "+32470123457", T0 + timedelta(hours=1)), False),  # other number
        (call("missed", NUMBER, T0 + timedelta(hours=1)), False),  # missed again is not answered
    ],
)
def test_answered_later_edge_cases(later_call, answered):
    index = later_index([later_call])
    result = index.after("0470123456", T0)
    assert result.answered is answered
    assert result.known


def test_answered_later_is_unknown_beyond_the_read_window():
    newer = [call("incoming", "+3211111111", T0 + timedelta(minutes=i)) for i in range(CHUNK)]
    index = LaterContacts(later_index(newer).fetch, "BE", max_chunks=1)
    index_calls = later_index(newer)
    assert index_calls.after(NUMBER, T0 - timedelta(days=1)).known  # all read: definitive
    capped = index.after(NUMBER, T0 - timedelta(days=1))
    # One chunk read, every row newer than the missed call, more may exist: cannot say.
    assert capped.known is False and capped.answered is False


def test_a_later_call_on_another_line_does_not_count(owner_client, owner, line):
    other = make_line(owner, "demo-sales")
    data = {
        SUPPORT_KEY: [call("missed", NUMBER, T0)],
        "demo-sales": [call("incoming", NUMBER, T0 + timedelta(hours=1))],
    }
    with provider(data):
        html = owner_client.get(missed_url(line)).content.decode()
        assert "Answered later" not in html and "badge-open" in html
        assert other.pk != line.pk


def test_the_missed_tab_reads_the_shared_later_window_once_per_kind(owner_client, line):
    data = {
        SUPPORT_KEY: [
            call("missed", NUMBER, T0),
            call("incoming", "0470123456", T0 + timedelta(minutes=3)),
        ]
    }
    with provider(data) as fake:
        html = owner_client.get(missed_url(line)).content.decode()
    assert "Answered later" in html
    window = [
        (k, q.offset, q.limit, q.search)
        for _, k, q in fake.queries
        if q.limit == CHUNK and k is not CallKind.MISSED  # the missed page's own chunk
    ]
    assert sorted(window) == [("incoming", 0, CHUNK, ""), ("outgoing", 0, CHUNK, "")]


def test_a_chunk_with_a_malformed_row_is_not_taken_for_the_end_of_the_list():
    newer = [call("incoming", "+3211111111", T0 + timedelta(minutes=i)) for i in range(CHUNK)]

    def fetch(kind, offset, limit):
        if kind.value != "incoming" or offset:
            return [], 0
        # The provider sent a full chunk; one row was too malformed to keep.
        return newer[1:], limit

    index = LaterContacts(fetch, "BE", max_chunks=1)
    # Only one chunk could be read and it was full: older calls cannot be judged.
    assert index.after(NUMBER, T0 - timedelta(days=1)).known is False


def test_an_expired_subscription_is_explained_once_above_the_missed_table(owner_client, owner):
    # demo-expired lists missed calls but refuses incoming/outgoing: no row can be checked.
    expired = make_line(owner, "demo-expired")
    for query in ("",):
        url = reverse("line-calls", kwargs={"line_id": expired.pk, "kind": "missed"}) + query
        html = owner_client.get(url).content.decode()
        note = "Whether these calls were answered later cannot be checked"
        assert html.count(note) == 1
        assert "the Incoming, Outgoing calls could not be read" in html
        assert html.count("renew the subscription to see incoming and outgoing calls") == 1
        assert html.index(note) < html.index("<table")


def test_no_later_note_when_the_later_calls_were_read(owner_client, line):
    html = owner_client.get(reverse("line-calls", kwargs={"line_id": line.pk, "kind": "missed"}))
    assert "answered later cannot be checked" not in html.content.decode()


def test_a_failing_provider_is_one_banner_on_the_missed_tab(owner_client, owner):
    failing = make_line(owner, "demo-failing")
    html = owner_client.get(reverse("line-calls", kwargs={"line_id": failing.pk, "kind": "missed"}))
    html = html.content.decode()
    assert html.count("SMSMobileAPI had an internal error. Try again in a minute.") == 1
    assert "answered later cannot be checked" not in html
