"""The live check of an API key: one minimal request per endpoint family.

Missed calls first (it answers "invalid key" but ignores the subscription), then incoming
calls (it checks the key *and* the subscription). Outgoing is the same family as incoming,
so asking it too would tell us nothing new.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from dashboard.lines.models import KeyStatus
from dashboard.smsmobileapi import errors
from dashboard.smsmobileapi.conf import get_client
from dashboard.smsmobileapi.records import CallKind, CallQuery

logger = logging.getLogger(__name__)

MESSAGES = {
    KeyStatus.VALID: _("SMSMobileAPI accepted the key."),
    KeyStatus.EXPIRED: _(
        "SMSMobileAPI accepted the key, but its subscription has expired: missed calls "
        "still list, incoming and outgoing calls will not until it is renewed."
    ),
    KeyStatus.REJECTED: _(
        "SMSMobileAPI rejected this API key. Check that you copied the whole key from "
        "your SMSMobileAPI account; nothing was saved."
    ),
    KeyStatus.UNREACHABLE: _(
        "The key could not be checked: SMSMobileAPI did not answer properly. It was saved "
        "anyway; use “Check the key again” later."
    ),
    KeyStatus.UNCHECKED: _("The key was saved without checking it."),
}


@dataclass(frozen=True)
class KeyCheck:
    status: KeyStatus
    # The upstream error code that decided the status ("" when none): for logs and tests.
    code: str = ""

    @property
    def message(self) -> str:
        return str(MESSAGES[self.status])

    @property
    def saves(self) -> bool:
        """Whether a key with this result may be stored (only a rejected key may not)."""
        return self.status is not KeyStatus.REJECTED


ONE_ROW = CallQuery(limit=1)


@sensitive_variables()
def check_api_key(api_key: str) -> KeyCheck:
    """Ask the provider about `api_key`; never raises for upstream failures."""
    client = get_client()
    try:
        client.list_calls(api_key, CallKind.MISSED, ONE_ROW)
    except (errors.InvalidApiKey, errors.MissingApiKey) as exc:
        return _result(KeyStatus.REJECTED, exc)
    except (errors.UpstreamTimeout, errors.UpstreamUnreachable) as exc:
        # The provider cannot be reached: a second request would only double the wait.
        return _result(KeyStatus.UNREACHABLE, exc)
    except errors.UpstreamError as exc:
        # A provider-side error on missed calls; incoming calls may still tell us more.
        logger.info("key check: missed calls answered %s; asking incoming calls", exc.code)
    try:
        client.list_calls(api_key, CallKind.INCOMING, ONE_ROW)
    except (errors.InvalidApiKey, errors.MissingApiKey) as exc:
        return _result(KeyStatus.REJECTED, exc)
    except errors.SubscriptionExpired as exc:
        return _result(KeyStatus.EXPIRED, exc)
    except errors.UpstreamError as exc:
        return _result(KeyStatus.UNREACHABLE, exc)
    return KeyCheck(KeyStatus.VALID)


def _result(status: KeyStatus, exc: errors.UpstreamError) -> KeyCheck:
    # Upstream error texts are ours (errors.py) and never hold the request URL or key.
    logger.info("key check: %s (%s)", status.value, exc.code)
    return KeyCheck(status, exc.code)
