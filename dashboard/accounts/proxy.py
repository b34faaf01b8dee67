"""Honour a reverse proxy's forwarded headers, but only when the proxy is trusted.

The app usually sits behind a TLS-terminating, authenticating proxy, often under a
sub-path (`https://intranet.example.com/calls/`). The proxy tells us what the browser saw:

- `X-Forwarded-Proto` — the scheme (so `is_secure()`, secure redirects and CSRF's
  Origin/Referer checks are right behind TLS termination),
- `X-Forwarded-Host` — the host (still checked against `ALLOWED_HOSTS`),
- `X-Forwarded-Prefix` — the sub-path (or the fixed `DJANGO_SCRIPT_NAME` setting).

Anyone can send these headers, so they count only when the connection comes from an
address in `TRUSTED_PROXIES`. `ProxyHeadersMiddleware` runs first in `MIDDLEWARE`, so
everything after it — the SSL redirect, whitenoise, `reverse()`, redirects, static URLs,
CSRF — sees the browser's scheme, host and prefix. The prefix uses Django's own
mechanism: `SCRIPT_NAME` in `request.META` plus `set_script_prefix()`.

Headers that a trusted proxy sends malformed are not guessed at: the request is flagged
(`request.proxy_refusal`) and answered with a 400 by `sso.SsoMiddleware`, which runs
inside the security-header middlewares so even the refusal carries them.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.storage import StaticFilesStorage
from django.http import HttpRequest, HttpResponse
from django.urls import get_script_prefix, set_script_prefix
from whitenoise.storage import CompressedManifestStaticFilesStorage

logger = logging.getLogger("dashboard.proxy")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# A sub-path is one or more plain segments (the same rule as DJANGO_SCRIPT_NAME): no dot
# segments, no encoded bytes, no quotes, no query — what a proxy is configured with by hand.
_PREFIX_RE = re.compile(r"^(/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)+/?$")
MAX_PREFIX_LENGTH = 200


@dataclass(frozen=True)
class Refusal:
    """Why a request is answered with an error instead of being served."""

    status: int
    message: str

    def response(self) -> HttpResponse:
        return HttpResponse(
            self.message + "\n", status=self.status, content_type="text/plain; charset=utf-8"
        )


@functools.lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def is_trusted_address(address: str | None) -> bool:
    """Whether `address` (a REMOTE_ADDR) is inside one of the TRUSTED_PROXIES networks."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped  # a dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d
    return any(ip in net for net in _networks(tuple(settings.TRUSTED_PROXIES)))


def is_from_trusted_proxy(request: HttpRequest) -> bool:
    """Whether the request's peer is a trusted proxy (computed once, by the middleware)."""
    trusted = getattr(request, "via_trusted_proxy", None)
    if trusted is None:
        trusted = is_trusted_address(request.META.get("REMOTE_ADDR"))
    return trusted


def normalise_prefix(raw: str) -> str:
    """'/calls/' → '/calls'; '' or '/' → ''. Raises ValueError for anything else."""
    value = raw.strip()
    if value in ("", "/"):
        return ""
    if len(value) > MAX_PREFIX_LENGTH or not _PREFIX_RE.match(value):
        raise ValueError(value)
    return value.rstrip("/")


def _first(value: str) -> str:
    # A chain of proxies may append ("https, http"): the first entry is what the client
    # used at the outermost proxy.
    return value.split(",", 1)[0].strip()


class ProxyHeadersMiddleware:
    """Apply a trusted proxy's scheme, host and sub-path before anything else runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        trusted = is_trusted_address(request.META.get("REMOTE_ADDR"))
        request.via_trusted_proxy = trusted
        request.proxy_refusal = None
        previous_prefix = get_script_prefix()
        prefix = settings.FORCE_SCRIPT_NAME or ""
        if trusted:
            self._apply_scheme_and_host(request)
            forwarded_prefix = request.META.get("HTTP_X_FORWARDED_PREFIX")
            if forwarded_prefix is not None:
                try:
                    prefix = normalise_prefix(forwarded_prefix)
                except ValueError:
                    request.proxy_refusal = Refusal(
                        400,
                        "The proxy sent an invalid X-Forwarded-Prefix header: it must be one "
                        "path such as /calls. Check the proxy's configuration.",
                    )
        if prefix:
            _mount(request, prefix.rstrip("/"))
        try:
            return self.get_response(request)
        finally:
            # The script prefix is thread-local: don't let this request's leak into the
            # next one served by the same thread (or into a test's reverse()).
            set_script_prefix(previous_prefix)

    @staticmethod
    def _apply_scheme_and_host(request: HttpRequest) -> None:
        meta = request.META
        proto = meta.get("HTTP_X_FORWARDED_PROTO")
        if proto is not None:
            scheme = _first(proto).lower()
            if scheme in ("http", "https"):
                meta["wsgi.url_scheme"] = scheme
            else:
                request.proxy_refusal = Refusal(
                    400,
                    "The proxy sent an invalid X-Forwarded-Proto header: expected http or "
                    "https. Check the proxy's configuration.",
                )
        host = meta.get("HTTP_X_FORWARDED_HOST")
        if host is not None and _first(host):
            # Still validated against ALLOWED_HOSTS by request.get_host().
            meta["HTTP_HOST"] = _first(host)


def _mount(request: HttpRequest, prefix: str) -> None:
    """Serve this request as if the app were mounted at `prefix` (e.g. '/calls')."""
    path_info = request.path_info
    # Some proxies strip the prefix (Traefik's StripPrefix, nginx with a trailing slash on
    # proxy_pass), some keep it (nginx without one): accept both.
    if path_info == prefix or path_info.startswith(prefix + "/"):
        path_info = path_info[len(prefix) :] or "/"
    request.path_info = path_info
    request.path = prefix + path_info
    request.META["PATH_INFO"] = path_info
    request.META["SCRIPT_NAME"] = prefix
    set_script_prefix(prefix + "/")


class ScriptPrefixStaticMixin:
    """Static URLs under the current request's script prefix (/calls/static/…).

    Django prefixes a *relative* STATIC_URL once, when settings are first read, which
    cannot follow a per-request X-Forwarded-Prefix. STATIC_URL is therefore absolute
    ('/static/', which whitenoise matches against the unprefixed path) and the storage
    adds the prefix each time it builds a URL.
    """

    @property
    def base_url(self) -> Any:
        base = super().base_url  # type: ignore[misc]
        if not base or not base.startswith("/"):
            return base
        return get_script_prefix().rstrip("/") + base


class PrefixedStaticFilesStorage(ScriptPrefixStaticMixin, StaticFilesStorage):
    """Plain static storage (tests, no collectstatic) with prefixed URLs."""


class PrefixedManifestStaticFilesStorage(
    ScriptPrefixStaticMixin, CompressedManifestStaticFilesStorage
):
    """Production storage: whitenoise's hashed, compressed files, with prefixed URLs."""
