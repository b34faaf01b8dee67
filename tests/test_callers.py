"""Caller pages: number normalisation across formats and regions, the bounded upstream
search, the summary, and access."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from dashboard.calls.callers import CHUNK
from dashboard.calls.phone import display, number_key, search_term
from dashboard.smsmobileapi.records import CallKind
from tests.conftest import SUPPORT_KEY
from tests.fake_provider import T0, call, provider

BE_MOBILE = "+32470123456"


@pytest.mark.parametrize(
    ("raw", "region", "key"),
    [
        ("+32 470 12 34 56", "BE", BE_MOBILE),
        ("+32 470 12 34 56", "", BE_MOBILE),
        ("0032470123456", "BE", BE_MOBILE),
        ("0032470123456", "", BE_MOBILE),
        ("0470123456", "BE", BE_MOBILE),
        ("0470 12 34 56", "be", BE_MOBILE),
        ("+32470123456", "FR", BE_MOBILE),  # an international number ignores the region
        ("011 32 470 12 34 56", "US", BE_MOBILE),  # North America's international prefix
        ("(415) 555-0123", "US", "+14155550123"),
        ("0612345678", "FR", "+33612345678"),
        ("0612345678", "NL", "+31612345678"),  # same digits, other country: other caller
        ("0470123456", "", "0470123456"),  # no region: kept as digits, not guessed
        ("12345", "BE", "12345"),  # a short code stays itself
        ("", "BE", ""),
        ("Unknown", "BE", ""),
        ("<script>", "BE", ""),
    ],
)
def test_numbers_normalise_to_one_key_across_formats_and_regions(raw, region, key):
    assert number_key(raw, region) == key


def test_the_search_uses_the_part_every_form_shares():
    assert search_term(BE_MOBILE, "BE") == "470123456"
    for written in ("+32470123456", "0032470123456", "0470123456"):
        assert search_term(BE_MOBILE, "BE") in written
    assert search_term("12345", "BE") == "12345"


def test_numbers_display_grouped_and_unreadable_ones_as_sent():
    assert display("0470123456", "BE") == "+32 470 12 34 56"
    assert display("weird#1", "BE") == "weird#1"


# The page -------------------------------------------------------------------------------


def url(line, number: str = BE_MOBILE) -> str:
    return reverse("line-caller", kwargs={"line_id": line.pk, "number": number})


def history():
    return {
        SUPPORT_KEY: [
            call("missed", "0470123456", T0, name="Alice"),
            call("missed", "+32470123456", T0 + timedelta(hours=1), name="Alice"),
            call("incoming", "0032470123456", T0 + timedelta(hours=2), duration=120),
            call("outgoing", "+32470123456", T0 + timedelta(hours=3), duration=60),
            call("outgoing", "+32470123456", T0 + timedelta(hours=4), duration=0),
            # Decoys the upstream search also finds: other numbers containing the digits.
            call("incoming", "+33470123456", T0 + timedelta(hours=5), duration=999),
            call("missed", "+3247012345699", T0 + timedelta(hours=5)),
        ]
    }


def test_the_caller_page_searches_each_kind_with_the_shared_digits(owner_client, line):
    with provider(history()) as fake:
        response = owner_client.get(url(line))
    assert response.status_code == 200
    asked = [(kind, q.search, q.offset, q.limit) for _, kind, q in fake.queries if q.search]
    assert asked == [
        (CallKind.MISSED, "470123456", 0, CHUNK),
        (CallKind.INCOMING, "470123456", 0, CHUNK),
        (CallKind.OUTGOING, "470123456", 0, CHUNK),
    ]


def test_the_caller_page_shows_every_form_of_the_number_and_no_other(owner_client, line):
    with provider(history()):
        html = owner_client.get(url(line)).content.decode()
    assert "<h1>+32 470 12 34 56</h1>" in html
    assert 'href="tel:+32470123456"' in html
    kinds = re.findall(r'<td class="col-kind"[^>]*><span class="kind-icon kind-(\w+)"', html)
    assert kinds == ["outgoing", "outgoing", "incoming", "missed", "missed"]
    assert "16:39" not in html and "999" not in html  # the decoys


def test_the_summary_counts_kinds_contacts_and_talk_time(owner_client, line):
    with provider(history()):
        html = owner_client.get(url(line)).content.decode()
    counts = dict(
        re.findall(r"kind-(\w+)\" aria-hidden=\"true\"></span>\w+</dt><dd>(\d+)</dd>", html)
    )
    assert counts == {"missed": "2", "incoming": "1", "outgoing": "2"}
    summary = html.split('class="caller-summary"', 1)[1].split("</dl>", 1)[0]
    assert "2026-11-20T09:00:00+00:00" in summary  # first contact
    assert "2026-11-20T13:00:00+00:00" in summary  # last contact
    assert '<dd class="num">3:00</dd>' in summary  # total talk: 120 + 60 s
    # Average over calls that were talked through: the 0-second outgoing call is not talk.
    assert '<dd class="num">1:30</dd>' in summary


def test_a_missed_call_followed_by_a_call_shows_answered_later_on_the_caller_page(
    owner_client, line
):
    with provider(history()):
        html = owner_client.get(url(line)).content.decode()
    assert html.count("Answered later") == 2


def test_other_written_forms_redirect_to_the_one_caller_address(owner_client, line):
    response = owner_client.get(url(line, "0032470123456"))
    assert response.status_code == 302
    assert response["Location"] == url(line)


def test_something_that_is_not_a_number_leads_to_the_timeline_with_a_message(owner_client, line):
    response = owner_client.get(url(line, "<b>nobody"), follow=True)
    assert response.redirect_chain[0][0] == reverse("line-timeline", args=[line.pk])
    html = response.content.decode()
    assert "“&lt;b&gt;nobody” is not a phone number." in html


def test_reading_is_capped_and_the_page_says_so(owner_client, line):
    many = [
        call("incoming", BE_MOBILE, T0 - timedelta(minutes=i), duration=30)
        for i in range(CHUNK * 2 + 5)
    ]
    with provider({SUPPORT_KEY: many}) as fake:
        html = owner_client.get(url(line)).content.decode()
    incoming = [q for _, kind, q in fake.queries if kind is CallKind.INCOMING and q.search]
    assert [(q.offset, q.limit) for q in incoming] == [(0, CHUNK), (CHUNK, CHUNK)]
    assert "Only the newest 400 calls of each kind were read" in html
    assert "Older ones exist for: Incoming" in html


def test_a_failing_kind_is_named_and_the_rest_shown(owner_client, owner):
    from tests.conftest import make_line

    expired = make_line(owner, "demo-expired")
    expired.default_region = "BE"
    expired.save()
    html = owner_client.get(url(expired)).content.decode()
    assert "Incoming calls could not be loaded" in html
    assert "Outgoing calls could not be loaded" in html


def test_numbers_in_the_tables_link_to_their_caller_page(owner_client, line):
    with provider(history()):
        html = owner_client.get(reverse("line-calls", args=[line.pk, "missed"])).content.decode()
    links = set(re.findall(r'<td class="col-number"[^>]*><a href="([^"]+)"', html))
    assert url(line) in links


def test_hidden_numbers_get_no_link(owner_client, line):
    with provider({SUPPORT_KEY: [call("missed", "", T0)]}):
        html = owner_client.get(reverse("line-calls", args=[line.pk, "missed"])).content.decode()
    assert "Hidden number" in html
    assert "/callers/" not in html


def test_caller_pages_follow_line_access(client, line, stranger, shared_user):
    assert client.get(url(line)).status_code == 302  # anonymous: to the login page
    client.force_login(stranger)
    assert client.get(url(line)).status_code == 404
    client.force_login(shared_user)
    with provider(history()):
        assert client.get(url(line)).status_code == 200
