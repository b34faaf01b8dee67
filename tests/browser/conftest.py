"""Browser fixtures: one headless Debian Chromium per session, contexts on the live server
that watch every page for console errors, page errors and CSP violations, and axe-core.

The live server runs in a thread of this process, so the recording demo upstream that
tests/conftest.py installs (`conf.set_client`) answers the browser's requests too.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from dashboard.lines.models import Line
from tests.conftest import make_line

# Playwright's sync API keeps an event loop running in this thread; Django would otherwise
# refuse the ORM calls fixtures make from it. Nothing here is really async.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

HERE = Path(__file__).resolve().parent
AXE_SOURCE = (HERE / "vendor" / "axe.min.js").read_text(encoding="utf-8")
SCREENSHOT_DIR = Path(os.environ.get("BROWSER_SCREENSHOT_DIR", HERE / "screenshots"))
# Debian's package; Playwright's own browser download does not work on these machines.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# The browser's language (its Accept-Language). BROWSER_LOCALE=ja-JP runs the suite as a
# Japanese browser, to check by hand that the Japanese pages pass axe and fit the screen
# (tests that look for English text then fail, as they should).
LOCALE = os.environ.get("BROWSER_LOCALE", "en-GB")
SERIOUS = ("serious", "critical")
# axe rules whose outcome depends on colours, i.e. on the colour scheme.
COLOUR_RULES = ("color-contrast", "link-in-text-block")

# Reported through console.error so the same listener catches it; init scripts run in the
# page's own world, where the CSP does not apply to them.
CSP_WATCH = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`
    + ` (${e.sourceFile || "?"}:${e.lineNumber})`);
});
"""
# htmx logs an aborted request (hx-sync="this:replace" cancelling a superseded search) as
# two console errors; that is the intended behaviour, not a failure. Network errors and
# timeouts log htmx:sendError / htmx:timeout, which still count.
HTMX_ABORT_LOG = re.compile(r"^htmx:(sendAbort|afterRequest), ")
# True once htmx has nothing in flight and the results are no longer marked busy.
SETTLED = """() => !document.querySelector(
  '.htmx-request, .htmx-swapping, .htmx-settling, #results[aria-busy]')"""


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium is not installed ({CHROMIUM} is missing). The browser tests drive "
            "Debian's package: run `apt-get install chromium` (as root), or `make test`, "
            "which installs it.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


class Browse:
    """Opens browser contexts on the live server and records every problem they report."""

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.problems: list[str] = []
        self._contexts: list[BrowserContext] = []
        self._schemes: dict[int, str] = {}

    def context(
        self,
        user: User | None = None,
        *,
        color_scheme: str = "light",
        viewport: dict[str, int] | None = None,
        locale: str = LOCALE,
        timezone_id: str = "UTC",
        **options: Any,
    ) -> BrowserContext:
        """A fresh context (own cookies), logged in as `user` when given."""
        context = self.browser.new_context(
            base_url=self.base_url,
            color_scheme=color_scheme,
            viewport=viewport or DESKTOP,
            locale=locale,
            timezone_id=timezone_id,
            **options,
        )
        context.set_default_timeout(5_000)
        context.add_init_script(CSP_WATCH)
        context.on("console", self._on_console)
        context.on("weberror", lambda error: self.problems.append(f"page error: {error.error}"))
        context.on("response", self._on_response)
        if user is not None:
            self.log_in(context, user)
        self._contexts.append(context)
        self._schemes[id(context)] = color_scheme
        return context

    def page(self, user: User | None = None, path: str | None = None, **options: Any) -> Page:
        page = self.context(user, **options).new_page()
        if path is not None:
            page.goto(path)
            page.wait_for_function(SETTLED)
        return page

    def log_in(self, context: BrowserContext, user: User) -> None:
        """Log in without the form (the login test covers the form): a real session cookie."""
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        context.add_cookies(
            [{"name": cookie.key, "value": cookie.value, "url": self.base_url, "httpOnly": True}]
        )

    def axe(self, page: Page, state: str) -> None:
        """axe-core on the page as it is now, in light and in dark: no serious or critical
        violation in either."""
        page.wait_for_function(SETTLED)
        found: list[str] = []
        own_scheme = self._schemes.get(id(page.context), "light")
        other_scheme = "dark" if own_scheme == "light" else "light"
        # Every rule in the context's own scheme; only the colour rules in the other one
        # (nothing else depends on the scheme, and axe is the slow part of these tests).
        for scheme, rules in ((own_scheme, None), (other_scheme, COLOUR_RULES)):
            if scheme != own_scheme:
                page.emulate_media(color_scheme=scheme)
            for violation in run_axe(page, rules):
                if violation["impact"] in SERIOUS:
                    found.append(f"[{scheme}] {format_violation(violation)}")
        page.emulate_media(color_scheme=own_scheme)
        assert not found, f"axe-core on {state}:\n" + "\n".join(found)

    def axe_without_scripts(self, user: User, url: str, state: str) -> None:
        """axe-core on `url` as a browser without JavaScript gets it. axe needs JavaScript
        itself, so this context runs it but refuses the page's own scripts."""
        page = self.context(user).new_page()
        page.route(
            "**/*.js",
            lambda route: route.fulfill(status=200, content_type="text/javascript", body=""),
        )
        page.goto(url)
        self.axe(page, state)

    def screenshot(self, page: Page, name: str) -> Path:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOT_DIR / f"{name}.png"
        page.wait_for_function(SETTLED)
        page.screenshot(path=str(path), animations="disabled")
        return path

    def close(self) -> None:
        for context in self._contexts:
            context.close()

    def _on_console(self, message) -> None:
        if message.type == "error" and not HTMX_ABORT_LOG.match(message.text):
            self.problems.append(
                f"console error on {message.page and message.page.url}: {message.text}"
            )

    def _on_response(self, response) -> None:
        if response.status >= 500:
            self.problems.append(f"HTTP {response.status} for {response.url}")


def run_axe(page: Page, rules: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """axe-core's violations on the page (all rules, or only `rules`)."""
    # page.evaluate is not subject to the page's CSP, unlike add_script_tag.
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)
    return page.evaluate(
        """async (rules) => {
          const options = {resultTypes: ["violations"]};
          if (rules) options.runOnly = {type: "rule", values: rules};
          const result = await axe.run(document, options);
          return result.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary})),
          }));
        }""",
        list(rules) if rules else None,
    )


def format_violation(violation: dict[str, Any]) -> str:
    nodes = "; ".join(f"{n['target']}: {n['summary']}" for n in violation["nodes"][:3])
    return f"{violation['id']} ({violation['impact']}): {violation['help']} — {nodes}"


@pytest.fixture
def browse(browser: Browser, live_server) -> Iterator[Browse]:
    """Contexts on the live server; the test fails if any page logged an error or a CSP
    violation, or any response was a server error."""
    session = Browse(browser, live_server.url)
    yield session
    session.close()
    if session.problems:
        pytest.fail("The browser reported problems:\n" + "\n".join(session.problems))


# Data ---------------------------------------------------------------------------------


@pytest.fixture
def sales_line(owner: User) -> Line:
    return make_line(owner, "demo-sales", "Sales mobile")


def rows(page: Page) -> list[str]:
    """The visible rows of the calls table, as text."""
    return page.locator("#results tbody tr").all_inner_texts()


def wait_settled(page: Page) -> None:
    page.wait_for_function(SETTLED)


def htmx_response(page: Page):
    """Expect the next htmx request's answer (use as a context manager around the action)."""
    return page.expect_response(lambda r: r.request.headers.get("hx-request") == "true")


def set_marker(page: Page) -> None:
    """A value that only survives as long as no full page load happens."""
    page.evaluate("() => { window.__noReload = 'still here'; }")


def marker_survived(page: Page) -> bool:
    return page.evaluate("() => window.__noReload === 'still here'")


# Values the URL may spell out or leave out: same view either way.
DEFAULTS = {"per_page": "50", "page": "1", "sort": "date", "dir": "desc"}


def query(page: Page) -> dict[str, str]:
    """The page URL's filters, without those that only restate a default."""
    params = {k: v[-1] for k, v in parse_qs(urlsplit(page.url).query).items()}
    return {k: v for k, v in params.items() if DEFAULTS.get(k) != v}


def first_name_word(page: Page) -> str:
    """A word from a caller's name on the page: a search that is sure to match."""
    for name in page.locator("#results td.col-name").all_inner_texts():
        word = name.split()[0] if name.split() else ""
        if len(word) >= 3 and word.isalpha():
            return word
    raise AssertionError("no caller name to search for on the first page")
