"""Forwarded scheme, host and sub-path: honoured from trusted proxies only, everywhere."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from dashboard.accounts.proxy import normalise_prefix

PROXY = "10.0.0.5"
OUTSIDER = "192.0.2.44"


@pytest.fixture(autouse=True)
def trusted(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.5/32"]
    settings.ALLOWED_HOSTS = ["app.internal", "intranet.example.com", "testserver"]


def get(client, path, remote=PROXY, **headers):
    return client.get(path, REMOTE_ADDR=remote, headers=headers)


def calls_url(line, kind="missed") -> str:
    return reverse("line-calls", kwargs={"line_id": line.pk, "kind": kind})


# Sub-path -----------------------------------------------------------------------------


def test_every_url_in_the_page_carries_the_forwarded_prefix(owner_client, line):
    html = get(
        owner_client, "/calls" + calls_url(line), **{"X-Forwarded-Prefix": "/calls"}
    ).content.decode()
    for attribute in ("href", "action", "hx-get", "src"):
        urls = re.findall(rf'{attribute}="(/[^"]*)"', html)
        assert urls, attribute
        assert all(url.startswith("/calls/") for url in urls), (attribute, urls)
    assert f'hx-get="/calls/lines/{line.pk}/missed/"' in html
    assert 'href="/calls/static/css/app.css"' in html
    assert re.search(r'src="/calls/static/django_htmx/htmx[^"]*\.js"', html)


@pytest.mark.parametrize("path_sent", ["/calls/", "/"])
def test_a_redirect_keeps_the_prefix_whether_or_not_the_proxy_strips_it(
    owner_client, line, path_sent
):
    response = get(owner_client, path_sent, **{"X-Forwarded-Prefix": "/calls/"})
    assert response.status_code == 302
    assert response["Location"] == "/calls" + calls_url(line)


def test_the_login_redirect_keeps_the_prefix_in_both_urls(client, line):
    response = get(client, "/calls" + calls_url(line), **{"X-Forwarded-Prefix": "/calls"})
    assert response["Location"] == (f"/calls/accounts/login/?next=/calls/lines/{line.pk}/missed/")


def test_an_htmx_swap_under_the_prefix_gets_the_partial_with_prefixed_links(owner_client, line):
    response = get(
        owner_client,
        "/calls" + calls_url(line) + "?q=%2B32",
        **{"X-Forwarded-Prefix": "/calls", "HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="results"' not in html  # the inside of #results only
    assert 'hx-get="?q=%2B32&amp;refresh=1"' in html  # query-only URLs keep the path
    assert "HX-Request" in response["Vary"]


def test_an_expired_session_during_an_htmx_swap_reloads_the_prefixed_login_page(client, line):
    response = get(
        client,
        "/calls" + calls_url(line),
        **{"X-Forwarded-Prefix": "/calls", "HX-Request": "true"},
    )
    assert response["HX-Redirect"].startswith("/calls/accounts/login/?next=/calls/lines/")


def test_static_files_are_served_under_the_prefix(client):
    response = get(client, "/calls/static/css/app.css", **{"X-Forwarded-Prefix": "/calls"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")


def test_a_prefix_from_an_untrusted_address_is_ignored(owner_client, line):
    response = get(owner_client, "/", remote=OUTSIDER, **{"X-Forwarded-Prefix": "/evil"})
    assert response["Location"] == calls_url(line)
    assert get(owner_client, "/evil/", remote=OUTSIDER).status_code == 404


def test_the_prefix_does_not_leak_into_the_next_request_or_reverse(owner_client, line):
    get(owner_client, "/calls/", **{"X-Forwarded-Prefix": "/calls"})
    assert reverse("home") == "/"
    assert get(owner_client, "/")["Location"] == calls_url(line)


@pytest.mark.parametrize(
    "bad", ["calls", "/calls/../admin", "/a b", "/calls,/other", "//evil", "/x'onload=1"]
)
def test_a_malformed_prefix_from_the_proxy_is_refused_with_400(client, bad):
    response = get(client, "/", **{"X-Forwarded-Prefix": bad})
    assert response.status_code == 400
    assert "invalid X-Forwarded-Prefix" in response.content.decode()


def test_prefix_normalisation():
    assert normalise_prefix("/calls/") == "/calls"
    assert normalise_prefix(" /team/calls ") == "/team/calls"
    assert normalise_prefix("/") == ""
    assert normalise_prefix("") == ""
    with pytest.raises(ValueError):
        normalise_prefix("/" + "a" * 300)


def test_a_fixed_script_name_setting_mounts_the_app_without_any_header(
    owner_client, line, settings
):
    settings.FORCE_SCRIPT_NAME = "/calls"
    response = get(owner_client, "/calls/", remote=OUTSIDER)
    assert response["Location"] == "/calls" + calls_url(line)
    html = get(owner_client, "/calls" + calls_url(line), remote=OUTSIDER).content.decode()
    assert 'href="/calls/static/css/app.css"' in html


def test_a_trusted_forwarded_prefix_wins_over_the_setting(owner_client, line, settings):
    settings.FORCE_SCRIPT_NAME = "/calls"
    response = get(owner_client, "/", **{"X-Forwarded-Prefix": "/team/calls"})
    assert response["Location"] == "/team/calls" + calls_url(line)


# Scheme and host ----------------------------------------------------------------------


def test_a_trusted_https_proto_satisfies_the_ssl_redirect(owner_client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert get(owner_client, "/", **{"X-Forwarded-Proto": "https"}).status_code == 200
    untrusted = get(owner_client, "/", remote=OUTSIDER, **{"X-Forwarded-Proto": "https"})
    assert untrusted.status_code == 301
    assert untrusted["Location"] == "https://testserver/"


def test_the_first_entry_of_an_appended_proto_list_is_the_clients(owner_client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert get(owner_client, "/", **{"X-Forwarded-Proto": "https, http"}).status_code == 200


def test_a_malformed_proto_from_the_proxy_is_refused_with_400(client):
    response = get(client, "/", **{"X-Forwarded-Proto": "gopher"})
    assert response.status_code == 400
    assert "X-Forwarded-Proto" in response.content.decode()


def test_absolute_urls_use_the_forwarded_scheme_host_and_prefix(rf, settings):
    from dashboard.accounts.proxy import ProxyHeadersMiddleware

    seen = {}

    def view(request):
        seen["url"] = request.build_absolute_uri(reverse("preferences"))
        seen["secure"] = request.is_secure()
        from django.http import HttpResponse

        return HttpResponse()

    request = rf.get(
        "/calls/accounts/preferences/",
        REMOTE_ADDR=PROXY,
        HTTP_HOST="app.internal:8000",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_HOST="intranet.example.com",
        HTTP_X_FORWARDED_PREFIX="/calls",
    )
    ProxyHeadersMiddleware(view)(request)
    assert seen == {
        "url": "https://intranet.example.com/calls/accounts/preferences/",
        "secure": True,
    }


def test_a_csrf_protected_post_passes_with_the_forwarded_origin(owner, line, settings):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    forwarded = {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "intranet.example.com",
        "X-Forwarded-Prefix": "/calls",
    }
    page = client.get(
        "/calls/accounts/preferences/",
        REMOTE_ADDR=PROXY,
        headers={"Host": "app.internal:8000", **forwarded},
    )
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    browser = {
        "Origin": "https://intranet.example.com",
        "Referer": "https://intranet.example.com/calls/accounts/preferences/",
    }

    def post(remote, path="/calls/accounts/preferences/"):
        return client.post(
            path,
            {"csrfmiddlewaretoken": token, "time_zone": "Europe/Brussels"},
            REMOTE_ADDR=remote,
            headers={"Host": "app.internal:8000", **forwarded, **browser},
        )

    # From anyone else the forwarded host is not believed: the Origin does not match.
    assert post(OUTSIDER, "/accounts/preferences/").status_code == 403
    response = post(PROXY)
    assert response.status_code == 302
    assert response["Location"] == "/calls/accounts/preferences/"


def test_a_forwarded_host_outside_allowed_hosts_is_a_400(client):
    assert get(client, "/", **{"X-Forwarded-Host": "evil.example.net"}).status_code == 400


def test_the_shared_call_list_is_rendered_per_sub_path(owner_client, line):
    """Incoming and outgoing lists are rendered once and shared (nothing in them is per
    user); their links carry the sub-path, so a list rendered under /calls/ is never served
    to a request without it, nor the reverse."""
    incoming = calls_url(line, "incoming")
    direct = get(owner_client, incoming, remote=OUTSIDER).content.decode()
    proxied = get(
        owner_client, "/calls" + incoming, **{"X-Forwarded-Prefix": "/calls"}
    ).content.decode()
    direct_again = get(owner_client, incoming, remote=OUTSIDER).content.decode()
    callers = re.compile(r'<a href="(/[^"]*/callers/[^"]*)"')
    proxied_links, direct_links = callers.findall(proxied), callers.findall(direct)
    assert proxied_links and all(u.startswith("/calls/") for u in proxied_links)
    assert direct_links and not any(u.startswith("/calls/") for u in direct_links)
    assert callers.findall(direct_again) == direct_links
