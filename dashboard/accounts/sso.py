"""Single sign-on by trusted headers: the company's proxy authenticates, we believe it.

An SSO proxy (oauth2-proxy, Authelia, Pomerium, Cloudflare Access…) signs the user in and
forwards the request with the username (and optionally e-mail, display name and groups)
in headers. `SsoMiddleware` turns those headers into a Django login:

- only when `SSO_ENABLED`; otherwise the headers mean nothing and are ignored entirely;
- only from `TRUSTED_PROXIES` (see proxy.py): the same header from anywhere else is
  answered with 403 and a warning log line — never trusted, never silently ignored;
- malformed values (empty, oversized, several comma-joined values, control characters)
  are answered with 400 and say what is wrong, instead of guessing;
- a user seen for the first time is created when `SSO_AUTO_SIGNUP` (the default);
- e-mail, name and group memberships follow the headers: re-applied whenever they change;
- when the username header changes, the session switches user (like Django's
  RemoteUserMiddleware); when it disappears, an SSO-made session ends.

Group sync treats the groups header as the source of truth for the user's memberships,
except for the groups named in `SSO_LOCAL_GROUPS`, which SSO never adds nor removes (for
memberships an administrator assigns by hand).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from dashboard.accounts.proxy import Refusal, is_from_trusted_proxy
from dashboard.text import has_invisible_characters

logger = logging.getLogger("dashboard.sso")

SSO_BACKEND = "dashboard.accounts.sso.SsoBackend"
# Session key: a digest of the e-mail/name/groups last applied, so a change at the
# identity provider reaches the user on their next request, without a write per request.
CLAIMS_SESSION_KEY = "sso_claims"

MAX_USERNAME_LENGTH = 150  # django.contrib.auth's User.username
MAX_NAME_LENGTH = 150  # User.first_name
MAX_GROUP_NAME_LENGTH = 150  # Group.name
MAX_GROUPS = 200


class SsoHeaderError(ValueError):
    """A header from the trusted proxy that we refuse to interpret; the text says why."""


@dataclass(frozen=True)
class SsoIdentity:
    """What the proxy says about the user. None means "not sent": leave it as it is."""

    username: str
    email: str | None = None
    name: str | None = None
    groups: tuple[str, ...] | None = None

    def claims_digest(self) -> str:
        claims = [self.email, self.name, sorted(self.groups) if self.groups is not None else None]
        return hashlib.sha256(json.dumps(claims).encode()).hexdigest()[:32]


# Reading the headers ----------------------------------------------------------------


def meta_key(header: str) -> str:
    """'X-Forwarded-User' → 'HTTP_X_FORWARDED_USER', the WSGI environ key."""
    return "HTTP_" + header.upper().replace("-", "_")


def configured_headers() -> list[str]:
    """Every SSO header name in use (user first); untrusted peers may send none of them."""
    names = [
        settings.SSO_USER_HEADER,
        settings.SSO_EMAIL_HEADER,
        settings.SSO_NAME_HEADER,
        settings.SSO_GROUPS_HEADER,
    ]
    return [name for name in names if name]


def _header(request: HttpRequest, name: str) -> str | None:
    if not name:
        return None
    raw = request.META.get(meta_key(name))
    if raw is None:
        return None
    # WSGI servers hand header bytes over as latin-1 (PEP 3333); proxies send UTF-8.
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return raw


def clean_username(raw: str, header: str) -> str:
    value = raw.strip()
    if not value:
        raise SsoHeaderError(
            f"The sign-in proxy sent an empty {header} header, so we cannot tell who you are. "
            "Check that the proxy authenticates this path."
        )
    if "," in value:
        # What a server produces when a request carries the header twice: typically the
        # client's own copy next to the proxy's. Never pick one.
        raise SsoHeaderError(
            f"The {header} header carries several values. Configure the proxy to replace "
            "this header rather than add to it."
        )
    if len(value) > MAX_USERNAME_LENGTH:
        raise SsoHeaderError(
            f"The {header} header is longer than {MAX_USERNAME_LENGTH} characters, "
            "which is more than a username can be here."
        )
    if has_invisible_characters(value):
        raise SsoHeaderError(f"The {header} header contains control characters.")
    return value


def _clean_email(raw: str | None) -> str | None:
    if raw is None:
        return None
    value = raw.strip()
    if not value:
        return ""
    try:
        validate_email(value)
    except ValidationError:
        logger.warning("sso: ignored an e-mail header that is not an e-mail address")
        return None
    return value


def _clean_name(raw: str | None) -> str | None:
    if raw is None:
        return None
    value = " ".join("".join(ch for ch in raw if not has_invisible_characters(ch)).split())
    return value[:MAX_NAME_LENGTH]


def _clean_groups(raw: str | None, separator: str) -> tuple[str, ...] | None:
    if raw is None:
        return None
    names: dict[str, None] = {}  # ordered and de-duplicated
    for part in raw.split(separator or ","):
        name = part.strip()
        if not name:
            continue
        if len(name) > MAX_GROUP_NAME_LENGTH or has_invisible_characters(name):
            logger.warning("sso: ignored a group name that is too long or not printable")
            continue
        names[name] = None
    if len(names) > MAX_GROUPS:
        logger.warning(
            "sso: the groups header lists %d groups; kept the first %d", len(names), MAX_GROUPS
        )
    return tuple(names)[:MAX_GROUPS]


def read_identity(request: HttpRequest) -> SsoIdentity | None:
    """The identity the proxy forwarded, None if it sent no username. Raises SsoHeaderError."""
    username = _header(request, settings.SSO_USER_HEADER)
    if username is None:
        return None
    return SsoIdentity(
        username=clean_username(username, settings.SSO_USER_HEADER),
        email=_clean_email(_header(request, settings.SSO_EMAIL_HEADER)),
        name=_clean_name(_header(request, settings.SSO_NAME_HEADER)),
        groups=_clean_groups(
            _header(request, settings.SSO_GROUPS_HEADER), settings.SSO_GROUPS_SEPARATOR
        ),
    )


# Applying it to the user --------------------------------------------------------------


def sync_groups(user: AbstractBaseUser, names: Iterable[str]) -> tuple[list[str], list[str]]:
    """Make the user's memberships match `names`, except SSO_LOCAL_GROUPS. (added, removed)."""
    local = set(settings.SSO_LOCAL_GROUPS)
    wanted = [name for name in names if name not in local]
    groups = {group.name: group for group in Group.objects.filter(name__in=wanted)}
    for name in wanted:
        if name not in groups:
            groups[name], _created = Group.objects.get_or_create(name=name)
    current = {group.name: group for group in user.groups.exclude(name__in=local)}
    added = [name for name in wanted if name not in current]
    removed = sorted(name for name in current if name not in groups)
    if added:
        user.groups.add(*(groups[name] for name in added))
    if removed:
        user.groups.remove(*(current[name] for name in removed))
    if added or removed:
        logger.info(
            "sso: groups of %s synced: added %s, removed %s",
            user.get_username(),
            added or "none",
            removed or "none",
        )
    return added, removed


def apply_claims(user: AbstractBaseUser, identity: SsoIdentity) -> None:
    """Copy e-mail, name and groups from the proxy's headers onto the user."""
    with transaction.atomic():  # all of it or none: never half-synced memberships
        _apply_claims(user, identity)


def _apply_claims(user: AbstractBaseUser, identity: SsoIdentity) -> None:
    changed: list[str] = []
    if identity.email is not None and user.email != identity.email:
        user.email = identity.email
        changed.append("email")
    if identity.name is not None and (user.first_name, user.last_name) != (identity.name, ""):
        # The proxy sends one display name; splitting it into first/last is guesswork.
        user.first_name, user.last_name = identity.name, ""
        changed += ["first_name", "last_name"]
    if changed:
        user.save(update_fields=changed)
    if identity.groups is not None:
        sync_groups(user, identity.groups)


class ProfileLoadingBackend(ModelBackend):
    """ModelBackend whose per-request user load brings the user's profile along (one
    join): the time-zone middleware needs its time zone on every page."""

    def get_user(self, user_id):
        users = get_user_model()._default_manager.select_related("profile")
        user = users.filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None


class SsoBackend(ProfileLoadingBackend):
    """Authenticates an `SsoIdentity` (never a password); creates the user if allowed."""

    def authenticate(self, request, sso_identity: SsoIdentity | None = None, **kwargs):
        if sso_identity is None or not settings.SSO_ENABLED:
            return None
        user_model = get_user_model()
        username_field = user_model.USERNAME_FIELD
        try:
            user = user_model._default_manager.get_by_natural_key(sso_identity.username)
        except user_model.DoesNotExist:
            if not settings.SSO_AUTO_SIGNUP:
                return None
            try:
                with transaction.atomic():
                    user, _created = user_model._default_manager.get_or_create(
                        **{username_field: sso_identity.username},
                        # The proxy is the only way in: no password can ever match.
                        defaults={"password": make_password(None)},
                    )
            except IntegrityError:  # created by a concurrent first request
                user = user_model._default_manager.get_by_natural_key(sso_identity.username)
            logger.info("sso: created user %s on first sign-in", sso_identity.username)
        if not self.user_can_authenticate(user):
            return None
        apply_claims(user, sso_identity)
        return user

    def get_user(self, user_id):
        # Switching SSO off ends the sessions it made.
        return super().get_user(user_id) if settings.SSO_ENABLED else None


class PasswordBackend(ProfileLoadingBackend):
    """Django's username/password login, unless PASSWORD_LOGIN_ENABLED is off.

    Off means off everywhere — the login page, the admin, any other form — and the
    sessions it made end too.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not settings.PASSWORD_LOGIN_ENABLED:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)

    def get_user(self, user_id):
        return super().get_user(user_id) if settings.PASSWORD_LOGIN_ENABLED else None


# The middleware -----------------------------------------------------------------------


def logged_in_by_sso(request: HttpRequest) -> bool:
    session = getattr(request, "session", None)
    return bool(
        session is not None
        and request.user.is_authenticated
        and session.get(auth.BACKEND_SESSION_KEY) == SSO_BACKEND
    )


class SsoMiddleware:
    """Log the proxy's user in. Place it after AuthenticationMiddleware and the
    security-header middlewares (its refusals carry those headers too)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal = getattr(request, "proxy_refusal", None) or self.authenticate(request)
        if refusal is not None:
            return refusal.response()
        return self.get_response(request)

    def authenticate(self, request: HttpRequest) -> Refusal | None:
        if not settings.SSO_ENABLED:
            return None
        if not is_from_trusted_proxy(request):
            return self._check_untrusted(request)
        try:
            identity = read_identity(request)
        except SsoHeaderError as error:
            logger.warning("sso: refused a malformed header from the proxy: %s", error)
            return Refusal(400, str(error))
        if identity is None:
            self._end_sso_session(request)
            return None
        user = request.user
        if logged_in_by_sso(request) and user.get_username() == identity.username:
            digest = identity.claims_digest()
            if request.session.get(CLAIMS_SESSION_KEY) != digest:
                apply_claims(user, identity)
                request.session[CLAIMS_SESSION_KEY] = digest
            return None
        if user.is_authenticated:
            # A different person now (or the same one, first time through the proxy):
            # end the old session before starting the new one.
            logger.info(
                "sso: session switches from %s to %s", user.get_username(), identity.username
            )
            auth.logout(request)
        return self._log_in(request, identity)

    @staticmethod
    def _check_untrusted(request: HttpRequest) -> Refusal | None:
        sent = [name for name in configured_headers() if meta_key(name) in request.META]
        if sent:
            logger.warning(
                "sso: refused %s %s from %s: it carries %s but the address is not in "
                "TRUSTED_PROXIES",
                request.method,
                request.path,
                request.META.get("REMOTE_ADDR") or "an unknown address",
                ", ".join(sent),
            )
            # The person in front of this page reads it (the log line above is for the
            # operator, in English); LocaleMiddleware has already picked their language.
            return Refusal(
                403,
                _(
                    "Refused: this request carries the sign-in header %(header)s but does not "
                    "come from a trusted proxy. Open the dashboard through your company's "
                    "sign-in address."
                )
                % {"header": sent[0]},
            )
        SsoMiddleware._end_sso_session(request)
        return None

    @staticmethod
    def _end_sso_session(request: HttpRequest) -> None:
        # A session the proxy made is only valid while the proxy vouches for it.
        if logged_in_by_sso(request):
            logger.info("sso: %s's session ended: no sign-in header", request.user.get_username())
            auth.logout(request)

    @staticmethod
    def _log_in(request: HttpRequest, identity: SsoIdentity) -> Refusal | None:
        user = auth.authenticate(request, sso_identity=identity)
        if user is None:
            logger.warning("sso: %s may not sign in (unknown or inactive)", identity.username)
            return Refusal(
                403,
                _(
                    "Your sign-in account “%(username)s” has no access to this dashboard "
                    "(unknown here, or disabled). Ask an administrator for access."
                )
                % {"username": identity.username},
            )
        auth.login(request, user, backend=SSO_BACKEND)
        request.session[CLAIMS_SESSION_KEY] = identity.claims_digest()
        logger.info("sso: signed in %s", identity.username)
        return None


def sso_context(request: HttpRequest) -> dict[str, object]:
    """Template context: whether the password form and the logout button make sense."""
    enabled = settings.SSO_ENABLED
    by_sso = enabled and hasattr(request, "user") and logged_in_by_sso(request)
    return {
        "sso": {
            "enabled": enabled,
            "password_login": settings.PASSWORD_LOGIN_ENABLED,
            # Logging out of an SSO session without the proxy's sign-out URL would log
            # the user straight back in: no button then.
            "show_logout": not by_sso or bool(settings.SSO_LOGOUT_URL),
        }
    }
