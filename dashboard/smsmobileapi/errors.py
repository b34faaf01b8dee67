"""Every way an upstream call can fail, as one exception family.

Messages are written here, by us: never the provider's text and never anything holding
the request URL, so neither str() nor repr() of an error can carry an API key.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class UpstreamError(Exception):
    """Base class. `code` is stable (logs, metrics, tests); `user_message` is for people."""

    code = "upstream_error"
    user_message = _("SMSMobileAPI returned an error. Try again in a minute.")
    # Whether serving an older cached answer makes sense (the provider is unwell, not the key).
    transient = True

    def __init__(self, detail: str = "", *, status: int | None = None) -> None:
        self.detail = detail[:200]
        self.status = status
        super().__init__(self.code if not detail else f"{self.code}: {self.detail}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status!r})"


class MissingApiKey(UpstreamError):
    code = "missing_apikey"
    user_message = _("This line has no API key. Ask its owner to add one.")
    transient = False


class InvalidApiKey(UpstreamError):
    code = "invalid_apikey"
    user_message = _(
        "SMSMobileAPI rejected this line's API key. Ask the line's owner to replace it."
    )
    transient = False


class SubscriptionExpired(UpstreamError):
    code = "api_expired"
    user_message = _(
        "The SMSMobileAPI subscription for this line has expired. Missed calls may still "
        "be listed; renew the subscription to see incoming and outgoing calls."
    )
    transient = False


class ProviderServerError(UpstreamError):
    code = "server_error"
    user_message = _("SMSMobileAPI had an internal error. Try again in a minute.")


class RateLimited(UpstreamError):
    code = "rate_limited"
    user_message = _("SMSMobileAPI asked us to slow down. Try again in a minute.")

    def __init__(
        self, detail: str = "", *, status: int | None = 429, retry_after: float | None = None
    ):
        super().__init__(detail, status=status)
        self.retry_after = retry_after


class UpstreamTimeout(UpstreamError):
    code = "timeout"
    user_message = _("SMSMobileAPI did not answer in time. Try again in a minute.")


class UpstreamUnreachable(UpstreamError):
    code = "unreachable"
    user_message = _("SMSMobileAPI cannot be reached right now. Try again in a minute.")


class BadResponse(UpstreamError):
    """Not JSON at all: an HTML error page from a load balancer, a truncated body."""

    code = "bad_response"
    user_message = _("SMSMobileAPI sent an answer we could not read. Try again in a minute.")


class UnexpectedShape(UpstreamError):
    """JSON, but not the shape the contract describes."""

    code = "unexpected_shape"
    user_message = _("SMSMobileAPI sent an answer in an unexpected format. Try again in a minute.")


ERROR_TYPES: tuple[type[UpstreamError], ...] = (
    MissingApiKey,
    InvalidApiKey,
    SubscriptionExpired,
    ProviderServerError,
    RateLimited,
    UpstreamTimeout,
    UpstreamUnreachable,
    BadResponse,
    UnexpectedShape,
)
