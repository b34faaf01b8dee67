"""End to end through a real nginx: the app under /calls/, signed in by the proxy's headers.

nginx terminates TLS on 127.0.0.1, authenticates (its own basic auth stands in for
oauth2-proxy), injects the user, e-mail, groups, prefix, scheme and host headers, and
connects to the app from 127.0.0.2 (`proxy_bind`). Only 127.0.0.2/32 is trusted, so the
same app proves that a client talking to it directly from 127.0.0.1 is refused.
"""

from __future__ import annotations

import logging
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from django.contrib.auth.models import Group, User

from tests.conftest import SUPPORT_KEY
from tests.nginx import main_config, running_nginx, self_signed_certificate
from tests.servers import free_port

PASSWORDS = {"alice": "alice-pw", "bob": "bob-pw"}

SITE = """
    # Who is who, and in which groups: the identity provider's business, here nginx's.
    map $remote_user $sso_groups {{ default ""; alice "support,Sales Team"; bob "sales"; }}
    map $remote_user $sso_email {{ default ""; alice "alice@example.com"; bob "bob@example.com"; }}

    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};

        location /calls/ {{
            auth_basic "Company sign-in";
            auth_basic_user_file {htpasswd};

            # No trailing slash: the app receives /calls/... and strips the prefix itself.
            proxy_pass http://127.0.0.1:{app_port};
            # Connect from another loopback address than direct clients use.
            proxy_bind 127.0.0.2;
            proxy_set_header X-Forwarded-User   $remote_user;
            proxy_set_header X-Forwarded-Email  $sso_email;
            proxy_set_header X-Forwarded-Groups $sso_groups;
            proxy_set_header X-Forwarded-Prefix /calls;
            proxy_set_header X-Forwarded-Proto  $scheme;
            proxy_set_header X-Forwarded-Host   $http_host;
        }}
    }}
"""


@dataclass
class Proxy:
    url: str
    cert: Path

    def client(self, user: str | None = "alice") -> httpx.Client:
        auth = (user, PASSWORDS[user]) if user else None
        return httpx.Client(
            base_url=self.url,
            auth=auth,
            verify=ssl.create_default_context(cafile=str(self.cert)),
            timeout=10,
        )


@pytest.fixture(scope="module")
def proxy(live_server, tmp_path_factory) -> Iterator[Proxy]:
    folder = tmp_path_factory.mktemp("nginx")
    cert, key = self_signed_certificate(folder)
    htpasswd = folder / "htpasswd"
    htpasswd.write_text("".join(f"{u}:{{PLAIN}}{p}\n" for u, p in PASSWORDS.items()))
    port = free_port()
    app_port = int(live_server.url.rsplit(":", 1)[1])
    site = SITE.format(port=port, cert=cert, key=key, htpasswd=htpasswd, app_port=app_port)
    with running_nginx(folder, main_config(folder, site), port):
        yield Proxy(url=f"https://127.0.0.1:{port}", cert=cert)


@pytest.fixture
def app(settings, live_server):
    """The app as production would run it behind this nginx."""
    settings.SSO_ENABLED = True
    settings.TRUSTED_PROXIES = ["127.0.0.2/32"]
    settings.SSO_USER_HEADER = "X-Forwarded-User"
    settings.SSO_EMAIL_HEADER = "X-Forwarded-Email"
    settings.SSO_NAME_HEADER = ""
    settings.SSO_GROUPS_HEADER = "X-Forwarded-Groups"
    settings.SSO_GROUPS_SEPARATOR = ","
    settings.SSO_AUTO_SIGNUP = True
    settings.SSO_LOCAL_GROUPS = []
    settings.PASSWORD_LOGIN_ENABLED = False
    settings.SSO_LOGOUT_URL = "/oauth2/sign_out"
    settings.LOGOUT_REDIRECT_URL = "/oauth2/sign_out"
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    return live_server


@pytest.fixture
def support_line(transactional_db):
    """A line owned by someone else and shared with the group `support`."""
    owner = User.objects.create_user("olivia", password="pw-olivia")
    from dashboard.lines.models import Line

    line = Line(owner=owner, label="Support phone", default_region="BE")
    line.set_api_key(SUPPORT_KEY)
    line.save()
    line.shared_with_groups.add(Group.objects.get_or_create(name="support")[0])
    return line


def local_urls(html: str) -> list[str]:
    """Every path-absolute URL in links, forms, htmx attributes and script/style tags."""
    return re.findall(r'\b(?:href|action|src|hx-get|hx-post)="(/[^"]*)"', html)


def test_a_direct_request_with_a_forged_user_header_is_refused(app, caplog):
    with caplog.at_level(logging.WARNING, logger="dashboard.sso"):
        response = httpx.get(f"{app.url}/", headers={"X-Forwarded-User": "alice"})
    assert response.status_code == 403
    assert "does not come from a trusted proxy" in response.text
    assert not User.objects.filter(username="alice").exists()
    assert any("127.0.0.1" in r.getMessage() for r in caplog.records if r.name == "dashboard.sso")


def test_through_nginx_the_header_signs_in_and_the_group_line_opens_under_the_prefix(
    app, proxy, support_line
):
    with proxy.client("alice") as browser:
        home = browser.get("/calls/")
        line_url = f"/calls/lines/{support_line.pk}/missed/"
        assert home.status_code == 302
        assert home.headers["location"] == line_url

        page = browser.get(line_url)
    assert page.status_code == 200
    html = page.text
    assert "Support phone" in html
    assert '<span class="username">alice</span>' in html
    urls = local_urls(html)
    assert len(urls) > 10
    assert [u for u in urls if not u.startswith("/calls/")] == []
    assert f'hx-get="{line_url}"' in html and f'action="{line_url}"' in html
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]

    alice = User.objects.get(username="alice")
    assert alice.email == "alice@example.com"
    assert set(alice.groups.values_list("name", flat=True)) == {"support", "Sales Team"}


def test_through_nginx_an_htmx_filter_swap_returns_the_results_partial(app, proxy, support_line):
    line_url = f"/calls/lines/{support_line.pk}/missed/"
    with proxy.client("alice") as browser:
        browser.get(line_url)
        swap = browser.get(
            line_url, params={"q": "+32", "per_page": "25"}, headers={"HX-Request": "true"}
        )
    assert swap.status_code == 200
    assert "<html" not in swap.text
    assert "<table" in swap.text
    assert "HX-Request" in swap.headers["vary"]
    assert [u for u in local_urls(swap.text) if not u.startswith("/calls/")] == []


def test_through_nginx_the_pages_static_files_load_under_the_prefix(app, proxy, support_line):
    with proxy.client("alice") as browser:
        html = browser.get(f"/calls/lines/{support_line.pk}/missed/").text
        assets = re.findall(r'(?:src|href)="(/calls/static/[^"]+)"', html)
        assert {a.rsplit(".", 1)[1] for a in assets} >= {"css", "js"}
        for asset in assets:
            response = browser.get(asset)
            assert response.status_code == 200, asset
            kind = {"css": "text/css", "js": "javascript", "svg": "image/svg"}
            assert kind[asset.rsplit(".", 1)[1]] in response.headers["content-type"]


def test_through_nginx_a_client_cannot_smuggle_its_own_identity(app, proxy, support_line):
    with proxy.client("alice") as browser:
        page = browser.get(
            f"/calls/lines/{support_line.pk}/missed/",
            headers={
                "X-Forwarded-User": "mallory",  # replaced by nginx's proxy_set_header
                "X_Forwarded_User": "mallory",  # dropped by nginx (underscores_in_headers off)
                "X-Forwarded-Groups": "admins",
            },
        )
    assert page.status_code == 200
    assert '<span class="username">alice</span>' in page.text
    assert not User.objects.filter(username="mallory").exists()
    assert not Group.objects.filter(name="admins").exists()


def test_through_nginx_a_new_user_header_switches_the_session(app, proxy, support_line):
    line_url = f"/calls/lines/{support_line.pk}/missed/"
    with proxy.client("alice") as browser:
        assert browser.get(line_url).status_code == 200
        alice_session = browser.cookies["sessionid"]
        browser.auth = httpx.BasicAuth("bob", PASSWORDS["bob"])  # same browser, new sign-in
        assert browser.get(line_url).status_code == 404  # bob is not in support
        assert browser.cookies["sessionid"] != alice_session
        assert '<span class="username">bob</span>' in browser.get("/calls/").text


def test_through_nginx_a_post_passes_csrf_and_logout_goes_to_the_sign_out_url(
    app, proxy, support_line
):
    with proxy.client("alice") as browser:
        form = browser.get("/calls/accounts/preferences/").text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)[1]
        browser_headers = {
            "Origin": proxy.url,
            "Referer": f"{proxy.url}/calls/accounts/preferences/",
        }
        saved = browser.post(
            "/calls/accounts/preferences/",
            data={"csrfmiddlewaretoken": token, "time_zone": "Asia/Tokyo"},
            headers=browser_headers,
        )
        assert saved.status_code == 302
        assert saved.headers["location"] == "/calls/accounts/preferences/"
        assert User.objects.get(username="alice").profile.time_zone == "Asia/Tokyo"

        page = browser.get("/calls/accounts/preferences/").text
        assert 'action="/calls/accounts/logout/"' in page
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
        logout = browser.post(
            "/calls/accounts/logout/", data={"csrfmiddlewaretoken": token}, headers=browser_headers
        )
    assert logout.status_code == 302
    assert logout.headers["location"] == "/oauth2/sign_out"


def test_through_nginx_without_signing_in_the_proxy_answers_401(app, proxy):
    with proxy.client(None) as anonymous:
        assert anonymous.get("/calls/").status_code == 401
