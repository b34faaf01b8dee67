"""CSV export: exactly the table's view across pages, streamed, capped, and safe to open in
a spreadsheet (BOM, numbers as text, no formula injection)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from dashboard.reports.export import FORMULA_STARTS, hms, neutralise, number_cell
from dashboard.reports.reading import CallReader
from dashboard.smsmobileapi.client import day_bounds_ms
from dashboard.smsmobileapi.records import CallKind, CallQuery
from tests.conftest import SUPPORT_KEY, make_line


def export_url(line, kind, query: str = "") -> str:
    return reverse("line-export", kwargs={"line_id": line.pk, "kind": kind}) + query


def download(client, line, kind, query: str = "") -> tuple[object, bytes]:
    response = client.get(export_url(line, kind, query))
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def parse(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def is_safe(cell: str) -> bool:
    """What a spreadsheet would not evaluate: no formula start, even after blanks."""
    return cell.startswith("'") or (
        cell[:1] not in FORMULA_STARTS and cell.lstrip(" \n\t\r")[:1] not in FORMULA_STARTS
    )


# Cell rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            '=HYPERLINK("http://evil.example/","Click me")',
            '\'=HYPERLINK("http://evil.example/","Click me")',
        ),
        ("+1+1", "'+1+1"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("  =1+1", "'  =1+1"),
        ("＝１＋１", "'＝１＋１"),
        ("Alice", "Alice"),
        ("山田 太郎", "山田 太郎"),
        ("", ""),
        (None, ""),
        ("nul\x00and\x07bell", "nulandbell"),
        ("Tab\tCity\nNewline", "Tab\tCity\nNewline"),
    ],
)
def test_every_formula_start_is_neutralised_with_a_quote(value, expected):
    assert neutralise(value) == expected


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("+32470000001", "'+32470000001"),  # the + stays
        ("0470123456", "'0470123456"),  # the leading 0 stays
        ("32470123456", "'32470123456"),  # no 3.2E+10
        ("+32 (0)470 12.34.56", "'+32 (0)470 12.34.56"),
        ("-2", "'-2"),
        ("=1+1", "'=1+1"),
        ("<b>+32470</b>", "<b>+32470</b>"),  # text anyway
        ("", ""),
    ],
)
def test_phone_numbers_are_kept_as_text(number, expected):
    assert number_cell(number) == expected


def test_a_name_with_a_semicolon_formula_stays_inside_its_quoted_cell(owner, owner_client):
    from tests.conftest import make_line

    hostile = make_line(owner, "demo-hostile")
    _, body = download(owner_client, hostile, "incoming", "")
    text = body.decode("utf-8-sig")
    # Every cell is quoted, so a ';' list separator cannot split a cell open.
    for row in parse(body):
        for cell in row:
            assert '"' + cell.replace('"', '""') + '"' in text


def test_durations_read_as_hours_minutes_seconds():
    assert [hms(0), hms(187), hms(3725), hms(None)] == ["0:00:00", "0:03:07", "1:02:05", ""]


# The download -------------------------------------------------------------------------


def test_the_export_is_a_streamed_utf8_csv_attachment_with_a_bom(owner_client, line):
    response, body = download(owner_client, line, "incoming", "?from=2026-11-20&to=2026-11-20")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        'attachment; filename="support-phone-incoming-'
    )
    assert response["Cache-Control"] == "private, no-store"
    assert body.startswith(b'\xef\xbb\xbf"Time (UTC)","Kind","Number","Name","Duration (seconds)",')
    assert parse(body)[0] == [
        "Time (UTC)",
        "Kind",
        "Number",
        "Name",
        "Duration (seconds)",
        "Duration (h:mm:ss)",
        "Location",
    ]


def test_rows_round_trip_through_the_csv_module_with_japanese_names_intact(
    owner_client, owner, line
):
    from dashboard.accounts.models import Profile

    Profile.objects.create(user=owner, time_zone="Asia/Tokyo")
    query = CallQuery(date_from=date(2026, 11, 1), date_to=date(2026, 11, 20), tz_name="Asia/Tokyo")
    expected = list(CallReader(line, CallKind.INCOMING, query, 10_000))
    _, body = download(owner_client, line, "incoming", "?from=2026-11-01&to=2026-11-20")
    header, *rows = parse(body)
    assert header[0] == "Time (Asia/Tokyo)"
    assert len(rows) == len(expected) > 200  # more than one upstream page
    tokyo = ZoneInfo("Asia/Tokyo")
    for row, call in zip(rows, expected, strict=True):
        assert row == [
            call.started_at.astimezone(tokyo).strftime("%Y-%m-%d %H:%M:%S"),
            "Incoming",
            "'" + call.number,
            call.name,
            str(call.duration),
            hms(call.duration),
            call.location,
        ]
    assert any("\u3040" <= ch <= "\u9fff" for row in rows for ch in row[3])  # Japanese names


def test_hostile_names_places_and_numbers_are_all_neutralised(owner_client, owner):
    hostile = make_line(owner, "demo-hostile")
    cells: list[str] = []
    for kind in CallKind:
        response, body = download(owner_client, hostile, kind, "?from=2026-11-01")
        assert response.status_code == 200
        cells += [cell for row in parse(body)[1:] for cell in row]
    assert cells and all(is_safe(cell) for cell in cells)
    for attack in (
        '=HYPERLINK("http://evil.example/","Click me")',
        "+1+1",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "=cmd|' /C calc'!A0",
    ):
        assert "'" + attack in cells, attack
    assert "山田 太郎" in cells


def test_the_export_follows_the_views_search_dates_and_sort_across_all_pages(
    owner_client, line, demo_upstream, settings
):
    settings.EXPORT_MAX_ROWS = 10_000
    query = "?from=2026-10-01&to=2026-11-20&sort=duration&dir=asc&page=3&per_page=25"
    _, body = download(owner_client, line, "incoming", query)
    start, end = day_bounds_ms(date(2026, 10, 1), date(2026, 11, 20), "UTC")
    common = {
        "date_from_ms": str(start),
        "date_to_ms": str(end),
        "sort_by": "duration_sec",
        "sort_dir": "asc",
    }
    requests = demo_upstream.sent()
    # Page and page size of the table do not matter: every page, from the first, full size.
    assert requests == [
        ("/call/incoming/list/", {"offset": str(200 * i), "limit": "200"} | common)
        for i in range(len(requests))
    ]
    rows = parse(body)[1:]
    assert len(requests) == len(rows) // 200 + 1 and len(rows) > 400
    durations = [int(row[4]) for row in rows]
    assert durations == sorted(durations)
    first, last = datetime(2026, 10, 1), datetime(2026, 11, 21)
    assert all(first <= datetime.fromisoformat(row[0]) < last for row in rows)


def test_missed_export_sends_the_search_and_calendar_days(owner_client, line, demo_upstream):
    _, body = download(
        owner_client, line, "missed", "?q=%2B32&from=2026-11-01&to=2026-11-20&sort=name"
    )
    # The other requests read the line's incoming and outgoing calls for the follow-up
    # columns' "answered later" (tests/test_followup.py covers that window).
    assert [sent for sent in demo_upstream.sent() if sent[0] == "/call/missed/list/"] == [
        (
            "/call/missed/list/",
            {
                "offset": "0",
                "limit": "500",
                "search": "+32",
                "date_start": "2026-11-01",
                "date_end": "2026-11-20",
            },
        )
    ]
    header, *rows = parse(body)
    assert header[:4] == ["Time (UTC)", "Kind", "Number", "Name"]
    assert rows and all(row[2].startswith("'+32") or "+32" in row[3] for row in rows)


def test_the_cap_ends_the_export_with_a_line_that_says_so(
    owner_client, line, demo_upstream, settings
):
    settings.EXPORT_MAX_ROWS = 250
    _, body = download(owner_client, line, "outgoing", "?sort=date&dir=desc")
    *rows, closing = parse(body)[1:]
    assert len(rows) == 250
    assert closing == [
        "Export stopped after 250 rows, the most one export holds. "
        "Narrow the dates or the search to export the rest."
    ]
    assert [(p["offset"], p["limit"]) for _, p in demo_upstream.sent()] == [
        ("0", "200"),
        ("200", "51"),
    ]


def test_an_export_under_the_cap_has_no_closing_line(owner_client, line, settings):
    settings.EXPORT_MAX_ROWS = 10_000
    _, body = download(owner_client, line, "missed", "?from=2026-11-20&to=2026-11-20")
    rows = parse(body)[1:]
    assert rows and all(row[1] == "Missed" for row in rows)


def test_an_empty_view_exports_only_the_header(owner_client, owner):
    response, body = download(owner_client, make_line(owner, "demo-empty"), "incoming")
    assert response.status_code == 200 and parse(body) == [parse(body)[0]]


def test_a_refusal_on_the_first_page_is_a_readable_error_page_not_a_csv(owner_client, owner):
    expired = make_line(owner, "demo-expired")
    response = owner_client.get(export_url(expired, "incoming", "?q=abc"))
    assert response.status_code == 502 and not response.streaming
    html = response.content.decode()
    assert "The export could not be produced." in html and 'data-error="api_expired"' in html
    assert "demo-expired" not in html
    # Missed calls of an expired key still list (the provider does not check there).
    assert download(owner_client, expired, "missed")[0].status_code == 200


@pytest.mark.parametrize("kind", ["missed", "incoming", "outgoing"])
def test_only_users_who_may_see_the_line_can_export_it(
    client, line, shared_user, group_user, stranger, kind
):
    target = export_url(line, kind)
    response = client.get(target)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    client.force_login(stranger)
    assert client.get(target).status_code == 404
    for user in (shared_user, group_user):
        client.force_login(user)
        assert client.get(target).status_code == 200


# The table page -----------------------------------------------------------------------


def table(client, line, kind, query=""):
    url = reverse("line-calls", kwargs={"line_id": line.pk, "kind": kind}) + query
    return client.get(url).content.decode()


def test_the_table_links_to_an_export_of_exactly_its_view(owner_client, line):
    html = table(
        owner_client, line, "incoming", "?q=%2B32&sort=duration&dir=asc&page=2&per_page=25"
    )
    href = export_url(line, "incoming", "?q=%2B32&amp;sort=duration&amp;dir=asc")
    assert f'<a class="export-link" href="{href}" download>Export CSV</a>' in html
    assert "up to 10,000 rows" in html and "export-cap" not in html


def test_the_table_warns_when_its_view_holds_more_than_one_export(owner_client, line, settings):
    settings.EXPORT_MAX_ROWS = 50
    assert "export-cap" not in table(owner_client, line, "incoming", "?per_page=25")
    html = table(owner_client, line, "incoming", "?per_page=25&page=2")
    assert "This view holds more than 50 calls: the export stops after the first 50" in html


def test_the_table_page_shows_no_export_link_without_calls(owner_client, owner):
    assert "export-link" not in table(owner_client, make_line(owner, "demo-empty"), "missed")


def test_export_times_use_the_viewers_zone_for_day_bounds_too(
    owner_client, owner, line, demo_upstream
):
    from dashboard.accounts.models import Profile

    Profile.objects.create(user=owner, time_zone="Europe/Brussels")
    download(owner_client, line, "outgoing", "?from=2026-10-25&to=2026-10-25")
    params = demo_upstream.sent()[0][1]
    # 2026-10-25 in Brussels is 25 hours long: 22:00 UTC the day before to 23:00 UTC.
    assert params["date_from_ms"] == str(
        int(datetime(2026, 10, 24, 22, tzinfo=UTC).timestamp() * 1000)
    )
    assert params["date_to_ms"] == str(
        int(datetime(2026, 10, 25, 23, tzinfo=UTC).timestamp() * 1000) - 1
    )
    assert params["sort_by"] == "call_date_ms"


# Exports are the view: follow-up columns, the timeline, the variant for other tools ------


def timeline_export_url(line, query: str = "") -> str:
    return reverse("line-timeline-export", kwargs={"line_id": line.pk}) + query


def test_the_missed_export_has_the_follow_up_the_table_shows(owner_client, line):
    from tests.fake_provider import T0, call, provider
    from tests.test_followup import NUMBER, post_mark

    calls = {
        SUPPORT_KEY: [
            call("missed", "0470123456", T0, name="Alice"),
            call("missed", "0470999888", T0.replace(hour=T0.hour - 1), name="Bob"),
        ]
    }
    post_mark(owner_client, line, "handled", note="Sorted by mail", number=NUMBER, at=T0)
    with provider(calls):
        _, body = download(owner_client, line, "missed")
    header, *rows = parse(body)
    assert header == [
        "Time (UTC)", "Kind", "Number", "Name",
        "Follow-up", "Marked by", "Marked at (UTC)", "Note", "Answered later at (UTC)",
    ]  # fmt: skip
    alice, bob = rows
    assert alice[4:6] == ["Handled", "olivia"] and alice[7] == "Sorted by mail"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", alice[6])
    assert bob[4:] == ["To follow up", "", "", "", ""]


def test_the_timeline_exports_exactly_its_rows_with_their_follow_up(owner_client, line):
    page = owner_client.get(
        reverse("line-timeline", kwargs={"line_id": line.pk}) + "?q=%2B32&per_page=100"
    ).content.decode()
    shown = re.findall(r'<td class="col-when"><time datetime="([^"]+)"', page)
    assert 'class="export-link"' in page  # the timeline has its export link now
    _, body = download_url(owner_client, timeline_export_url(line, "?q=%2B32"))
    header, *rows = parse(body)
    assert header[:7] == [
        "Time (UTC)", "Kind", "Number", "Name",
        "Duration (seconds)", "Duration (h:mm:ss)", "Location",
    ]  # fmt: skip
    assert header[7] == "Follow-up"
    # The view's first page is the export's first rows, in the same order, every kind.
    times = [datetime.fromisoformat(t).strftime("%Y-%m-%d %H:%M:%S") for t in shown]
    assert [r[0] for r in rows[: len(times)]] == times
    assert {r[1] for r in rows} == {"Missed", "Incoming", "Outgoing"}
    assert all("+32" in r[2] or "+32" in r[3] for r in rows)
    missed = [r for r in rows if r[1] == "Missed"]
    assert missed and all(r[7] in ("To follow up", "Answered later") for r in missed)
    assert all(r[4:7] == ["", "", ""] for r in missed)  # no duration for a missed call
    assert all(r[7] == "" for r in rows if r[1] != "Missed")


def download_url(client, url: str) -> tuple[object, bytes]:
    response = client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def test_the_import_variant_is_plain_rfc_4180_with_values_untouched(owner_client, line):
    from tests.fake_provider import T0, call, provider

    hostile = '=HYPERLINK("http://evil.example/","x")'
    calls = {SUPPORT_KEY: [call("incoming", "+32470123456", T0, name=hostile, duration=75)]}
    with provider(calls):
        response, body = download(owner_client, line, "incoming", "?format=plain")
    assert response["Content-Disposition"].endswith('-plain.csv"')
    text = body.decode("utf-8")
    assert not text.startswith("\ufeff")  # importers read a BOM as part of the first name
    assert text.endswith("\r\n") and "\r\n" in text.split("\r\n", 1)[0] + "\r\n"
    header, row = list(csv.reader(io.StringIO(text, newline="")))
    assert header[0] == "Time (UTC)"
    assert row[:4] == [T0.isoformat(timespec="seconds"), "Incoming", "+32470123456", hostile]
    assert row[4:6] == ["75", "0:01:15"]
    # Minimal quoting: only the cell that needs quotes has them.
    assert text.split("\r\n")[1].startswith(T0.isoformat(timespec="seconds") + ",Incoming,+32")

    with provider(calls):
        _, safe = download(owner_client, line, "incoming")
    assert parse(safe)[1][2:4] == ["'+32470123456", "'" + hostile]  # the default stays safe


def test_the_table_offers_both_exports_and_says_which_is_unsafe_in_a_spreadsheet(
    owner_client, line
):
    html = table(owner_client, line, "incoming", "?q=%2B32")
    href = export_url(line, "incoming", "?q=%2B32&amp;format=plain")
    assert (
        f'<a class="export-plain" href="{href}" download>CSV for import into other tools</a>'
        in html
    )
    assert "(unsafe to open in a spreadsheet)" in html


@pytest.mark.parametrize("value", ["xlsx", "PLAIN", "<script>", "x" * 500])
def test_an_unknown_export_format_is_refused_in_plain_words(owner_client, line, value):
    for url in (export_url(line, "incoming"), timeline_export_url(line)):
        response = owner_client.get(url, {"format": value})
        assert response.status_code == 400
        assert "not one the dashboard makes" in response.content.decode()
