"""A real Chromium on a live table: a pushed call appears at the top without a reload,
highlighted, where the filters list it; another tab counts it; a search that does not
match shows nothing; a Refresh keeps the pushed row once. The dashboard runs as
`make demo` runs it (the live process on one port), with a strict CSP watched."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from dashboard.ops.local_cache import LocalCache
from tests.browser.conftest import CSP_WATCH, marker_survived, set_marker, wait_settled
from tests.conftest import SUPPORT_KEY
from tests.fake_provider import T0, call, provider
from tests.live_servers import add_line, base_env, post_delivery, prepare, running
from tests.servers import serve_wsgi
from tests.webhook_helpers import envelope

pytestmark = pytest.mark.browser


# The page's times follow the browser's zone: a first page drawn in another zone reports
# the browser's and reloads once (app.js). Settled when the page is drawn in it.
ZONE_SETTLED = """() => !document.body.hasAttribute("data-zone-follows-browser")
  || document.body.getAttribute("data-time-zone")
     === Intl.DateTimeFormat().resolvedOptions().timeZone"""


def open_logged_in(page, url: str, path: str) -> None:
    """Log in through the form straight to `path`; wait for the page's one reload into
    the browser's zone, if it needs one, and for its stream to connect."""
    # The form's `next` takes the browser to `path` itself. Pushing a call before the
    # zone's reload lost its row to the reload now and then (the page is drawn again
    # from the provider's list, which does not hold the pushed call yet).
    page.goto("/accounts/login/?" + urlencode({"next": path}))
    page.fill("#id_username", "olivia")
    page.fill("#id_password", "pw-olivia")
    with page.expect_navigation(url=lambda u: u == url + path):
        page.press("#id_password", "Enter")
    page.wait_for_function(ZONE_SETTLED)
    expect(page).to_have_url(url + path)
    expect(page.locator("#live")).to_have_attribute("data-connected", "true")


# Counts the page's permission requests and records the notifications it creates; the
# real API underneath (an init script runs in the page's world, before live.js).
NOTIFICATION_SPY = """
(() => {
  const Real = window.Notification;
  if (!Real) return;
  window.__asked = 0;
  window.__shown = [];
  function Spy(title, options) {
    window.__shown.push({ title, tag: (options || {}).tag });
    return new Real(title, options);
  }
  Spy.requestPermission = (...args) => {
    window.__asked += 1;
    return Real.requestPermission(...args);
  };
  Object.defineProperty(Spy, "permission", { get: () => Real.permission });
  window.Notification = Spy;
})();
"""


def set_hidden(page, hidden: bool) -> None:
    """The tab goes to the background (or comes back), as document.hidden and the
    visibilitychange event tell scripts. Headless Chromium's pages are always visible."""
    page.evaluate(
        """(hidden) => {
          for (const [name, value] of [["hidden", hidden], ["visibilityState", hidden ? "hidden" : "visible"]]) {
            Object.defineProperty(document, name, { configurable: true, get: () => value });
          }
          document.dispatchEvent(new Event("visibilitychange"));
        }""",
        hidden,
    )


@pytest.fixture(scope="module")
def live_env(tmp_path_factory):
    folder = tmp_path_factory.mktemp("live-browser")
    return folder, base_env(folder)


@pytest.fixture(scope="module")
def dashboard(live_env):
    folder, env = live_env
    line_id, token = prepare(env)
    with running(env, folder / "processes.log", "--single-port") as instance:
        yield instance.url, line_id, token


@pytest.fixture
def open_page(browser, dashboard):
    url, _line_id, _token = dashboard
    contexts, problems = [], []

    def open_at(path: str, init_script: str | None = None):
        context = browser.new_context(base_url=url, timezone_id="Europe/Brussels")
        context.set_default_timeout(10_000)
        context.add_init_script(CSP_WATCH)
        if init_script:
            context.add_init_script(init_script)
        context.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        contexts.append(context)
        page = context.new_page()
        open_logged_in(page, url, path)
        return page

    yield open_at
    # Before closing: requests still in flight then (a count being fetched) fail with
    # the page, which is not a problem of the page.
    seen = list(problems)
    for context in contexts:
        context.close()
    assert seen == []  # no CSP violation, no script error


def test_a_pushed_missed_call_appears_at_the_top_and_other_tabs_count_it(open_page, dashboard):
    url, line_id, token = dashboard
    missed = open_page(f"/lines/{line_id}/missed/")
    incoming = open_page(f"/lines/{line_id}/incoming/")
    rows_before = missed.locator("#results tbody tr").count()
    event = envelope("call.missed", number="+32470112233", name="Robin Live")
    assert post_delivery(url, token, event).status_code == 202

    first = missed.locator("#results tbody tr").first
    expect(first).to_have_attribute("data-live-id", re.compile(r"^\d+$"))
    expect(first).to_contain_text("Robin Live")
    expect(first).to_have_class(re.compile("live-arrived"))
    # (The inbox's count update may redraw the list meanwhile: the row comes back, once.)
    expect(missed.locator("#results tbody tr")).to_have_count(rows_before + 1)
    expect(incoming.locator(".tab-missed .live-badge")).to_have_text("1")
    expect(incoming.locator("#results tbody tr[data-live-id]")).to_have_count(0)

    # Refresh reads the provider's list again: the pushed row stays on top, once.
    missed.locator("a.refresh").click()
    expect(missed.locator("#results tbody tr[data-live-id]")).to_have_count(1)
    expect(missed.locator("#results tbody tr").first).to_contain_text("Robin Live")


def test_a_search_that_does_not_match_shows_no_new_row(open_page, dashboard):
    url, line_id, token = dashboard
    page = open_page(f"/lines/{line_id}/missed/?q=Nobody+Like+This")
    event = envelope("call.missed", number="+32470445566", name="Not Searched")
    assert post_delivery(url, token, event).status_code == 202
    # The event did arrive (announced to screen readers), and no row was added.
    expect(page.locator("#live .live-status")).to_contain_text("+32470445566")
    expect(page.locator("#results tbody tr[data-live-id]")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text("Not Searched")


def test_on_page_two_pushed_calls_are_counted_and_showing_them_opens_the_first_page(
    open_page, dashboard
):
    url, line_id, token = dashboard
    page = open_page(f"/lines/{line_id}/missed/?per_page=25&page=2")
    expect(page.locator("#results tbody tr").first).to_be_visible()
    set_marker(page)
    for name, number in (("Paula Pagetwo", "+32470220001"), ("Quentin Pagetwo", "+32470220002")):
        event = envelope("call.missed", number=number, name=name)
        assert post_delivery(url, token, event).status_code == 202

    # Page 2 cannot take them at its top: the table says how many, the All tab counts them.
    show = page.locator("#live .live-new button")
    expect(show).to_have_text("2 new calls: show them")
    expect(page.locator(".tabs .tab-all .live-badge")).to_have_text("2")
    expect(page.locator("#results tbody tr[data-live-id]")).to_have_count(0)
    expect(page.locator("#results")).not_to_contain_text("Pagetwo")

    show.click()
    # The first page, newest first, same page size: the new calls on top, no reload.
    expect(page).to_have_url(f"{url}/lines/{line_id}/missed/?per_page=25")
    expect(show).to_be_hidden()
    rows = page.locator("#results tbody tr")
    expect(rows.nth(0)).to_contain_text("Quentin Pagetwo")
    expect(rows.nth(1)).to_contain_text("Paula Pagetwo")
    expect(page.locator("#results tbody tr[data-live-id]")).to_have_count(2)
    assert marker_survived(page)


def test_sorted_by_duration_a_pushed_call_is_counted_and_showing_it_sorts_newest_first(
    open_page, dashboard
):
    url, line_id, token = dashboard
    page = open_page(f"/lines/{line_id}/incoming/?sort=duration&dir=desc")
    event = envelope("call.incoming", number="+32470330001", name="Sven Sorted", duration_seconds=7)
    assert post_delivery(url, token, event).status_code == 202
    show = page.locator("#live .live-new button")
    expect(show).to_have_text("1 new call: show it")
    expect(page.locator("#results tbody tr[data-live-id]")).to_have_count(0)

    show.click()
    expect(page).to_have_url(f"{url}/lines/{line_id}/incoming/")
    expect(page.locator("#results tbody tr").first).to_contain_text("Sven Sorted")
    expect(page.locator("#results th.col-when")).to_have_attribute("aria-sort", "descending")
    # The filter form sorts newest first too: the next search does not go back to durations.
    expect(page.locator("#filters input[name=sort]")).to_have_value("date")


def test_a_sort_in_the_missed_tabs_link_changes_nothing_the_row_goes_on_top(open_page, dashboard):
    # Missed calls have no sort (the provider has none): the table is newest first anyway.
    url, line_id, token = dashboard
    page = open_page(f"/lines/{line_id}/missed/?sort=name&dir=asc")
    event = envelope("call.missed", number="+32470330003", name="Uma Unsorted")
    assert post_delivery(url, token, event).status_code == 202
    expect(page.locator("#results tbody tr").first).to_contain_text("Uma Unsorted")
    expect(page.locator("#live .live-new")).to_be_hidden()


def test_a_pushed_call_the_search_does_not_list_is_not_counted_as_new(open_page, dashboard):
    url, line_id, token = dashboard
    page = open_page(f"/lines/{line_id}/missed/?sort=name&dir=asc&q=Nobody+Like+This")
    event = envelope("call.missed", number="+32470330002", name="Not Counted")
    assert post_delivery(url, token, event).status_code == 202
    # Announced once handled (after the count would have been made): not counted.
    expect(page.locator("#live .live-status")).to_contain_text("+32470330002")
    expect(page.locator("#live .live-new")).to_be_hidden()


def test_a_pushed_missed_call_from_a_new_caller_raises_the_open_count_and_the_title(
    open_page, dashboard
):
    url, line_id, token = dashboard
    page = open_page(f"/lines/{line_id}/missed/")
    badge = page.locator(".tabs .tab-missed [data-open-count]")
    before = int(badge.text_content() or "0")
    event = envelope("call.missed", number="+32470998877", name="Nina Newcaller")
    assert post_delivery(url, token, event).status_code == 202
    # The inbox files it, the page hears of it and asks for the count: no reload.
    expect(badge).to_have_text(str(before + 1))
    expect(badge).to_be_visible()
    expect(page).to_have_title(re.compile(rf"^\({before + 1}\) "))


@pytest.fixture(scope="module")
def second_line(live_env, dashboard):
    """A second line of olivia's, so her pages show the line switcher and its badges."""
    _folder, env = live_env
    add_line(env, "Sales phone", "demo-sales")


def test_a_teammates_mark_updates_the_other_pages_counts_and_title_without_a_reload(
    open_page, dashboard, second_line
):
    url, line_id, token = dashboard
    for name, number in (("Tara Teammate", "+32470550001"), ("Uma Untouched", "+32470550002")):
        event = envelope("call.missed", number=number, name=name)
        assert post_delivery(url, token, event).status_code == 202
    # Two browsers, two sessions: the one watching the Missed tab, the one at the inbox.
    watching = open_page(f"/lines/{line_id}/missed/")
    inbox = open_page(f"/lines/{line_id}/inbox/?q=Tara")
    tab = watching.locator(".tabs .tab-missed [data-open-count]")
    switcher = watching.locator(f".line-switcher [data-open-count='{line_id}']")
    expect(switcher).to_have_count(1)
    before = int(tab.text_content() or "0")
    assert before >= 2
    expect(switcher).to_have_text(str(before))
    expect(watching).to_have_title(re.compile(rf"^\({before}\) "))
    set_marker(watching)

    row = inbox.locator("#results tbody tr").filter(has_text="Tara Teammate")
    row.locator("input[name=selected]").check()
    inbox.get_by_label("With the selected").select_option("mark")
    inbox.get_by_label("Mark as", exact=True).select_option("handled")
    inbox.get_by_role("button", name="Apply to selected").click()
    expect(inbox.locator("#results .messages")).to_contain_text("1 caller updated.")

    # The other page hears of it through its stream: tab, switcher and title, no reload.
    expect(tab).to_have_text(str(before - 1))
    expect(switcher).to_have_text(str(before - 1))
    expect(watching).to_have_title(re.compile(rf"^\({before - 1}\) "))
    assert marker_survived(watching)


def test_a_teammates_mark_takes_the_caller_off_the_other_open_inbox_without_a_reload(
    open_page, dashboard
):
    url, line_id, token = dashboard
    event = envelope("call.missed", number="+32470550011", name="Vera Visible")
    assert post_delivery(url, token, event).status_code == 202
    mine = open_page(f"/lines/{line_id}/inbox/?q=Vera")
    theirs = open_page(f"/lines/{line_id}/inbox/?q=Vera")
    on_theirs = theirs.locator("#results tbody tr").filter(has_text="Vera Visible")
    expect(on_theirs).to_have_count(1)
    set_marker(theirs)

    row = mine.locator("#results tbody tr").filter(has_text="Vera Visible")
    row.locator("input[name=selected]").check()
    mine.get_by_label("With the selected").select_option("mark")
    mine.get_by_label("Mark as", exact=True).select_option("handled")
    mine.get_by_role("button", name="Apply to selected").click()
    expect(mine.locator("#results .messages")).to_contain_text("1 caller updated.")

    # The other inbox (open callers only) lists it no more, keeping its filters; no reload.
    expect(on_theirs).to_have_count(0)
    expect(theirs.locator("input[name=q]")).to_have_value("Vera")
    assert marker_survived(theirs)


def test_desktop_notifications_are_asked_for_by_the_button_never_on_load(open_page, dashboard):
    url, line_id, token = dashboard
    page = open_page(f"/lines/{line_id}/missed/", init_script=NOTIFICATION_SPY)
    button = page.locator("#live .live-notify")
    status = page.locator("#live .live-status")
    expect(button).to_have_text("Notify me of new missed calls")
    expect(button).to_have_attribute("aria-pressed", "false")
    # Loaded, its stream connected: the browser was not asked.
    assert page.evaluate("() => window.__asked") == 0

    # Not switched on: a missed call while the tab is in the background shows nothing.
    set_hidden(page, True)
    event = envelope("call.missed", number="+32470440001", name="Quiet Background")
    assert post_delivery(url, token, event).status_code == 202
    expect(status).to_contain_text("+32470440001")  # handled (said after any notification)
    assert page.evaluate("() => window.__shown") == []
    set_hidden(page, False)

    # The person presses the button and accepts the browser's question.
    page.context.grant_permissions(["notifications"], origin=url)
    button.click()
    expect(button).to_have_text("Desktop notifications are on")
    expect(button).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("() => window.__asked") == 1

    # On: none while the tab is in front (the row is there), one while it is behind.
    event = envelope("call.missed", number="+32470440002", name="Front Tab")
    assert post_delivery(url, token, event).status_code == 202
    expect(status).to_contain_text("+32470440002")
    assert page.evaluate("() => window.__shown") == []
    set_hidden(page, True)
    event = envelope("call.missed", number="+32470440003", name="Back Tab")
    assert post_delivery(url, token, event).status_code == 202
    page.wait_for_function("() => window.__shown.length > 0")
    shown = page.evaluate("() => window.__shown")
    assert len(shown) == 1
    assert shown[0]["title"] == "Missed call from +32470440003"
    assert re.fullmatch(r"call-\d+", shown[0]["tag"])

    # Off again: the browser still allows them, the dashboard shows none and asks nothing.
    button.click()
    expect(button).to_have_text("Notify me of new missed calls")
    expect(button).to_have_attribute("aria-pressed", "false")
    event = envelope("call.missed", number="+32470440004", name="Switched Off")
    assert post_delivery(url, token, event).status_code == 202
    expect(status).to_contain_text("+32470440004")
    assert page.evaluate("() => window.__shown.length") == 1
    assert page.evaluate("() => window.__asked") == 1


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    """An intranet portal on another site (localhost) framing the dashboard (127.0.0.1),
    which lists the portal in EMBED_ALLOWED_ORIGINS: (portal URL, dashboard URL, line id,
    webhook token)."""
    frame = {}

    def portal_page(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [
            b"<!doctype html><title>Portal</title><h1>Portal</h1>"
            b'<iframe id="calls" title="Calls" width="1200" height="700" src="'
            + frame["src"].encode()
            + b'"></iframe>'
        ]

    with serve_wsgi(portal_page) as served:
        portal_url = served.replace("127.0.0.1", "localhost")
        folder = tmp_path_factory.mktemp("live-browser-embed")
        env = base_env(folder, EMBED_ALLOWED_ORIGINS=portal_url)
        line_id, token = prepare(env)
        with running(env, folder / "processes.log", "--single-port") as instance:
            frame["src"] = f"{instance.url}/lines/{line_id}/missed/"
            yield portal_url, instance.url, line_id, token


def test_inside_the_portals_iframe_a_pushed_call_appears_without_a_reload(browser, portal):
    portal_url, url, line_id, token = portal
    context = browser.new_context(timezone_id="Europe/Brussels")
    context.set_default_timeout(10_000)
    context.add_init_script(CSP_WATCH)
    problems = []

    def on_console(message) -> None:
        # Chromium's own note on the login form's autofocus (not done in a cross-origin
        # frame, by design): the person clicks into the field instead.
        if message.type == "error" and "Blocked autofocusing" not in message.text:
            problems.append(message.text)

    context.on("console", on_console)
    try:
        page = context.new_page()
        page.goto(portal_url + "/")
        calls = page.frame_locator("iframe#calls")
        # Signed in inside the frame, as someone on the portal is: its cookies must come
        # back in a cross-site frame, or the form would only show itself again.
        calls.locator("#id_username").fill("olivia")
        calls.locator("#id_password").fill("pw-olivia")
        calls.locator("#id_password").press("Enter")
        expect(calls.locator("#live")).to_have_attribute("data-connected", "true")
        frame = page.frame(url=re.compile(rf"^{re.escape(url)}/lines/{line_id}/missed/"))
        assert frame is not None and frame.parent_frame == page.main_frame
        frame.evaluate("() => { window.__noReload = 'still here'; }")

        event = envelope("call.missed", number="+32470550001", name="Iris Iframe")
        assert post_delivery(url, token, event).status_code == 202
        first = calls.locator("#results tbody tr").first
        expect(first).to_contain_text("Iris Iframe")
        expect(first).to_have_attribute("data-live-id", re.compile(r"^\d+$"))
        assert frame.evaluate("() => window.__noReload") == "still here"
        expect(page).to_have_url(portal_url + "/")  # the portal itself never moved
        assert problems == []  # no CSP violation (frame-ancestors included), no script error
    finally:
        context.close()


@pytest.fixture(scope="module")
def short_streams(tmp_path_factory):
    """Streams that end every 2 s: the browser reconnects by itself, with Last-Event-ID."""
    folder = tmp_path_factory.mktemp("live-browser-short")
    env = base_env(folder, LIVE_STREAM_MAX_SECONDS="2")
    line_id, token = prepare(env)
    with running(env, folder / "processes.log", "--single-port") as instance:
        yield instance.url, line_id, token


def test_calls_delivered_while_the_browser_reconnects_still_appear(browser, short_streams):
    url, line_id, token = short_streams
    context = browser.new_context(base_url=url)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        open_logged_in(page, url, f"/lines/{line_id}/missed/")
        stream = f"/lines/{line_id}/live/"
        numbers = [f"+3247055{i:04d}" for i in range(4)]
        for i, number in enumerate(numbers):
            if i % 2 == 0:
                # Every other one while the browser has no stream: the last one just
                # ended, the next one opens after the retry interval.
                with page.expect_event("requestfinished", lambda r: urlsplit(r.url).path == stream):
                    pass
            assert (
                post_delivery(url, token, envelope("call.missed", number=number)).status_code == 202
            )
        pushed = page.locator("#results tbody tr[data-live-id]")
        expect(pushed).to_have_count(len(numbers))
        # Newest on top, each once.
        ids = [int(x) for x in pushed.evaluate_all("rows => rows.map(r => r.dataset.liveId)")]
        assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
    finally:
        context.close()


def test_an_open_inbox_lists_a_pushed_caller_keeping_filters_ticks_and_focus(open_page, dashboard):
    url, line_id, token = dashboard
    for name, number in (("Keep Alpha", "+32470110001"), ("Keep Bravo", "+32470110002")):
        event = envelope("call.missed", number=number, name=name)
        assert post_delivery(url, token, event).status_code == 202
    page = open_page(f"/lines/{line_id}/inbox/?q=Keep")
    rows = page.locator("#results tbody tr")
    alpha = rows.filter(has_text="Keep Alpha")
    bravo_link = rows.filter(has_text="Keep Bravo").locator("td.col-number a")
    expect(alpha).to_have_count(1)
    alpha.locator("input[name=selected]").check()
    bravo_link.focus()
    # A caller the search lists, and one it does not, pushed together.
    for name, number in (("Keep Charlie", "+32470110003"), ("Zed Other", "+32470110004")):
        event = envelope("call.missed", number=number, name=name)
        assert post_delivery(url, token, event).status_code == 202
    expect(rows.filter(has_text="Keep Charlie")).to_have_count(1)  # no reload
    expect(rows.filter(has_text="Zed Other")).to_have_count(0)
    expect(page.locator("#id_q")).to_have_value("Keep")
    expect(alpha.locator("input[name=selected]")).to_be_checked()
    expect(bravo_link).to_be_focused()


def test_a_line_without_a_webhook_refreshes_once_per_ttl_and_not_while_hidden(
    browse, line, settings
):
    # The in-process live server (a WSGI thread, so no stream) and a provider the test
    # writes to; 5 s is live.js's shortest refresh interval.
    settings.CALLS_CACHE_TTL = 5
    calls = [call("missed", "+32470660000", T0, name="Olga Older")]
    path = f"/lines/{line.pk}/missed/"
    with provider({SUPPORT_KEY: calls}):
        page = browse.context(line.owner).new_page()
        # The page's clock runs as the real one until the test moves it (while hidden).
        page.clock.install()
        asked = []
        page.on(
            "request",
            lambda r: (
                asked.append(r.url)
                if r.headers.get("hx-request") == "true" and urlsplit(r.url).path == path
                else None
            ),
        )
        page.goto(path)
        wait_settled(page)
        expect(page.locator("#live")).to_have_attribute("data-mode", "poll")
        set_marker(page)
        first = page.locator("#results tbody tr").first

        # A new call at the provider: the next TTL's refresh shows it, and the one after
        # shows the next (not every second TTL: the server's copy is stale by then).
        calls.append(call("missed", "+32470660001", T0 + timedelta(minutes=1), name="Anna Ahead"))
        expect(first).to_contain_text("Anna Ahead", timeout=8_000)
        calls.append(call("missed", "+32470660002", T0 + timedelta(minutes=2), name="Bert Before"))
        expect(first).to_contain_text("Bert Before", timeout=8_000)
        assert marker_survived(page)
        wait_settled(page)

        # Hidden for three TTLs of the page's clock: nothing is asked.
        set_hidden(page, True)
        before = len(asked)
        calls.append(
            call("missed", "+32470660003", T0 + timedelta(minutes=3), name="Cleo Comeback")
        )
        hidden_at = page.evaluate("() => Date.now()")
        page.clock.pause_at(hidden_at + 3 * 5_000)  # fires what fell due, then holds time
        # The server's copy aged only as long as the real clock moved: expire it as those
        # 15 s would have.
        cache.clear()
        LocalCache.clear_all()

        # Back in front: asked at once (the clock stands still, so no timer did it).
        with page.expect_request(lambda r: urlsplit(r.url).path == path):
            set_hidden(page, False)
        page.clock.resume()
        expect(first).to_contain_text("Cleo Comeback")
        assert len(asked) == before + 1  # the one when it came back; none while hidden
        assert marker_survived(page)
