"""Security headers and cookies, in the default mode and with embedding allowed; the
documented production environment passes `check --deploy` without a warning."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from tests.envsettings import applied, load_settings

ROOT = Path(__file__).resolve().parent.parent
SECURITY_SETTINGS = (
    "SECURE_CSP",
    "X_FRAME_OPTIONS",
    "EMBED_ALLOWED_ORIGINS",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SAMESITE",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
)
PORTAL = "https://portal.example.com"


def login_and_get_cookies(client, owner) -> dict:
    """The csrftoken (login form) and sessionid (successful login) cookies as set."""
    form = client.get(reverse("login"))
    login = client.post(
        reverse("login"),
        {"username": owner.username, "password": "pw-olivia"},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert login.status_code == 302
    return {"csrftoken": form.cookies["csrftoken"], "sessionid": login.cookies["sessionid"]}


# Default: not embeddable, strict everywhere --------------------------------------------


def test_pages_get_a_strict_csp_that_forbids_framing_and_inline_code(owner_client, line):
    response = owner_client.get(
        reverse("line-calls", kwargs={"line_id": line.pk, "kind": "missed"})
    )
    csp = response["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp)[1]
    assert csp == (
        "default-src 'none'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
    assert "unsafe" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    # Every script the page loads is a file carrying the nonce; no inline code at all.
    scripts = re.findall(r"<script[^>]*>", response.content.decode())
    assert scripts
    assert all("src=" in tag and f'nonce="{nonce}"' in tag for tag in scripts)


def test_the_login_page_and_htmx_partials_carry_the_same_headers(owner_client, client, line):
    partial = owner_client.get(
        reverse("line-calls", kwargs={"line_id": line.pk, "kind": "missed"}),
        headers={"HX-Request": "true"},
    )
    for response in (client.get(reverse("login")), partial):
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
        assert response["X-Frame-Options"] == "DENY"


def test_by_default_cookies_are_samesite_lax_and_secure_in_production(
    client, owner, monkeypatch, tmp_path
):
    production = load_settings(monkeypatch, tmp_path)  # DJANGO_SECURE defaults to on
    with applied(production, *SECURITY_SETTINGS):
        cookies = login_and_get_cookies(client, owner)
    for cookie in cookies.values():
        assert cookie["samesite"] == "Lax"
        assert cookie["secure"] is True
    assert cookies["sessionid"]["httponly"] is True


def test_hsts_is_sent_on_https_requests_in_production(client, monkeypatch, tmp_path, settings):
    production = load_settings(monkeypatch, tmp_path, DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS="true")
    settings.TRUSTED_PROXIES = ["10.0.0.5/32"]
    with applied(production, *SECURITY_SETTINGS):
        response = client.get(
            reverse("login"), REMOTE_ADDR="10.0.0.5", headers={"X-Forwarded-Proto": "https"}
        )
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


# Embedding allowed -------------------------------------------------------------------


@pytest.fixture
def embedding(monkeypatch, tmp_path):
    computed = load_settings(
        monkeypatch,
        tmp_path,
        DJANGO_SECURE="false",  # even so: SameSite=None cookies must be Secure
        EMBED_ALLOWED_ORIGINS=f"{PORTAL}, https://*.portal.example.com:8443/",
    )
    with applied(computed, *SECURITY_SETTINGS):
        yield computed


def test_with_embedding_frame_ancestors_lists_exactly_the_portals(owner_client, line, embedding):
    response = owner_client.get(
        reverse("line-calls", kwargs={"line_id": line.pk, "kind": "missed"})
    )
    csp = response["Content-Security-Policy"]
    assert f"frame-ancestors {PORTAL} https://*.portal.example.com:8443" in csp
    assert csp.endswith(
        "frame-ancestors https://portal.example.com https://*.portal.example.com:8443"
    )
    assert "default-src 'none'" in csp and "unsafe" not in csp
    assert "X-Frame-Options" not in response


def test_with_embedding_cookies_are_samesite_none_and_secure(client, owner, embedding):
    cookies = login_and_get_cookies(client, owner)
    for cookie in cookies.values():
        assert cookie["samesite"] == "None"
        assert cookie["secure"] is True


def test_with_embedding_cookies_are_partitioned_for_browsers_that_block_third_party_ones(
    client, owner, embedding
):
    cookies = login_and_get_cookies(client, owner)
    for cookie in cookies.values():
        assert cookie.output().endswith("; Partitioned")
        assert "SameSite=None" in cookie.output() and "Secure" in cookie.output()
    logout = client.post(reverse("logout"), headers={"X-Forwarded-Proto": "https"})
    # Deleting a partitioned cookie takes the same attribute.
    assert logout.cookies["sessionid"]["max-age"] == 0
    assert logout.cookies["sessionid"].output().endswith("; Partitioned")


def test_with_embedding_the_messages_and_browser_zone_cookies_are_partitioned_too(
    client, owner, line, embedding
):
    # Safari in the portal's frame keeps no unpartitioned cookie: a "Saved" message
    # would never show, and the browser's zone would be asked for on every page.
    client.force_login(owner)
    https = {"X-Forwarded-Proto": "https"}
    saved = client.post(
        reverse("line-settings", kwargs={"line_id": line.pk}),
        {"label": "Support desk", "default_region": "BE"},
        headers=https,
    )
    assert saved.cookies["messages"].output().endswith("; Partitioned")
    zone = client.post(reverse("browser-time-zone"), {"time_zone": "Asia/Tokyo"}, headers=https)
    assert zone.status_code == 204
    (name,) = zone.cookies
    assert zone.cookies[name].output().endswith("; Partitioned")


def test_without_embedding_no_cookie_is_partitioned(client, owner):
    for cookie in login_and_get_cookies(client, owner).values():
        assert "Partitioned" not in cookie.output()


@pytest.mark.parametrize(
    "origin", ["portal.example.com", "https://portal.example.com/path", "*", "'self'", "ftp://x"]
)
def test_an_embed_origin_that_is_not_an_origin_stops_the_app(monkeypatch, tmp_path, origin):
    with pytest.raises(ImproperlyConfigured, match="EMBED_ALLOWED_ORIGINS"):
        load_settings(monkeypatch, tmp_path, EMBED_ALLOWED_ORIGINS=origin)


# No inline code anywhere -------------------------------------------------------------


def test_no_template_has_inline_scripts_styles_or_event_handlers():
    offenders = []
    for path in ROOT.joinpath("templates").rglob("*.html"):
        text = path.read_text()
        for pattern in (
            r"<script(?![^>]*\bsrc=)[^>]*>",
            r"<style\b",
            r"\sstyle=",
            r"\son[a-z]+=",
            r"\shx-on",
        ):
            if re.search(pattern, text):
                offenders.append(f"{path.relative_to(ROOT)}: {pattern}")
    assert offenders == []


# check --deploy -----------------------------------------------------------------------


def documented_production_env() -> dict[str, str]:
    """The environment the README's "Behind an SSO proxy" section documents."""
    readme = ROOT.joinpath("README.md").read_text()
    block = readme.split("<!-- production-env -->", 1)[1].split("```env", 1)[1].split("```", 1)[0]
    env = dict(line.split("=", 1) for line in block.strip().splitlines() if "=" in line)
    assert env["DJANGO_SECRET_KEY"].startswith("<") and env["FIELD_ENCRYPTION_KEYS"].startswith("<")
    return env


def test_check_deploy_reports_nothing_for_the_documented_production_environment(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SSO_", "EMBED_"))}
    env.update(documented_production_env())
    env.update(
        DJANGO_SETTINGS_MODULE="dashboard.settings",
        DJANGO_SECRET_KEY="k3y-" + "Zq8vR2mT7pL4wX9nB6cF1hJ5dS0gA3eY" * 2,
        FIELD_ENCRYPTION_KEYS="zDjOSIF0VYJ-MOU5G0lVzBKG2jS_Lds7Ba9dcHQ-Qhk=",
        DATA_DIR=str(tmp_path),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
