"""Languages: English by default, Japanese from the browser's Accept-Language or the
switcher's cookie (pages, htmx partials, CSV headers, friendly times), and a Japanese
catalogue that is complete, compiled from the current .po file and holds every string
the code marks for translation."""

from __future__ import annotations

import csv
import gettext
import io
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from dashboard.calls.templatetags.calls import ago, friendly_time
from dashboard.formats import percent

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "dashboard" / "locale" / "ja" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
JA = {"HTTP_ACCEPT_LANGUAGE": "ja,en-US;q=0.7,en;q=0.3"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.5"}
# A Friday afternoon; the cases below are relative to it.
NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)


def html_lang(html: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', html)
    assert match, "no <html lang> on the page"
    return match.group(1)


def calls_url(line, kind: str = "missed") -> str:
    return reverse("line-calls", kwargs={"line_id": line.pk, "kind": kind})


# Pages -------------------------------------------------------------------------------


def test_english_is_the_default_without_accept_language(owner_client, line):
    response = owner_client.get(calls_url(line))
    html = response.content.decode()
    assert response["Content-Language"] == "en"
    assert html_lang(html) == "en"
    assert ">Search</label>" in html
    assert "不在着信" not in html


def test_a_browser_language_we_do_not_have_falls_back_to_english(owner_client, line):
    response = owner_client.get(calls_url(line), HTTP_ACCEPT_LANGUAGE="fr-BE,fr;q=0.9")
    assert response["Content-Language"] == "en"
    assert html_lang(response.content.decode()) == "en"


def test_accept_language_ja_gives_a_japanese_call_table(owner_client, line):
    response = owner_client.get(calls_url(line), **JA)
    html = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Language"] == "ja"
    assert "Accept-Language" in response["Vary"]
    assert html_lang(html) == "ja"
    # "(N) " first: the line's open callers (the inbox count).
    assert re.search(r"<title>(\(\d+\) )?Support phone · 不在着信 · 通話履歴</title>", html)
    assert ">検索</label>" in html
    assert 'placeholder="番号または名前"' in html
    assert "不在着信の一覧 — Support phone" in html
    for header in ("日時", "電話番号", "名前", "対応状況"):
        assert re.search(rf'<th scope="col" class="col-\w+"[^>]*>\s*(<a[^>]*>)?{header}', html)
    assert "時刻はUTC" in html
    # No English left over in the page's own words.
    for english in (">Search<", "Missed calls", "Times in", "Per page", ">Refresh<"):
        assert english not in html


def test_a_regional_japanese_browser_gets_japanese_too(owner_client, line):
    response = owner_client.get(calls_url(line, "incoming"), HTTP_ACCEPT_LANGUAGE="ja-JP")
    assert html_lang(response.content.decode()) == "ja"
    assert "着信の一覧" in response.content.decode()


def test_the_login_page_is_japanese_for_a_japanese_browser(client, db):
    response = client.get(reverse("login"), **JA)
    html = response.content.decode()
    assert html_lang(html) == "ja"
    assert "<h1>ログイン</h1>" in html
    assert ">ユーザー名</label>" in html and ">パスワード</label>" in html


def test_an_htmx_partial_answers_in_the_browsers_language(owner_client, line):
    response = owner_client.get(calls_url(line), HTTP_HX_REQUEST="true", **JA)
    html = response.content.decode()
    assert "<html" not in html
    assert "不在着信の一覧" in html
    assert "時刻はUTC" in html
    assert "Missed calls" not in html


def test_an_htmx_partial_follows_the_language_cookie_like_the_page(owner_client, line):
    owner_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    response = owner_client.get(calls_url(line), HTTP_HX_REQUEST="true", **EN)
    assert "不在着信の一覧" in response.content.decode()


def test_friendly_times_in_the_table_are_japanese(owner_client, line, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    html = owner_client.get(calls_url(line, "incoming"), **JA).content.decode()
    times = re.findall(r"<time datetime=\"[^\"]+\">([^<]+)</time>", html)
    assert times
    assert all(
        re.fullmatch(r"(今日|昨日|\(.\)) \d+:\d\d|\d+月\d+日 \d+:\d\d|\d{4}年\d+月\d+日", t)
        for t in times
    ), times


# The switcher -------------------------------------------------------------------------


def test_every_page_has_a_language_switcher_that_posts_to_set_language(owner_client, line):
    html = owner_client.get(calls_url(line)).content.decode()
    form = re.search(
        r'<form class="lang-switcher" method="post" action="([^"]+)">(.*?)</form>', html, re.S
    )
    assert form, "no language switcher"
    assert form.group(1) == "/i18n/setlang/"
    body = form.group(2)
    assert 'name="csrfmiddlewaretoken"' in body
    assert f'<input type="hidden" name="next" value="{calls_url(line)}">' in body
    assert '<option value="en" lang="en" selected>English</option>' in body
    assert '<option value="ja" lang="ja">日本語</option>' in body
    assert '<button type="submit"' in body


def test_the_login_page_has_the_switcher_too(client, db):
    html = client.get(reverse("login")).content.decode()
    assert 'action="/i18n/setlang/"' in html


def test_the_switcher_remembers_japanese_in_a_cookie_and_the_next_page_is_japanese(
    owner_client, line
):
    url = calls_url(line) + "?q=Dupont"
    response = owner_client.post(reverse("set_language"), {"language": "ja", "next": url}, **EN)
    assert response.status_code == 302
    assert response["Location"] == url
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "ja"
    assert cookie["max-age"] == 365 * 24 * 60 * 60
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"

    # The browser still says English; the choice wins.
    html = owner_client.get(url, **EN).content.decode()
    assert html_lang(html) == "ja"
    assert '<option value="ja" lang="ja" selected>日本語</option>' in html

    owner_client.post(reverse("set_language"), {"language": "en", "next": url}, **JA)
    assert html_lang(owner_client.get(url, **JA).content.decode()) == "en"


def test_the_switcher_needs_the_csrf_token(owner, line):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(reverse("set_language"), {"language": "ja", "next": "/"})
    assert response.status_code == 403
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_the_switcher_never_redirects_to_another_site(client, db):
    response = client.post(
        reverse("set_language"), {"language": "ja", "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_the_switcher_ignores_a_language_we_do_not_have(client, db):
    response = client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


# Formatting ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "english", "japanese"),
    [
        (datetime(2026, 11, 20, 14, 3, tzinfo=UTC), "Today 14:03", "今日 14:03"),
        (datetime(2026, 11, 19, 9, 41, tzinfo=UTC), "Yesterday 9:41", "昨日 9:41"),
        (datetime(2026, 11, 16, 9, 41, tzinfo=UTC), "Mon 9:41", "(月) 9:41"),
        (datetime(2026, 11, 14, 18, 5, tzinfo=UTC), "Sat 18:05", "(土) 18:05"),
        (datetime(2026, 11, 12, 14, 3, tzinfo=UTC), "12 Nov 14:03", "11月12日 14:03"),
        (datetime(2025, 11, 12, 14, 3, tzinfo=UTC), "12 Nov 2025", "2025年11月12日"),
    ],
)
def test_friendly_time_reads_naturally_in_both_languages(monkeypatch, when, english, japanese):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    with timezone.override("UTC"):
        with translation.override("en"):
            assert friendly_time(when) == english
        with translation.override("ja"):
            assert friendly_time(when) == japanese


def test_friendly_time_uses_the_viewers_day_boundaries_in_japanese_too(monkeypatch):
    # NOW is already 00:30 on the 21st in Tokyo: 15:10 UTC is today there, 14:50 UTC
    # (23:50 on the 20th) yesterday, though both are "today" in UTC.
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    with timezone.override("Asia/Tokyo"), translation.override("ja"):
        assert friendly_time(datetime(2026, 11, 20, 15, 10, tzinfo=UTC)) == "今日 0:10"
        assert friendly_time(datetime(2026, 11, 20, 14, 50, tzinfo=UTC)) == "昨日 23:50"


@pytest.mark.parametrize(
    ("seconds", "english", "japanese"),
    [
        (12, "12 s", "12秒"),
        (4 * 60, "4 min", "4分"),
        (2 * 3600, "2 h", "2時間"),
        (86400, "1 day", "1日"),
        (3 * 86400, "3 days", "3日"),
    ],
)
def test_ages_in_both_languages(monkeypatch, seconds, english, japanese):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    then = datetime.fromtimestamp(NOW.timestamp() - seconds, tz=UTC)
    with translation.override("en"):
        assert ago(then) == english
    with translation.override("ja"):
        assert ago(then) == japanese


def test_percentages_follow_each_languages_typography():
    with translation.override("en"):
        assert percent(0.1234) == "12.3%"  # no "12.3 %" in English
    with translation.override("ja"):
        assert percent(0.1234) == "12.3%"


def test_dates_use_the_languages_own_formats_on_the_overview(owner_client, line):
    url = reverse("line-overview-content", kwargs={"line_id": line.pk})
    html = owner_client.get(url + "?from=2026-11-01&to=2026-11-07", **JA).content.decode()
    # The year only when it is not this one (dashboard/formats.py).
    dates = (
        "11月1日～11月7日" if timezone.localdate().year == 2026 else "2026年11月1日～2026年11月7日"
    )
    assert f"{dates}（7日間、時刻はUTC）：" in html
    assert (
        "過去7日間"
        in owner_client.get(
            reverse("line-overview", kwargs={"line_id": line.pk}), **JA
        ).content.decode()
    )


# CSV export ---------------------------------------------------------------------------


def test_a_japanese_viewers_csv_export_has_a_japanese_header_and_kinds(owner_client, line):
    url = reverse("line-export", kwargs={"line_id": line.pk, "kind": "incoming"})
    response = owner_client.get(url + "?from=2026-11-20&to=2026-11-20", **JA)
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(body, newline="")))
    assert header == [
        "日時（UTC）",
        "種類",
        "電話番号",
        "名前",
        "通話時間（秒）",
        "通話時間（時:分:秒）",
        "地域",
    ]
    assert rows and {row[1] for row in rows} == {"着信"}


def test_the_csv_cap_line_is_in_the_viewers_language(owner_client, line, settings):
    settings.EXPORT_MAX_ROWS = 5
    owner_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    url = reverse("line-export", kwargs={"line_id": line.pk, "kind": "outgoing"})
    body = b"".join(owner_client.get(url).streaming_content).decode("utf-8-sig")
    closing = list(csv.reader(io.StringIO(body, newline="")))[-1]
    assert closing == [
        "1回のエクスポートの上限である5行で打ち切りました。残りをエクスポートするには、"
        "期間または検索条件を絞り込んでください。"
    ]


# The catalogue ------------------------------------------------------------------------


def catalogue() -> polib.POFile:
    return polib.pofile(str(PO))


def entry_name(entry: polib.POEntry) -> str:
    return (f"[{entry.msgctxt}] " if entry.msgctxt else "") + repr(entry.msgid)


def test_every_japanese_message_is_translated_and_none_is_fuzzy():
    po = catalogue()
    assert not po.metadata_is_fuzzy, "the catalogue's header is marked fuzzy"
    assert po.metadata.get("Language") == "ja"
    problems = [f"untranslated: {entry_name(e)}" for e in po.untranslated_entries()]
    problems += [f"fuzzy: {entry_name(e)}" for e in po.fuzzy_entries()]
    problems += [f"obsolete: {entry_name(e)}" for e in po.obsolete_entries()]
    assert len(po) > 300
    assert not problems, (
        f"{PO.relative_to(ROOT)} needs work (translate, then `make messages`):\n"
        + "\n".join(problems)
    )


PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text.replace("%%", "")))


def test_translations_keep_every_placeholder():
    """msgfmt --check only sees strings xgettext flagged python-format; this sees all."""
    problems = []
    for entry in catalogue().translated_entries():
        if entry.msgid_plural:
            expected = placeholders(entry.msgid_plural)
            got = [placeholders(s) for s in entry.msgstr_plural.values()]
        else:
            expected = placeholders(entry.msgid)
            got = [placeholders(entry.msgstr)]
        problems += [
            f"{entry_name(entry)}: {sorted(g)} != {sorted(expected)}" for g in got if g != expected
        ]
    assert not problems, "\n".join(problems)


def msgfmt() -> str:
    path = shutil.which("msgfmt")
    if path is None:
        pytest.fail(
            "GNU gettext is not installed (msgfmt is missing): `apt-get install gettext`, "
            "or `make test`, which installs it.",
            pytrace=False,
        )
    return path


def test_the_committed_compiled_catalogue_is_the_po_file_compiled(tmp_path):
    fresh = tmp_path / "django.mo"
    subprocess.run(
        [msgfmt(), "--check-format", "--check-header", "-o", str(fresh), str(PO)],
        check=True,
        capture_output=True,
    )
    with MO.open("rb") as committed, fresh.open("rb") as compiled:
        committed_catalog = gettext.GNUTranslations(committed)._catalog
        compiled_catalog = gettext.GNUTranslations(compiled)._catalog
    stale = {
        k
        for k in committed_catalog.keys() | compiled_catalog.keys()
        if committed_catalog.get(k) != compiled_catalog.get(k)
    }
    assert not stale, (
        f"{MO.relative_to(ROOT)} is stale: run `make messages` and commit both files. "
        f"Differing messages: {sorted(map(str, stale))[:10]}"
    )


def message_keys(po: polib.POFile) -> set[tuple[str | None, str, str | None]]:
    return {(e.msgctxt, e.msgid, e.msgid_plural or None) for e in po if not e.obsolete}


def test_the_catalogue_holds_every_string_the_code_marks_and_no_other(tmp_path):
    """makemessages, as `make messages` runs it, in a copy of the code: a string marked in
    the code but missing from the committed .po (or the reverse) fails the build."""
    if shutil.which("xgettext") is None:
        msgfmt()  # same message: gettext is missing
        pytest.fail("xgettext is missing: `apt-get install gettext`.", pytrace=False)
    copy = tmp_path / "project"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("dashboard", "templates"):
        shutil.copytree(ROOT / folder, copy / folder, ignore=ignore)
    shutil.copy(ROOT / "manage.py", copy / "manage.py")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DJANGO_SECRET_KEY": "makemessages-only",
        "FIELD_ENCRYPTION_KEYS": settings.FIELD_ENCRYPTION_KEYS[0],
        "DJANGO_READ_DOT_ENV_FILE": "false",
        "DATA_DIR": str(tmp_path / "data"),
    }
    env.pop("PYTHONPATH", None)
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "--locale=ja",
            "--no-obsolete",
            "--add-location=file",
        ],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    extracted = message_keys(polib.pofile(str(copy / PO.relative_to(ROOT))))
    committed = message_keys(catalogue())
    missing = sorted(map(str, extracted - committed))
    extra = sorted(map(str, committed - extracted))
    assert not missing and not extra, (
        "dashboard/locale/ja/LC_MESSAGES/django.po does not match the strings the code marks: run "
        "`make messages`, translate the new entries and commit both files.\n"
        f"Missing: {missing}\nNo longer in the code: {extra}"
    )


# Templates ----------------------------------------------------------------------------

# Text outside {% translate %}/{% blocktranslate %}: visible words in elements, and in the
# attributes people read (title, aria-label, placeholder, alt, data-label).
_BLOCKTRANSLATE = re.compile(r"\{%\s*blocktranslate.*?endblocktranslate\s*%\}", re.S)
_TEMPLATE_SYNTAX = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
_READ_ATTRIBUTES = re.compile(r'\b(title|aria-label|placeholder|alt|data-label)="([^"]*)"')
_TAG = re.compile(r"<[^>]*>", re.S)
_WORD = re.compile(r"[^\W\d_]{2,}")


def untranslated_text(source: str) -> list[str]:
    text = _TEMPLATE_SYNTAX.sub(" ", _BLOCKTRANSLATE.sub(" ", source))
    found = [
        f'{name}="{value}"' for name, value in _READ_ATTRIBUTES.findall(text) if _WORD.search(value)
    ]
    found += [line.strip() for line in _TAG.sub("\n", text).splitlines() if _WORD.search(line)]
    return found


def test_the_template_check_finds_bare_words():
    assert untranslated_text('<p title="Hello">{% translate "Fine" %} Hi there</p>') == [
        'title="Hello"',
        "Hi there",
    ]


def test_templates_have_no_text_outside_translation_tags():
    problems = [
        f"{path.relative_to(ROOT)}: {text}"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        for text in untranslated_text(path.read_text(encoding="utf-8"))
    ]
    assert not problems, "Wrap these in {% translate %}:\n" + "\n".join(problems)
