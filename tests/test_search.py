"""Search as people type: numbers in any written form find every stored form of them,
names match case- and accent-blind, and every screen sends the provider the same term."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from dashboard.calls.phone import search_term
from dashboard.calls.templatetags.calls import highlight
from dashboard.smsmobileapi.demo import DemoUpstream
from dashboard.smsmobileapi.demo.app import like
from dashboard.smsmobileapi.records import CallKind
from dashboard.text import fold, fold_spans
from tests.conftest import DEMO_NOW, SUPPORT_KEY, make_line
from tests.fake_provider import T0, call, provider

# The normalisation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "region", "sent"),
    [
        # Belgium: national with any punctuation, +32, 0032, +32 (0)…
        ("0486 39 86 74", "BE", "486398674"),
        ("0486-39-86-74", "BE", "486398674"),
        ("0486.39.86.74", "BE", "486398674"),
        ("(0486) 39 86 74", "BE", "486398674"),
        ("0486/39.86-74", "BE", "486398674"),
        ("+32 495106303", "BE", "495106303"),
        ("+32 (0)495 10 63 03", "BE", "495106303"),
        ("0032 486 39 86 74", "BE", "486398674"),
        ("32486398674", "BE", "486398674"),
        # France, the United States (its international prefix is 011, its trunk 1)
        ("06 12 34 56 78", "FR", "612345678"),
        ("+33 6 12 34 56 78", "FR", "612345678"),
        ("0033 6 12 34 56 78", "BE", "612345678"),  # another country's number on a BE line
        ("(415) 555-0123", "US", "4155550123"),
        ("1 415 555 0123", "US", "4155550123"),
        ("+1 415-555-0123", "BE", "4155550123"),
        ("011 32 486 39 86 74", "US", "486398674"),
        # Full-width digits and punctuation, as a Japanese keyboard types them
        ("０４８６ ３９ ８６ ７４", "BE", "486398674"),
        ("０９０－１２３４－５６７８", "JP", "9012345678"),
        # The start of a number: its digits after the prefix either stored form lacks
        ("0486 39", "BE", "48639"),
        ("+32 486", "BE", "486"),
        ("0032 486", "BE", "486"),
        ("1 415 555", "US", "415555"),
        ("06 12", "FR", "612"),
        # Too short once the prefix is gone: the digits (and +) as typed, no guessing
        ("04", "BE", "04"),
        ("+32 4", "BE", "+324"),
        ("+32", "BE", "+32"),
        ("7", "BE", "7"),
        # No region: a national number cannot be read, its digits go as typed
        ("0486 39 86 74", "", "0486398674"),
        ("+32 486 39 86 74", "", "486398674"),
        ("0032 486 39 86 74", "", "486398674"),
        # Names and mixed text go exactly as typed
        ("Zoë", "BE", "Zoë"),
        ("zoe dupont", "BE", "zoe dupont"),
        ("Zoë 2", "BE", "Zoë 2"),
        ("Room 101", "BE", "Room 101"),
        ("Dr. 0486", "BE", "Dr. 0486"),
        ("0486 39 86 74 x", "BE", "0486 39 86 74 x"),
        ("100%", "BE", "100%"),
        ("-", "BE", "-"),
        ("+", "BE", "+"),
    ],
)
def test_a_search_is_sent_as_the_digits_every_stored_form_holds(typed, region, sent):
    assert search_term(typed, region) == sent


@pytest.mark.parametrize(
    ("typed", "region", "stored_forms"),
    [
        ("0486 39 86 74", "BE", ["+32486398674", "0486398674", "0032486398674"]),
        ("+32 495106303", "BE", ["+32495106303", "0495106303", "0032495106303"]),
        ("06 12 34 56 78", "FR", ["+33612345678", "0612345678", "0033612345678"]),
        ("(415) 555-0123", "US", ["+14155550123", "4155550123", "14155550123"]),
        ("+32 486", "BE", ["+32486398674", "0486398674"]),
    ],
)
def test_the_term_matches_the_e164_and_the_national_form_alike(typed, region, stored_forms):
    match = like(search_term(typed, region))
    assert all(match(stored) for stored in stored_forms)


def test_names_are_compared_case_and_accent_blind():
    assert fold("Zoë") == fold("ZOE") == "zoe"
    assert fold("Hélène Lefèvre") == "helene lefevre"
    assert fold("Straße") == fold("STRASSE")
    assert like("zoe")("Zoë Dupont") and like("DUPONT")("Zoë Dupont")
    assert like("hélène")("HELENE") and like("Hele%vre")("Hélène Lefèvre")
    assert not like("zoey")("Zoë")
    assert like("山田")("山田 太郎")


def test_fold_spans_point_into_the_original_text():
    assert fold_spans("Zoë Dupont", "zoe") == [(0, 3)]
    decomposed = "Zoe\u0308 Dupont"  # e + a combining diaeresis: the mark goes with its letter
    assert fold_spans(decomposed, "ZOË") == [(0, 4)]
    assert fold_spans("Anna anna", "ANNA") == [(0, 4), (5, 9)]
    assert fold_spans("Straße", "SS") == [(4, 5)]
    assert fold_spans("Zoë", "") == []
    assert fold_spans("Zoë", "x") == []


def test_the_demo_provider_finds_names_whatever_their_case_and_accents():
    import httpx

    app = DemoUpstream(clock=lambda: DEMO_NOW)
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://demo") as client:

        def names(path, **params):
            body = client.get(path, params={"apikey": SUPPORT_KEY, "limit": 200, **params}).json()
            return {(r.get("name") or r.get("cached_name") or "") for r in body.get("data", [])} | {
                r.get("cached_name") or "" for r in body.get("rows", [])
            }

        accented = names("/call/missed/list/", search="Zoë")
        assert any("Zoë" in n for n in accented)
        assert names("/call/missed/list/", search="zoe") == accented
        assert names("/call/missed/list/", search="ZOE") == accented
        helene = names("/call/incoming/list/", q="helene")
        assert helene and all("hélène" in n.lower() for n in helene)


# The screens: what the provider is asked, and what is shown --------------------------------

# One Belgian caller stored in E.164 (+32486398674), another in national form (0495106303),
# and decoys that hold neither number's digits.
CALLS = {
    SUPPORT_KEY: [
        call("missed", "+32486398674", T0, name="Zoë Dupont"),
        call("missed", "+32486398674", T0 - timedelta(hours=1), name="Zoë Dupont"),
        call("missed", "0495106303", T0 - timedelta(hours=2)),
        call("missed", "+32470000001", T0 - timedelta(hours=3), name="Alice"),
        call("incoming", "+32486398674", T0 - timedelta(hours=4), name="Zoë Dupont"),
        call("incoming", "0495106303", T0 - timedelta(hours=5), name="Hélène Lefèvre"),
        call("incoming", "+33612345678", T0 - timedelta(hours=6), name="Jean"),
        call("outgoing", "0032486398674", T0 - timedelta(hours=7)),
    ]
}


def calls_url(line, kind, **params) -> str:
    return (
        reverse("line-calls", kwargs={"line_id": line.pk, "kind": kind}) + "?" + urlencode(params)
    )


def shown(html: str) -> list[str]:
    """The numbers in the table's rows, as displayed."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    cells = re.findall(r'<td class="col-number"[^>]*>(.*?)</td>', body, flags=re.S)
    return [re.sub(r"<[^>]+>|⌕", "", c).split("Only calls")[0].strip() for c in cells]


def searches(fake) -> list[tuple[CallKind, str]]:
    return [(kind, q.search) for _, kind, q in fake.queries if q.search]


def test_a_national_number_finds_the_calls_stored_in_e164(owner_client, line):
    with provider(CALLS) as fake:
        html = owner_client.get(calls_url(line, "missed", q="0486 39 86 74")).content.decode()
    assert searches(fake) == [(CallKind.MISSED, "486398674")]
    assert shown(html) == ["+32 486 39 86 74", "+32 486 39 86 74"]
    assert 'value="0486 39 86 74"' in html  # the box keeps what was typed


def test_an_international_number_finds_the_calls_stored_in_national_form(owner_client, line):
    with provider(CALLS) as fake:
        missed = owner_client.get(calls_url(line, "missed", q="+32 495106303")).content.decode()
        incoming = owner_client.get(calls_url(line, "incoming", q="+32 495106303")).content.decode()
    assert searches(fake) == [(CallKind.MISSED, "495106303"), (CallKind.INCOMING, "495106303")]
    assert shown(missed) == ["0495106303"] and shown(incoming) == ["0495106303"]
    assert 'value="+32 495106303"' in incoming


def test_a_name_goes_as_typed_and_matches_without_accents(owner_client, line):
    with provider(CALLS) as fake:
        html = owner_client.get(calls_url(line, "incoming", q="helene")).content.decode()
    assert searches(fake) == [(CallKind.INCOMING, "helene")]
    assert cell(html, "name") == ["<mark>Hélène</mark> Lefèvre"]
    assert shown(html) == ["0495106303"]


def test_the_provider_is_sent_the_digits_by_each_endpoints_own_parameter(
    owner_client, line, demo_upstream
):
    owner_client.get(calls_url(line, "missed", q="0486 39 86 74"))
    owner_client.get(calls_url(line, "outgoing", q="0032 486 39 86 74"))
    sent = [
        (r.path, r.params.get("search") or r.params.get("q"))
        for r in demo_upstream.recorded()
        if "search" in r.params or "q" in r.params
    ]
    assert sent == [("/call/missed/list/", "486398674"), ("/call/outgoing/list/", "486398674")]


def test_two_ways_of_typing_one_number_share_the_providers_answer(owner_client, line):
    with provider(CALLS) as fake:
        first = owner_client.get(calls_url(line, "incoming", q="0486 39 86 74")).content.decode()
        second = owner_client.get(calls_url(line, "incoming", q="+32486398674")).content.decode()
    assert searches(fake) == [(CallKind.INCOMING, "486398674")]  # the second is cached
    assert shown(first) == shown(second) == ["+32 486 39 86 74"]
    assert 'value="+32486398674"' in second


def test_a_line_without_region_sends_national_digits_as_typed(owner_client, owner):
    other = make_line(owner, SUPPORT_KEY.replace("support", "noregion"))
    with provider({}) as fake:
        owner_client.get(calls_url(other, "missed", q="0486 39 86 74"))
    assert searches(fake) == [(CallKind.MISSED, "0486398674")]


def test_the_timeline_searches_every_kind_with_the_same_digits(owner_client, line):
    target = reverse("line-timeline", kwargs={"line_id": line.pk}) + "?q=0486+39+86+74"
    with provider(CALLS) as fake:
        html = owner_client.get(target).content.decode()
    assert sorted(searches(fake)) == sorted(
        [(k, "486398674") for k in (CallKind.MISSED, CallKind.INCOMING, CallKind.OUTGOING)]
    )
    # The outgoing call was stored as 0032…: the same caller, found too.
    assert shown(html) == ["+32 486 39 86 74"] * 3 + ["+32 486 39 86 74"]
    assert 'value="0486 39 86 74"' in html


def test_the_export_holds_the_rows_the_search_finds(owner_client, line):
    target = reverse("line-export", kwargs={"line_id": line.pk, "kind": "incoming"})
    with provider(CALLS) as fake:
        response = owner_client.get(target + "?q=%2B32+495106303")
        body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert searches(fake) == [(CallKind.INCOMING, "495106303")]
    rows = list(csv.reader(io.StringIO(body, newline="")))[1:]
    assert len(rows) == 1 and any("495106303" in cell for cell in rows[0])
    assert "Hélène Lefèvre" in rows[0]


def test_the_inbox_searches_its_callers_with_the_same_digits(owner_client, line):
    # The old "To follow up" link redirects to the inbox, which searches its own callers
    # (one row per caller) with the same search term as every table.
    with provider(CALLS):
        response = owner_client.get(
            calls_url(line, "missed", q="0486 39 86 74", followup="open"), follow=True
        )
    assert response.redirect_chain[0][1] == 301
    assert shown(response.content.decode()) == ["+32 486 39 86 74"]


def test_the_caller_page_searches_with_the_same_function(owner_client, line):
    target = reverse("line-caller", kwargs={"line_id": line.pk, "number": "+32495106303"})
    with provider(CALLS) as fake:
        html = owner_client.get(target).content.decode()
    assert {term for _, term in searches(fake)} == {search_term("+32 495106303", "BE")}
    assert "Hélène Lefèvre" in html


# Highlighting the match in the rows -----------------------------------------------------


def test_highlight_marks_digits_across_grouping_and_words_without_accents():
    assert highlight("+32 486 39 86 74", "486398674") == "+32 <mark>486 39 86 74</mark>"
    assert highlight("+32 486 39 86 74", "+324") == "<mark>+32 4</mark>86 39 86 74"
    assert highlight("0495106303", "495106303") == "0<mark>495106303</mark>"
    assert highlight("Zoë Dupont", "ZOE") == "<mark>Zoë</mark> Dupont"
    assert highlight("Anna anna", "anna") == "<mark>Anna</mark> <mark>anna</mark>"
    assert highlight("Room 101", "101") == "Room <mark>101</mark>"
    # Nothing matched, no term, or a LIKE wildcard: the text itself, for autoescaping.
    assert highlight("Alice", "zoe") == "Alice" and highlight("Alice", "") == "Alice"
    assert highlight("100% Alice", "100%") == "100% Alice"


def test_highlight_escapes_names_and_queries_and_adds_only_mark():
    name = '<img src=x onerror="alert(1)"> Zoë & Co'
    assert highlight(name, "zoe") == (
        "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; <mark>Zoë</mark> &amp; Co"
    )
    assert highlight("a<b>c", "<b>") == "a<mark>&lt;b&gt;</mark>c"
    # The match is found in the text, never in its escaped form.
    assert highlight("Tom & Jerry", "amp") == "Tom & Jerry"
    assert highlight("x &lt; y", "lt") == "x &amp;<mark>lt</mark>; y"


def cell(html: str, column: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(rf'<td class="col-{column}"[^>]*>(.*?)</td>', body, flags=re.S)


def test_the_rows_mark_the_matched_digits_and_names(owner_client, line):
    with provider(CALLS):
        by_number = owner_client.get(calls_url(line, "missed", q="0486 39 86 74")).content
        by_name = owner_client.get(calls_url(line, "incoming", q="zoe")).content
    numbers = cell(by_number.decode(), "number")
    assert len(numbers) == 2
    assert all(">+32 <mark>486 39 86 74</mark></a>" in n for n in numbers)
    assert cell(by_name.decode(), "name") == ["<mark>Zoë</mark> Dupont"]
    assert "<mark>" not in cell(by_name.decode(), "number")[0]


def test_markup_in_names_and_in_the_search_stays_text_around_the_mark(owner_client, line):
    hostile = {SUPPORT_KEY: [call("incoming", "+32470000001", T0, name='<b>x</b><i>"y"')]}
    with provider(hostile):
        html = owner_client.get(calls_url(line, "incoming", q="<b>x")).content.decode()
    [name] = cell(html, "name")
    inner = name
    assert inner == "<mark>&lt;b&gt;x</mark>&lt;/b&gt;&lt;i&gt;&quot;y&quot;"
    assert set(re.findall(r"</?(\w+)", inner)) == {"mark"}
    assert 'value="&lt;b&gt;x"' in html  # the box shows what was typed, as text
