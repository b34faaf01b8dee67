"""The live stream through a real nginx, as production runs it: the pages on gunicorn's
WSGI workers, the stream on the live process, nginx routing `/calls/lines/<id>/live/` to
it unbuffered, under the sub-path, signed in by the proxy's header; the provider's
delivery through the same nginx (no sign-in: the signature is its authentication)
lands on the WSGI process and reaches the stream open on the live one."""

from __future__ import annotations

import httpx
import pytest

from tests.live_servers import Stream, base_env, post_delivery, prepare, running
from tests.nginx import main_config, running_nginx
from tests.servers import free_port
from tests.webhook_helpers import envelope

SITE = """
    server {{
        listen 127.0.0.1:{port};
        # The provider's deliveries: never behind the sign-in.
        location /calls/webhooks/ {{
            proxy_pass http://127.0.0.1:{web};
            proxy_bind 127.0.0.2;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Prefix /calls;
        }}
        location ~ ^/calls/lines/[0-9]+/live/$ {{
            auth_basic "Company sign-in";
            auth_basic_user_file {htpasswd};
            proxy_pass http://127.0.0.1:{live};
            proxy_bind 127.0.0.2;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-User $remote_user;
            proxy_set_header X-Forwarded-Prefix /calls;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering {buffering};
            proxy_read_timeout 1h;
        }}
        location /calls/ {{
            auth_basic "Company sign-in";
            auth_basic_user_file {htpasswd};
            proxy_pass http://127.0.0.1:{web};
            proxy_bind 127.0.0.2;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-User $remote_user;
            proxy_set_header X-Forwarded-Prefix /calls;
        }}
    }}
"""


@pytest.fixture(scope="module")
def behind_nginx(tmp_path_factory):
    folder = tmp_path_factory.mktemp("live-nginx")
    live_port = free_port()
    env = base_env(
        folder,
        SSO_ENABLED="true",
        TRUSTED_PROXIES="127.0.0.2/32",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        LIVE_BIND=f"127.0.0.1:{live_port}",
    )
    line_id, token = prepare(env)
    with running(
        env, folder / "processes.log", wait_url=f"http://127.0.0.1:{live_port}/healthz"
    ) as web:
        htpasswd = folder / "htpasswd"
        htpasswd.write_text("olivia:{PLAIN}olivia-sso-pw\n")
        port = free_port()
        site = SITE.format(
            port=port,
            web=web.url.rsplit(":", 1)[1],
            live=live_port,
            htpasswd=htpasswd,
            buffering="off",
        )
        with running_nginx(folder, main_config(folder, site), port):
            yield f"http://127.0.0.1:{port}", f"http://127.0.0.1:{live_port}", line_id, token


def test_through_nginx_a_delivery_reaches_the_stream_under_the_sub_path(behind_nginx):
    url, _live, line_id, token = behind_nginx
    browser = httpx.Client(base_url=url, auth=("olivia", "olivia-sso-pw"), timeout=10)
    page = browser.get(f"/calls/lines/{line_id}/missed/")
    assert page.status_code == 200
    assert f'data-stream-url="/calls/lines/{line_id}/live/"' in page.text
    stream = Stream(browser, f"/calls/lines/{line_id}/live/")
    try:
        assert stream.status == 200
        event = envelope("call.missed", number="+32470999888")
        delivered = post_delivery(f"{url}/calls", token, event)
        assert delivered.status_code == 202
        (got,) = stream.wait_for_event()
        assert got["number"] == "+32470999888"
        row = browser.get(f"/calls/lines/{line_id}/live/{got['id']}/row/", params={"tab": "all"})
        assert row.status_code == 200
        assert f'href="/calls/lines/{line_id}/callers/' in row.text  # links keep the sub-path
    finally:
        stream.close()


def test_the_live_process_refuses_a_forged_sso_header_from_anyone_but_the_proxy(behind_nginx):
    _url, live, line_id, _token = behind_nginx
    direct = httpx.get(
        f"{live}/lines/{line_id}/live/", headers={"X-Forwarded-User": "olivia"}, timeout=5
    )
    assert direct.status_code == 403


def test_the_live_process_serves_only_the_stream(behind_nginx):
    _url, live, line_id, _token = behind_nginx
    assert httpx.get(f"{live}/lines/{line_id}/missed/", timeout=5).status_code == 404
    assert httpx.get(f"{live}/healthz", timeout=5).status_code == 200
