"""Trusted-header single sign-on: who may send the headers, what they do to users and groups."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import Group, User
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from dashboard.accounts import sso
from tests.envsettings import load_settings

PROXY = "10.0.0.5"
OUTSIDER = "192.0.2.44"


@pytest.fixture
def sso_on(settings):
    settings.SSO_ENABLED = True
    settings.TRUSTED_PROXIES = ["10.0.0.0/29"]
    settings.SSO_USER_HEADER = "X-Forwarded-User"
    settings.SSO_EMAIL_HEADER = "X-Forwarded-Email"
    settings.SSO_NAME_HEADER = "X-Forwarded-Name"
    settings.SSO_GROUPS_HEADER = "X-Forwarded-Groups"
    settings.SSO_GROUPS_SEPARATOR = ","
    settings.SSO_AUTO_SIGNUP = True
    settings.SSO_LOCAL_GROUPS = []
    settings.SSO_LOGOUT_URL = ""
    settings.PASSWORD_LOGIN_ENABLED = True
    return settings


def via(client, path="/", *, remote=PROXY, **headers):
    """A GET as the proxy (or anyone at `remote`) would send it; headers by HTTP name."""
    return client.get(path, REMOTE_ADDR=remote, headers=headers)


def as_alice(client, path="/", groups="support", **more):
    return via(
        client,
        path,
        **{
            "X-Forwarded-User": "alice",
            "X-Forwarded-Email": "alice@example.com",
            "X-Forwarded-Name": "Alice Martin",
            "X-Forwarded-Groups": groups,
            **more,
        },
    )


def session_user(client) -> User | None:
    pk = client.session.get(SESSION_KEY)
    return User.objects.get(pk=pk) if pk else None


def group_names(user: User) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


# SSO off ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("remote", [PROXY, OUTSIDER])
def test_with_sso_off_the_headers_are_ignored_entirely(client, settings, remote):
    settings.SSO_ENABLED = False
    settings.TRUSTED_PROXIES = ["10.0.0.0/29"]
    response = via(client, "/", remote=remote, **{"X-Forwarded-User": "alice"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not User.objects.filter(username="alice").exists()


# Who may send the headers -------------------------------------------------------------


@pytest.mark.django_db
def test_a_user_header_from_an_untrusted_address_is_refused_with_403_and_a_log_line(
    client, sso_on, caplog
):
    with caplog.at_level(logging.WARNING, logger="dashboard.sso"):
        response = via(client, "/", remote=OUTSIDER, **{"X-Forwarded-User": "alice"})
    assert response.status_code == 403
    assert "does not come from a trusted proxy" in response.content.decode()
    assert "X-Forwarded-User" in response.content.decode()
    assert not User.objects.filter(username="alice").exists()
    assert session_user(client) is None
    [record] = [r for r in caplog.records if r.name == "dashboard.sso"]
    assert OUTSIDER in record.getMessage()
    assert "X-Forwarded-User" in record.getMessage()
    assert "TRUSTED_PROXIES" in record.getMessage()


@pytest.mark.django_db
def test_a_forged_groups_header_alone_from_an_untrusted_address_is_refused_too(client, sso_on):
    response = via(client, "/", remote=OUTSIDER, **{"X-Forwarded-Groups": "admins"})
    assert response.status_code == 403


@pytest.mark.django_db
def test_the_refusal_carries_the_security_headers(client, sso_on):
    response = via(client, "/", remote=OUTSIDER, **{"X-Forwarded-User": "alice"})
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.django_db
def test_an_underscore_spelling_of_the_header_is_judged_like_the_real_one(client, sso_on):
    # WSGI turns both X-Forwarded-User and X_Forwarded_User into HTTP_X_FORWARDED_USER, so
    # the app cannot tell them apart: what protects it is the source check (this 403) and
    # servers that drop underscore headers (the live-server and nginx tests).
    response = via(client, "/", remote=OUTSIDER, **{"X_Forwarded_User": "alice"})
    assert response.status_code == 403


@pytest.mark.django_db
def test_an_ipv4_mapped_ipv6_peer_is_matched_against_ipv4_networks(client, sso_on):
    response = via(client, "/", remote="::ffff:10.0.0.5", **{"X-Forwarded-User": "alice"})
    assert response.status_code == 200
    assert session_user(client).username == "alice"


@pytest.mark.django_db
def test_without_headers_an_untrusted_client_uses_the_password_login(client, sso_on, owner):
    client.post(
        reverse("login"), {"username": "olivia", "password": "pw-olivia"}, REMOTE_ADDR=OUTSIDER
    )
    assert session_user(client) == owner
    assert client.get("/", REMOTE_ADDR=OUTSIDER).status_code == 200


# Malformed headers from the trusted proxy ---------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "empty X-Forwarded-User header"),
        ("   ", "empty X-Forwarded-User header"),
        # A server joins a repeated header with commas: the client's copy and the proxy's.
        ("mallory,alice", "several values"),
        ("mallory, alice", "several values"),
        ("a" * 151, "longer than 150 characters"),
        ("alice\x00", "control characters"),
    ],
)
def test_a_malformed_user_header_is_refused_with_400_and_says_why(client, sso_on, value, message):
    response = via(client, "/", **{"X-Forwarded-User": value})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert User.objects.count() == 0


@pytest.mark.django_db
def test_a_150_character_username_is_accepted(client, sso_on):
    via(client, "/", **{"X-Forwarded-User": "a" * 150})
    assert User.objects.filter(username="a" * 150).exists()


@pytest.mark.django_db
def test_a_utf8_username_sent_by_the_proxy_is_read_as_utf8(client, sso_on):
    # What a WSGI server hands over for the UTF-8 bytes of "héloïse": latin-1 text.
    mojibake = "héloïse".encode().decode("latin-1")
    client.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_USER=mojibake)
    assert session_user(client).username == "héloïse"


# Signing in and signing up ------------------------------------------------------------


@pytest.mark.django_db
def test_the_proxys_user_is_created_on_first_sight_with_email_name_and_groups(client, sso_on):
    response = as_alice(client, "/", groups="support, Sales Team")
    assert response.status_code == 200  # no line shared yet: the "no lines" page
    alice = User.objects.get(username="alice")
    assert session_user(client) == alice
    assert alice.email == "alice@example.com"
    assert alice.get_full_name() == "Alice Martin"
    assert not alice.has_usable_password()
    assert group_names(alice) == {"support", "Sales Team"}
    assert client.session[sso.CLAIMS_SESSION_KEY]


@pytest.mark.django_db
def test_an_existing_user_is_signed_in_and_their_email_and_name_updated(client, sso_on, owner):
    via(client, "/", **{"X-Forwarded-User": "olivia", "X-Forwarded-Email": "o@example.com"})
    owner.refresh_from_db()
    assert session_user(client) == owner
    assert owner.email == "o@example.com"
    assert owner.check_password("pw-olivia")  # a local password is left alone


@pytest.mark.django_db
def test_with_auto_signup_off_an_unknown_user_is_refused_with_403(client, sso_on):
    sso_on.SSO_AUTO_SIGNUP = False
    response = as_alice(client)
    assert response.status_code == 403
    assert "“alice” has no access" in response.content.decode()
    assert not User.objects.filter(username="alice").exists()


@pytest.mark.django_db
def test_with_auto_signup_off_a_known_user_still_gets_in(client, sso_on, owner):
    sso_on.SSO_AUTO_SIGNUP = False
    via(client, "/", **{"X-Forwarded-User": "olivia"})
    assert session_user(client) == owner


@pytest.mark.django_db
def test_a_deactivated_user_is_refused_with_403(client, sso_on, owner):
    owner.is_active = False
    owner.save()
    response = via(client, "/", **{"X-Forwarded-User": "olivia"})
    assert response.status_code == 403
    assert session_user(client) is None


@pytest.mark.django_db
def test_an_invalid_email_header_is_ignored_not_fatal(client, sso_on):
    via(client, "/", **{"X-Forwarded-User": "bob", "X-Forwarded-Email": "not an address"})
    assert User.objects.get(username="bob").email == ""


# Group sync ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_sharing_a_line_with_a_group_reaches_every_user_the_proxy_puts_in_it(
    client, sso_on, line, support_group
):
    line.shared_with_groups.add(support_group)
    url = reverse("line-calls", kwargs={"line_id": line.pk, "kind": "missed"})
    assert as_alice(client, url, groups="support").status_code == 200
    assert as_alice(client, "/", groups="support")["Location"] == url


@pytest.mark.django_db
def test_group_memberships_follow_the_header_adding_and_removing(client, sso_on, line):
    support = Group.objects.create(name="support")
    line.shared_with_groups.add(support)
    url = reverse("line-calls", kwargs={"line_id": line.pk, "kind": "missed"})
    as_alice(client, url, groups="support,sales")
    alice = User.objects.get(username="alice")
    session_key = client.session.session_key
    assert group_names(alice) == {"support", "sales"}

    # The identity provider moved alice out of support: her next request says so.
    response = as_alice(client, url, groups="sales")
    assert group_names(alice) == {"sales"}
    assert response.status_code == 404  # the line was shared with support only
    assert client.session.session_key == session_key  # same sign-in, just re-synced


@pytest.mark.django_db
def test_an_empty_groups_header_removes_every_synced_membership(client, sso_on):
    as_alice(client, groups="support")
    as_alice(client, groups="")
    assert group_names(User.objects.get(username="alice")) == set()


@pytest.mark.django_db
def test_a_missing_groups_header_leaves_memberships_alone(client, sso_on):
    as_alice(client, groups="support")
    via(client, "/", **{"X-Forwarded-User": "alice"})
    assert group_names(User.objects.get(username="alice")) == {"support"}


@pytest.mark.django_db
def test_local_groups_are_never_added_nor_removed_by_the_header(client, sso_on):
    sso_on.SSO_LOCAL_GROUPS = ["escalation", "admins"]
    alice = User.objects.create_user("alice")
    alice.groups.add(Group.objects.create(name="escalation"))
    as_alice(client, groups="support,admins")
    assert group_names(alice) == {"escalation", "support"}


@pytest.mark.django_db
def test_the_groups_separator_is_configurable(client, sso_on):
    sso_on.SSO_GROUPS_SEPARATOR = ";"
    as_alice(client, groups="support;Sales, EMEA")
    assert group_names(User.objects.get(username="alice")) == {"support", "Sales, EMEA"}


@pytest.mark.django_db
def test_overlong_group_names_are_skipped(client, sso_on):
    as_alice(client, groups="support," + "g" * 151)
    assert group_names(User.objects.get(username="alice")) == {"support"}


@pytest.mark.django_db
def test_a_changed_email_is_applied_on_the_next_request_without_a_new_sign_in(client, sso_on):
    as_alice(client)
    session_key = client.session.session_key
    as_alice(client, **{"X-Forwarded-Email": "alice@new.example.com"})
    assert User.objects.get(username="alice").email == "alice@new.example.com"
    assert client.session.session_key == session_key


# Sessions -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_when_the_user_header_changes_the_session_switches_user(client, sso_on):
    as_alice(client)
    client.session["scratch"] = "alice's"
    alice_session = client.session.session_key
    via(client, "/", **{"X-Forwarded-User": "bob"})
    assert session_user(client).username == "bob"
    assert client.session.session_key != alice_session
    assert "scratch" not in client.session


@pytest.mark.django_db
def test_a_password_session_is_replaced_by_the_proxys_user(client, sso_on, owner):
    client.force_login(owner)
    as_alice(client)
    assert session_user(client).username == "alice"
    assert client.session["_auth_user_backend"] == sso.SSO_BACKEND


@pytest.mark.django_db
def test_an_sso_session_ends_when_the_header_stops_coming(client, sso_on):
    as_alice(client)
    response = client.get("/", REMOTE_ADDR=PROXY)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert session_user(client) is None


@pytest.mark.django_db
def test_an_sso_session_cannot_be_used_directly_from_an_untrusted_address(client, sso_on):
    as_alice(client)
    assert client.get("/", REMOTE_ADDR=OUTSIDER).status_code == 302
    assert session_user(client) is None


@pytest.mark.django_db
def test_a_password_session_survives_requests_without_the_header(client, sso_on, owner):
    client.force_login(owner)
    assert client.get("/", REMOTE_ADDR=PROXY).status_code == 200
    assert session_user(client) == owner


@pytest.mark.django_db
def test_switching_sso_off_ends_the_sessions_it_made(client, sso_on):
    as_alice(client)
    sso_on.SSO_ENABLED = False
    assert client.get("/").status_code == 302


# Password login off, logout -----------------------------------------------------------


@pytest.mark.django_db
def test_with_password_login_off_the_login_page_has_no_form_and_no_password_works(
    client, sso_on, owner
):
    sso_on.PASSWORD_LOGIN_ENABLED = False
    page = client.get(reverse("login")).content.decode()
    assert 'type="password"' not in page
    assert "Password sign-in is switched off" in page
    client.post(reverse("login"), {"username": "olivia", "password": "pw-olivia"})
    assert session_user(client) is None
    owner.is_staff = owner.is_superuser = True
    owner.save()
    client.post(reverse("admin:login"), {"username": "olivia", "password": "pw-olivia"})
    assert session_user(client) is None


@pytest.mark.django_db
def test_with_password_login_off_existing_password_sessions_end(client, sso_on, owner):
    client.force_login(owner)
    sso_on.PASSWORD_LOGIN_ENABLED = False
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_logout_goes_to_the_proxys_sign_out_url(client, sso_on, monkeypatch, tmp_path):
    computed = load_settings(
        monkeypatch,
        tmp_path,
        SSO_ENABLED="true",
        TRUSTED_PROXIES="10.0.0.0/29",
        SSO_LOGOUT_URL="/oauth2/sign_out?rd=https%3A%2F%2Fintranet.example.com%2F",
    )
    sso_on.SSO_LOGOUT_URL = computed["SSO_LOGOUT_URL"]
    sso_on.LOGOUT_REDIRECT_URL = computed["LOGOUT_REDIRECT_URL"]
    page = as_alice(client).content.decode()
    assert 'action="/accounts/logout/"' in page
    response = client.post(reverse("logout"), REMOTE_ADDR=PROXY)
    assert response["Location"] == "/oauth2/sign_out?rd=https%3A%2F%2Fintranet.example.com%2F"
    assert SESSION_KEY not in client.session


@pytest.mark.django_db
def test_without_a_sign_out_url_an_sso_session_shows_no_logout_button(client, sso_on):
    # Logging out would sign the user straight back in through the proxy.
    page = as_alice(client).content.decode()
    assert "alice" in page
    assert "/accounts/logout/" not in page


# Configuration ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SSO_ENABLED": "true"}, "SSO_ENABLED needs TRUSTED_PROXIES"),
        ({"TRUSTED_PROXIES": "10.0.0.300/32"}, "TRUSTED_PROXIES: '10.0.0.300/32'"),
        ({"SSO_USER_HEADER": "X_Forwarded_User"}, "no underscores"),
        ({"SSO_GROUPS_HEADER": "X-Groups: admin"}, "SSO_GROUPS_HEADER must be a header name"),
        ({"PASSWORD_LOGIN_ENABLED": "false"}, "nobody could log in"),
        ({"SSO_LOGOUT_URL": "javascript:alert(1)"}, "SSO_LOGOUT_URL must be a URL"),
        ({"DJANGO_SCRIPT_NAME": "/calls/../admin"}, "DJANGO_SCRIPT_NAME must be a path"),
    ],
)
def test_bad_sso_configuration_stops_the_app_with_a_sentence(monkeypatch, tmp_path, env, message):
    with pytest.raises(ImproperlyConfigured, match=message.replace("(", r"\(")):
        load_settings(monkeypatch, tmp_path, **env)


def test_the_documented_sso_configuration_loads(monkeypatch, tmp_path):
    computed = load_settings(
        monkeypatch,
        tmp_path,
        SSO_ENABLED="true",
        TRUSTED_PROXIES="10.0.0.5/32, fd00::/64",
        SSO_USER_HEADER="Remote-User",
        SSO_GROUPS_HEADER="Remote-Groups",
        PASSWORD_LOGIN_ENABLED="false",
        SSO_LOGOUT_URL="https://auth.example.com/logout",
        DJANGO_SCRIPT_NAME="/calls/",
    )
    assert computed["TRUSTED_PROXIES"] == ["10.0.0.5/32", "fd00::/64"]
    assert computed["LOGOUT_REDIRECT_URL"] == "https://auth.example.com/logout"
    assert computed["FORCE_SCRIPT_NAME"] == "/calls"
    assert computed["SSO_EMAIL_HEADER"] == ""


# The serving layer: underscore headers never reach the app ----------------------------


def _raw_get(host: str, port: int, path: str, headers: dict[str, str], source: str) -> str:
    with socket.create_connection((host, port), timeout=5, source_address=(source, 0)) as conn:
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    return data.decode("latin-1")


def test_djangos_server_drops_an_underscore_header_even_from_the_trusted_proxy(
    live_server, settings
):
    settings.SSO_ENABLED = True
    settings.TRUSTED_PROXIES = ["127.0.0.2/32"]
    settings.SSO_USER_HEADER = "X-Forwarded-User"
    port = int(live_server.url.rsplit(":", 1)[1])
    spoofed = _raw_get("127.0.0.1", port, "/", {"X_Forwarded_User": "mallory"}, "127.0.0.2")
    assert spoofed.startswith("HTTP/1.1 302")  # anonymous: sent to the login page
    assert "/accounts/login/" in spoofed
    assert not User.objects.filter(username="mallory").exists()
    genuine = _raw_get("127.0.0.1", port, "/", {"X-Forwarded-User": "alice"}, "127.0.0.2")
    assert genuine.startswith("HTTP/1.1 200")
    assert User.objects.filter(username="alice").exists()


def test_gunicorn_is_configured_to_drop_underscore_headers():
    from gunicorn.config import Config

    config = Config()
    namespace: dict[str, object] = {}
    source = (Path(__file__).resolve().parent.parent / "dashboard" / "gunicorn.conf.py").read_text()
    exec(compile(source, "gunicorn.conf.py", "exec"), namespace)  # noqa: S102
    for name, value in namespace.items():
        if name in config.settings:
            config.set(name, value)
    assert config.header_map == "drop"
