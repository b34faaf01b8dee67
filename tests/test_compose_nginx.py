"""docker-compose.yml's nginx configuration, run for real (Debian's nginx) in front of the
app: what an operator copies must let a password login through. It once sent `Host` without
the port, so Django's CSRF check refused every login on http://localhost:8080 (403)."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.contrib.auth.models import User

from tests.nginx import main_config, running_nginx
from tests.servers import free_port

COMPOSE = (Path(__file__).resolve().parent.parent / "docker-compose.yml").read_text()


def compose_site(app_port: int, port: int) -> str:
    """The `nginx-conf` config of docker-compose.yml, its two app upstreams pointed at the
    test's app and its port at a free one; compose's `$$` escapes become nginx's `$`."""
    block = re.search(r"  nginx-conf:\n    content: \|\n((?:(?: {6}.*)?\n)+)", COMPOSE)
    assert block, "docker-compose.yml has no nginx-conf config"
    site = textwrap.dedent(block[1]).replace("$$", "$")
    site, upstreams = re.subn(
        r"server app1:8000;\s*server app2:8000;", f"server 127.0.0.1:{app_port};", site
    )
    # The live process's upstream: the same test app (its stream answers "unavailable").
    site, live = re.subn(r"server live:8000;", f"server 127.0.0.1:{app_port};", site)
    assert upstreams == 1 and live == 1 and "listen 80;" in site
    return site.replace("listen 80;", f"listen 127.0.0.1:{port};")


@pytest.fixture
def through_compose_nginx(settings, live_server, tmp_path) -> Iterator[str]:
    # As docker-compose.yml configures the app: nginx is the trusted proxy, password login
    # on, no DJANGO_CSRF_TRUSTED_ORIGINS (its default is empty).
    settings.TRUSTED_PROXIES = ["127.0.0.1/32"]
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    settings.CSRF_TRUSTED_ORIGINS = []
    settings.SSO_ENABLED = False
    settings.PASSWORD_LOGIN_ENABLED = True
    port = free_port()
    app_port = int(live_server.url.rsplit(":", 1)[1])
    site = compose_site(app_port, port)
    with running_nginx(tmp_path, main_config(tmp_path, site), port):
        yield f"http://127.0.0.1:{port}"


def test_a_password_login_passes_csrf_through_the_compose_nginx(through_compose_nginx):
    User.objects.create_user("olivia", password="a long password, 4 words")
    base = through_compose_nginx
    with httpx.Client(base_url=base, timeout=10) as browser:
        form = browser.get("/accounts/login/").text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)[1]
        signed_in = browser.post(
            "/accounts/login/",
            data={
                "csrfmiddlewaretoken": token,
                "username": "olivia",
                "password": "a long password, 4 words",
            },
            # What a browser sends with a form POST on http://localhost:8080.
            headers={"Origin": base, "Referer": f"{base}/accounts/login/"},
        )
        assert signed_in.status_code == 302, signed_in.text[:500]
        home = browser.get(signed_in.headers["location"], follow_redirects=True)
    assert home.status_code == 200
    assert '<span class="username">olivia</span>' in home.text
    # nginx's request id reaches the app's log and comes back (compose sets X-Request-ID).
    assert re.fullmatch(r"[0-9a-f]{32}", home.headers["X-Request-ID"])
