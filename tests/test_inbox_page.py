"""The inbox screen: one row per caller, filters, the caller dialog, claim/assign/mark over
HTTP, bulk actions, live counts, the redirect from "To follow up", and the CSV."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dashboard.inbox.models import CallerStatus, Episode, InboxSettings
from dashboard.lines.models import AuditAction, AuditEvent
from tests.fake_provider import call, provider

SUPPORT_KEY = "demo-support"
MINUTE = timedelta(minutes=1)


def inbox_url(line, **params):
    url = reverse("line-inbox", kwargs={"line_id": line.pk})
    if params:
        from urllib.parse import urlencode

        url += "?" + urlencode(params)
    return url


def bulk_url(line):
    return reverse("line-inbox-bulk", kwargs={"line_id": line.pk})


def caller_url(line, episode):
    return reverse("line-inbox-caller", kwargs={"line_id": line.pk, "episode_id": episode.pk})


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def history(now):
    """Three callers: Zoë tried twice, Bram once and was called back, Ada once."""
    return {
        SUPPORT_KEY: [
            call("missed", "+32470111111", now - 90 * MINUTE, name="Zoë"),
            call("missed", "0470 11 11 11", now - 30 * MINUTE, name="Zoë"),
            call("missed", "+32470222222", now - 60 * MINUTE, name="Bram"),
            call("outgoing", "+32470222222", now - 50 * MINUTE, name="Bram"),
            call("missed", "+32470333333", now - 10 * MINUTE, name="Ada"),
        ]
    }


def test_the_inbox_shows_one_row_per_open_caller_longest_wait_first(owner_client, line, history):
    with provider(history):
        response = owner_client.get(inbox_url(line))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-episode="') == 2  # Bram was called back: not open
    assert shown_names(html) == ["Zoë", "Ada"]  # waited longest first
    assert "(2) Missed calls" in html  # the page title
    # The Missed tab is the current one, with the count app.js keeps live.
    assert re.search(r'class="tab tab-missed" aria-current="page">.*?data-open-count', html, re.S)
    zoe = Episode.objects.get(name="Zoë")
    assert zoe.attempts == 2
    assert Episode.objects.get(name="Bram").status == CallerStatus.CALLED_BACK


def test_the_to_follow_up_link_redirects_to_the_inbox_keeping_the_search(owner_client, line):
    url = reverse("line-calls", kwargs={"line_id": line.pk, "kind": "missed"})
    response = owner_client.get(url + "?followup=open&q=0470&scan=100")
    assert response.status_code == 301
    assert response["Location"] == inbox_url(line, q="0470")


def test_filters_mine_unassigned_status_and_search(owner_client, owner, line, history, shared_user):
    with provider(history):
        owner_client.get(inbox_url(line))
    zoe = Episode.objects.get(name="Zoë")
    Episode.objects.filter(pk=zoe.pk).update(owner=owner, owner_name="olivia")
    Episode.objects.filter(name="Ada").update(attempts=5)
    with provider(history):
        mine = owner_client.get(inbox_url(line, who="mine")).content.decode()
        unassigned = owner_client.get(inbox_url(line, who="unassigned")).content.decode()
        by_attempts = owner_client.get(inbox_url(line, sort="attempts")).content.decode()
        Episode.objects.filter(name="Ada").update(owner=shared_user, owner_name="sam")
        mine_again = owner_client.get(inbox_url(line, who="mine")).content.decode()
        closed = owner_client.get(inbox_url(line, status="called_back")).content.decode()
        found = owner_client.get(inbox_url(line, q="0470 33")).content.decode()
    assert shown_names(by_attempts) == ["Ada", "Zoë"]  # most attempts first
    assert shown_names(mine_again) == ["Zoë"]  # Ada is sam's, not mine
    assert shown_names(mine) == ["Zoë"]
    assert shown_names(unassigned) == ["Ada"]
    assert shown_names(closed) == ["Bram"]
    assert shown_names(found) == ["Ada"]


def test_bad_filter_values_are_said_and_replaced(owner_client, line, history):
    with provider(history):
        html = owner_client.get(inbox_url(line, who="boss", status="x", sort="?")).content.decode()
    assert "showing everyone" in html and "showing open callers" in html
    assert html.count('data-episode="') == 2


def test_claiming_from_the_row_sets_the_owner_audits_and_updates_the_count(
    owner_client, line, history
):
    with provider(history):
        owner_client.get(inbox_url(line))
        ada = Episode.objects.get(name="Ada")
        response = owner_client.post(
            bulk_url(line), {"claim": ada.pk, "query": ""}, HTTP_HX_REQUEST="true"
        )
    assert response.status_code == 200
    ada.refresh_from_db()
    assert ada.owner_name == "olivia"
    assert AuditEvent.objects.filter(action=AuditAction.INBOX_CLAIMED).count() == 1
    trigger = json.loads(response["HX-Trigger"])
    assert trigger["inbox-changed"] == {"line": line.pk, "open": 2}
    assert "1 caller updated." in response.content.decode()


def test_a_claim_someone_else_made_first_says_who(client, line, history, owner, shared_user):
    with provider(history):
        client.force_login(owner)
        client.get(inbox_url(line))
        ada = Episode.objects.get(name="Ada")
        sam = Client()
        sam.force_login(shared_user)
        sam.post(bulk_url(line), {"claim": ada.pk})
        response = client.post(bulk_url(line), {"claim": ada.pk}, HTTP_HX_REQUEST="true")
    assert "was claimed by sam first" in response.content.decode()
    ada.refresh_from_db()
    assert ada.owner_name == "sam"


def test_claiming_a_caller_one_already_owns_is_no_refusal(owner_client, line, history):
    with provider(history):
        owner_client.get(inbox_url(line))
        ada = Episode.objects.get(name="Ada")
        owner_client.post(bulk_url(line), {"claim": ada.pk})
        response = owner_client.post(bulk_url(line), {"claim": ada.pk}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "1 caller updated." in html
    assert "was claimed by" not in html
    assert AuditEvent.objects.filter(action=AuditAction.INBOX_CLAIMED).count() == 1


@pytest.mark.parametrize(
    "form",
    [
        {"action": "claim", "selected": "999999"},
        {"action": "unassign", "selected": "999999.1"},
        {"action": "mark", "status": "handled", "selected": "999999"},
        {"claim": "999999"},
    ],
)
def test_a_caller_that_is_not_in_this_inbox_is_said_not_a_500(owner_client, line, history, form):
    with provider(history):
        owner_client.get(inbox_url(line))
        response = owner_client.post(bulk_url(line), form, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "no longer in this inbox" in response.content.decode()
    assert not AuditEvent.objects.filter(action__startswith="inbox").exists()


def test_the_dialog_has_nothing_chosen_and_marking_closes_the_caller(owner_client, line, history):
    with provider(history):
        owner_client.get(inbox_url(line))
        zoe = Episode.objects.get(name="Zoë")
        dialog = owner_client.get(caller_url(line, zoe), HTTP_HX_REQUEST="true").content.decode()
        assert 'name="status"' in dialog and "checked" not in dialog
        assert "<html" not in dialog  # the dialog's partial only
        response = owner_client.post(
            caller_url(line, zoe),
            {
                "action": "mark",
                "status": "handled",
                "note": "Sent the invoice",
                "version": zoe.version,
            },
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 204
    assert json.loads(response["HX-Trigger"])["inbox-changed"]["open"] == 1
    zoe.refresh_from_db()
    assert (zoe.status, zoe.note, zoe.closed_by_name) == (
        CallerStatus.HANDLED,
        "Sent the invoice",
        "olivia",
    )


def test_saving_without_a_status_keeps_the_note_and_asks(owner_client, line, history):
    with provider(history):
        owner_client.get(inbox_url(line))
        zoe = Episode.objects.get(name="Zoë")
        response = owner_client.post(
            caller_url(line, zoe), {"action": "mark", "note": "typed", "version": zoe.version}
        )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose what happened with this caller." in html and 'value="typed"' in html
    zoe.refresh_from_db()
    assert zoe.is_open


def test_a_mark_on_an_old_view_is_refused_with_who_changed_it(
    owner_client, line, history, shared_user
):
    with provider(history):
        owner_client.get(inbox_url(line))
        zoe = Episode.objects.get(name="Zoë")
        seen = zoe.version
        sam = Client()
        sam.force_login(shared_user)
        sam.post(caller_url(line, zoe), {"action": "mark", "status": "ignored", "version": seen})
        response = owner_client.post(
            caller_url(line, zoe), {"action": "mark", "status": "handled", "version": seen}
        )
    assert response.status_code == 409
    assert "changed by sam meanwhile" in response.content.decode()
    zoe.refresh_from_db()
    assert zoe.status == CallerStatus.IGNORED


def test_assigning_to_someone_who_cannot_see_the_line_is_refused(
    owner_client, line, history, stranger
):
    with provider(history):
        owner_client.get(inbox_url(line))
        zoe = Episode.objects.get(name="Zoë")
        response = owner_client.post(
            caller_url(line, zoe), {"action": "owner", "to": stranger.pk, "version": zoe.version}
        )
    assert response.status_code == 400
    assert "cannot see this line" in response.content.decode()
    zoe.refresh_from_db()
    assert zoe.owner is None


def test_bulk_mark_closes_every_selected_caller(owner_client, line, history):
    with provider(history):
        owner_client.get(inbox_url(line))
        rows = list(Episode.objects.filter(status=CallerStatus.OPEN))
        response = owner_client.post(
            bulk_url(line),
            {
                "action": "mark",
                "status": "ignored",
                "note": "spam",
                "selected": [f"{e.pk}.{e.version}" for e in rows],
            },
        )
    assert response.status_code == 302
    assert not Episode.objects.filter(status=CallerStatus.OPEN).exists()
    assert AuditEvent.objects.filter(action=AuditAction.INBOX_MARKED).count() == 2


def test_bulk_assign_and_a_bulk_action_without_selection(owner_client, line, history, shared_user):
    with provider(history):
        owner_client.get(inbox_url(line))
        rows = list(Episode.objects.filter(status=CallerStatus.OPEN))
        owner_client.post(
            bulk_url(line),
            {
                "action": "assign",
                "to": shared_user.pk,
                "selected": [f"{e.pk}.{e.version}" for e in rows],
            },
        )
        assert set(
            Episode.objects.filter(status=CallerStatus.OPEN).values_list("owner_name", flat=True)
        ) == {"sam"}
        response = owner_client.post(bulk_url(line), {"action": "claim"}, follow=True)
    assert "Select at least one caller first." in response.content.decode()


def test_strangers_cannot_see_or_change_the_inbox(client, line, history, stranger):
    with provider(history):
        client.force_login(stranger)
        assert client.get(inbox_url(line)).status_code == 404
        assert client.post(bulk_url(line), {"claim": 1}).status_code == 404
        export = reverse("line-inbox-export", kwargs={"line_id": line.pk})
        assert client.get(export).status_code == 404


def test_a_caller_of_another_line_is_not_found(owner_client, owner, line, history):
    from tests.conftest import make_line

    other = make_line(owner, "demo-sales")
    with provider(history):
        owner_client.get(inbox_url(line))
    zoe = Episode.objects.get(name="Zoë")
    response = owner_client.get(
        reverse("line-inbox-caller", kwargs={"line_id": other.pk, "episode_id": zoe.pk})
    )
    assert response.status_code == 404


def test_overdue_callers_are_highlighted_and_can_be_filtered(owner_client, line, history):
    InboxSettings.objects.create(line=line, target_minutes=45)
    with provider(history):
        html = owner_client.get(inbox_url(line)).content.decode()
        overdue = owner_client.get(inbox_url(line, overdue="1")).content.decode()
    assert html.count('class="overdue"') == 1  # Zoë has waited 90 minutes, Ada 10
    assert shown_names(overdue) == ["Zoë"]


def row_cells(html: str, episode: Episode) -> dict[str, str]:
    """The cells of `episode`'s row in a rendered inbox, by column (`col-number` → "number")."""
    match = re.search(rf'<tr[^>]*data-episode="{episode.pk}">(.*?)</tr>', html, re.S)
    assert match, f"no row for episode {episode.pk}"
    return dict(re.findall(r'<td class="col-([a-z]+)[^"]*">(.*?)</td>', match.group(1), re.S))


def test_a_row_shows_the_callers_number_name_attempts_times_wait_status_owner_and_note(
    owner_client, line, history, now
):
    with provider(history):
        owner_client.get(inbox_url(line))
        Episode.objects.filter(name="Zoë").update(owner_name="sam", note="Left a voicemail")
        html = owner_client.get(inbox_url(line)).content.decode()
    cells = row_cells(html, Episode.objects.get(name="Zoë"))
    caller_page = reverse("line-caller", kwargs={"line_id": line.pk, "number": "+32470111111"})
    assert cells["number"] == f'<a href="{caller_page}">+32 470 11 11 11</a>'
    assert cells["name"] == "Zoë"
    assert cells["attempts"] == "2"  # +32470111111 and 0470 11 11 11: one caller
    first, last = now - 90 * MINUTE, now - 30 * MINUTE
    for cell, moment in (("first", first), ("last", last)):
        time_tag = rf'<time datetime="{re.escape(moment.isoformat())}">[^<]*{moment:%H:%M}</time>'
        assert re.fullmatch(time_tag, cells[cell]), cells[cell]
    assert cells["waiting"] == "1 h 30"  # since the first open attempt
    assert cells["status"].startswith('<span class="badge badge-open">Open</span>')
    assert cells["owner"] == "sam"
    assert "Left a voicemail</span>" in cells["note"]
    # A caller nobody owns offers the claim in its owner cell instead.
    ada = row_cells(html, Episode.objects.get(name="Ada"))
    assert "I'll take it</button>" in ada["owner"] and ada["note"] == ""


def many_callers(now, n: int = 30) -> dict:
    """`n` callers, one missed call each, a minute apart (caller 0 waited longest)."""
    return {
        SUPPORT_KEY: [
            call("missed", f"+3247055{i:04d}", now - (n - i) * MINUTE, name=f"Caller {i:02d}")
            for i in range(n)
        ]
    }


def shown(html: str) -> list[str]:
    return re.findall(r'<td class="col-name">(Caller \d+)</td>', html)


def pager_links(html: str, rel: str) -> dict[str, dict[str, list[str]]]:
    """The `rel` link of each pager on the page, by place (top, bottom), as parsed queries."""
    from urllib.parse import parse_qs, urlsplit

    links = {}
    for place, nav in re.findall(r'<nav class="pager pager-(\w+)"[^>]*>(.*?)</nav>', html, re.S):
        href = re.search(rf'<a rel="{rel}" href="([^"]+)" hx-get="\1"', nav)
        if href:
            links[place] = parse_qs(urlsplit(href.group(1).replace("&amp;", "&")).query)
    return links


def test_page_two_follows_page_one_and_both_pagers_keep_the_filters(owner_client, line, now):
    callers = many_callers(now)
    filters = {"who": "unassigned", "per_page": "25", "q": "+3247055"}
    with provider(callers):
        first = owner_client.get(inbox_url(line, **filters)).content.decode()
        # The same pager above and below the table, each link keeping every filter.
        following = pager_links(first, "next")
        assert following == {"top": following["bottom"], "bottom": following["bottom"]}
        assert following["top"] == {**{k: [v] for k, v in filters.items()}, "page": ["2"]}
        assert pager_links(first, "prev") == {}
        second = owner_client.get(inbox_url(line, **filters, page="2")).content.decode()
    assert shown(first) + shown(second) == [
        f"Caller {i:02d}" for i in range(30)
    ]  # no gap, no repeat
    assert "Showing 1–25 of 30" in first and "Showing 26–30 of 30" in second
    back = pager_links(second, "prev")
    assert back["top"] == back["bottom"] == {**{k: [v] for k, v in filters.items()}, "page": ["1"]}
    assert pager_links(second, "next") == {}


def test_one_page_of_callers_has_no_pager(owner_client, line, history):
    with provider(history):
        html = owner_client.get(inbox_url(line)).content.decode()
    assert 'class="pager' not in html


def test_the_date_filter_shows_the_callers_who_called_on_those_days(owner_client, line, now):
    days = {"Early": 5, "Middle": 3, "Late": 1}  # days ago
    callers = {
        SUPPORT_KEY: [
            call("missed", f"+3247066000{i}", now - ago * timedelta(days=1), name=name)
            for i, (name, ago) in enumerate(days.items())
        ]
    }
    middle = (now - 3 * timedelta(days=1)).date().isoformat()

    def names(**dates):
        html = owner_client.get(inbox_url(line, **dates)).content.decode()
        return re.findall(r'<td class="col-name">(\w+)</td>', html)

    with provider(callers):
        assert names() == ["Early", "Middle", "Late"]
        assert names(**{"from": middle, "to": middle}) == ["Middle"]
        assert names(**{"from": middle}) == ["Middle", "Late"]
        assert names(to=middle) == ["Early", "Middle"]
        # The pager and export links carry the dates on.
        html = owner_client.get(inbox_url(line, **{"from": middle})).content.decode()
    assert f"/inbox/export.csv?from={middle}&amp;format=plain" in html


def inbox_export(client, line, query: str = "") -> tuple[object, str]:
    response = client.get(reverse("line-inbox-export", kwargs={"line_id": line.pk}) + query)
    return response, b"".join(response.streaming_content).decode("utf-8")


EXPORT_COLUMNS = [
    "Number",
    "Name",
    "Status",
    "Owner",
    "Attempts",
    "First attempt (UTC)",
    "Last attempt (UTC)",
    "Time to callback (h:mm:ss)",
    "Due (UTC)",
    "Note",
]


@pytest.mark.parametrize("variant", ["", "plain"])
def test_each_export_holds_exactly_the_callers_shown_with_every_column(
    owner_client, line, history, now, variant
):
    # A fourth caller, of three days ago, whom the dates leave out.
    old = call("missed", "+32470444444", now - timedelta(days=3), name="Old")
    history = {SUPPORT_KEY: [*history[SUPPORT_KEY], old]}
    since = (now - timedelta(days=1)).date().isoformat()
    query = f"?status=all&sort=attempts&q=0470&from={since}"
    with provider(history):
        assert "Old" in shown_names(owner_client.get(inbox_url(line)).content.decode())
        Episode.objects.filter(name="Zoë").update(owner_name="sam", note="=cmd|' /C calc'!A0")
        page = owner_client.get(inbox_url(line) + query).content.decode()
        response, text = inbox_export(
            owner_client, line, query + ("&format=plain" if variant else "")
        )
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    assert rows[0] == EXPORT_COLUMNS
    assert [r[1] for r in rows[1:]] == shown_names(page) == ["Zoë", "Bram", "Ada"]
    zoe, bram, ada = rows[1:]
    assert zoe[2:5] == ["Open", "sam", "2"]
    assert bram[2:5] == ["Called back", "", "1"] and bram[7] == "0:10:00"
    assert ada[2:5] == ["Open", "", "1"] and ada[7] == "" and ada[9] == ""
    first, last = now - 90 * MINUTE, now - 30 * MINUTE
    if variant:  # for import into other tools: values untouched, no BOM, ISO times
        assert response["Content-Disposition"].endswith('-plain.csv"')
        assert not text.startswith("\ufeff")
        assert zoe[0] == "+32470111111" and zoe[9] == "=cmd|' /C calc'!A0"
        assert zoe[5:7] == [first.isoformat(), last.isoformat()]
        assert text.split("\r\n")[1].startswith("+32470111111,Zoë,Open,sam,2,")  # minimal quotes
    else:  # for a spreadsheet: numbers kept text, formulas defused, every cell quoted
        assert response["Content-Disposition"].endswith(f'-inbox-{timezone.localdate()}.csv"')
        assert text.startswith("\ufeff")
        assert zoe[0] == "'+32470111111" and zoe[9] == "'=cmd|' /C calc'!A0"
        assert zoe[5:7] == [f"{first:%Y-%m-%d %H:%M:%S}", f"{last:%Y-%m-%d %H:%M:%S}"]
        assert text.split("\r\n")[1].startswith('"\'+32470111111","Zoë","Open"')
    assert zoe[8] == "" and bram[8] == ""  # no target set: nothing is due
    assert response["Cache-Control"] == "private, no-store"


def shown_names(html: str) -> list[str]:
    return re.findall(r'<td class="col-name">(\w+)</td>', html)


def test_the_inbox_offers_both_exports_with_its_filters(owner_client, line, history):
    with provider(history):
        html = owner_client.get(inbox_url(line, who="unassigned", page="1")).content.decode()
    export = reverse("line-inbox-export", kwargs={"line_id": line.pk})
    assert f'<a class="export-link" href="{export}?who=unassigned" download>Export CSV</a>' in html
    plain = f'<a class="export-plain" href="{export}?who=unassigned&amp;format=plain" download>'
    assert plain + "CSV for import into other tools</a>" in html
    assert "(unsafe to open in a spreadsheet)" in html


def test_the_inbox_export_stops_at_the_cap_and_says_so(owner_client, line, history, settings):
    settings.EXPORT_MAX_ROWS = 1
    with provider(history):
        html = owner_client.get(inbox_url(line)).content.decode()
        _, text = inbox_export(owner_client, line)
    assert "export stops after the first 1" in html
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    assert [r[1] for r in rows[1:-1]] == ["Zoë"]
    assert rows[-1][0].startswith("Export stopped after 1 rows")


def test_an_unknown_inbox_export_format_is_refused_in_plain_words(owner_client, line):
    url = reverse("line-inbox-export", kwargs={"line_id": line.pk})
    response = owner_client.get(url, {"format": "xlsx"})
    assert response.status_code == 400
    assert "not one the dashboard makes" in response.content.decode()


def test_the_missed_tab_files_new_callers_and_every_screen_shows_the_count(
    owner_client, line, history
):
    missed_tab = reverse("line-calls", kwargs={"line_id": line.pk, "kind": "missed"})
    with provider(history):
        # The missed page files the callers it shows (no callback detection of its own)...
        first = owner_client.get(missed_tab).content.decode()
        assert f'data-open-count="{line.pk}" title="3 open callers">3<' in first
        # ...the inbox's sync finds Bram's callback, and every count follows.
        owner_client.get(inbox_url(line))
        missed = owner_client.get(missed_tab).content.decode()
        lines = owner_client.get(reverse("line-list")).content.decode()
    assert f'data-open-count="{line.pk}" title="2 open callers">2<' in missed
    assert missed.split("<title>")[1].startswith("(2) ")
    assert f'data-open-count="{line.pk}" title="2 open callers">2<' in lines


def test_a_new_user_sees_the_inbox_of_a_shared_line(client, line, history):
    user = User.objects.create_user("newbie")
    line.shared_with_users.add(user)
    client.force_login(user)
    with provider(history):
        assert client.get(inbox_url(line)).status_code == 200


# Target time and business hours --------------------------------------------------------


def settings_url(line):
    return reverse("line-inbox-settings", kwargs={"line_id": line.pk})


def test_the_owner_sets_a_target_and_hours_and_open_callers_are_re_timed(
    owner_client, line, history
):
    with provider(history):
        owner_client.get(inbox_url(line))
    form = {
        "target_minutes": "30",
        "time_zone": "Europe/Brussels",
        "use_hours": "on",
        "closed_days": "2026-12-25\n2026-12-26",
        **{f"day_{d}": "00:00-24:00" for d in range(7)},
    }
    response = owner_client.post(settings_url(line), form)
    assert response.status_code == 302
    stored = InboxSettings.objects.get(line=line)
    assert stored.target_minutes == 30 and stored.closed_days == ["2026-12-25", "2026-12-26"]
    assert stored.weekly_hours["0"] == [[0, 1440]]
    ada = Episode.objects.get(name="Ada")
    assert ada.due_at == ada.first_attempt_at + 30 * MINUTE
    assert AuditEvent.objects.filter(action=AuditAction.INBOX_SETTINGS_CHANGED).exists()
    page = owner_client.get(settings_url(line)).content.decode()
    assert 'value="00:00-24:00"' in page and "2026-12-25" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("day_0", "nine to five", "is not a time range like 09:00-17:00"),
        ("day_1", "17:00-09:00", "ends before it starts"),
        ("time_zone", "Mars/Olympus", "is not a time zone name"),
        ("closed_days", "25/12/2026", "is not a date like 2026-12-25"),
        ("target_minutes", "-5", "greater than or equal to 1"),
    ],
)
def test_bad_hours_are_refused_with_a_message_and_keep_what_was_typed(
    owner_client, line, field, value, message
):
    form = {
        "target_minutes": "30",
        "time_zone": "UTC",
        "use_hours": "on",
        "day_0": "09:00-17:00",
        field: value,
    }
    response = owner_client.post(settings_url(line), form)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html and value in html
    assert not InboxSettings.objects.exists()


def test_only_the_owner_may_change_the_target(client, line, shared_user):
    client.force_login(shared_user)
    assert client.get(settings_url(line)).status_code == 403
    assert client.post(settings_url(line), {"time_zone": "UTC"}).status_code == 403


def test_closing_a_caller_shows_on_every_one_of_its_missed_calls(owner_client, line, history):
    missed_tab = reverse("line-calls", kwargs={"line_id": line.pk, "kind": "missed"})
    with provider(history):
        owner_client.get(inbox_url(line))
        before = owner_client.get(missed_tab).content.decode()  # stored for everyone
        zoe = Episode.objects.get(name="Zoë")
        owner_client.post(
            caller_url(line, zoe), {"action": "mark", "status": "handled", "version": zoe.version}
        )
        after = owner_client.get(missed_tab).content.decode()

    def open_badges(html):
        return html.count('<span class="badge badge-open">')

    # Zoë's two missed calls were open; now both say Handled, by olivia.
    assert open_badges(before) - open_badges(after) == 2
    handled = re.findall(r'badge-handled">Handled</span>\s*<span class="muted">by olivia', after)
    assert len(handled) == 2


def test_marking_every_missed_call_of_a_caller_closes_the_caller(owner_client, line, history, now):
    mark = reverse("followup-mark", kwargs={"line_id": line.pk})
    with provider(history):
        owner_client.get(inbox_url(line))
        zoe = Episode.objects.get(name="Zoë")
        calls = [now - 90 * MINUTE, now - 30 * MINUTE]
        data = {"number": "+32470111111", "status": "handled", "note": "Sorted"}
        owner_client.post(mark, {**data, "called_at": calls[0].isoformat()})
        zoe.refresh_from_db()
        assert zoe.is_open  # one of its two calls is still open
        owner_client.post(mark, {**data, "called_at": calls[1].isoformat()})
    zoe.refresh_from_db()
    assert (zoe.status, zoe.note, zoe.closed_by_name) == (CallerStatus.HANDLED, "Sorted", "olivia")
    assert AuditEvent.objects.filter(action=AuditAction.INBOX_MARKED).count() == 1


def test_after_another_process_synced_the_page_still_says_when_it_was_checked(
    owner_client, line, demo_upstream
):
    """A sync runs once per TTL across processes; the pages that skip it (the shared key
    says another process did it) show that sync's time instead of nothing."""
    from django.core.cache import cache

    cache.set(f"inbox:synced:{line.pk}", (timezone.now() - 5 * MINUTE).timestamp(), 60)
    before = len(demo_upstream.recorded())
    page = owner_client.get(inbox_url(line)).content.decode()
    assert "Checked 5 min ago" in page
    assert len(demo_upstream.recorded()) == before  # skipped: no provider request
    # And a page right after this process's own sync says so too.
    owner_client.get(inbox_url(line, refresh="1"))
    assert re.search(r"Checked \d+ s ago", owner_client.get(inbox_url(line)).content.decode())
    # The list redrawn after a change (no sync of its own) keeps saying it too.
    episode = Episode.objects.filter(line=line, status=CallerStatus.OPEN).first()
    assert episode is not None  # the demo line has callers waiting
    answer = owner_client.post(
        bulk_url(line), {"claim": episode.pk, "query": ""}, HTTP_HX_REQUEST="true"
    )
    assert re.search(r"Checked \d+ s ago", answer.content.decode())
