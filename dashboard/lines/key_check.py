"""The live check of an API key: one minimal request per endpoint family.

Missed calls first (it answers "invalid key" but ignores the subscription), then incoming
calls (it checks the key *and* the subscription). Outgoing is the same family as incoming,
so asking it too would tell us nothing new.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from dashboard.lines.models import KeyStatus, Line
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


# A page view's answer is recorded at most this often per line while the status holds:
# the lines list shows a recent check without a database write per provider request.
PAGE_CHECK_INTERVAL = timedelta(minutes=1)


def record_page_check(line: Line, kind: CallKind, exc: errors.UpstreamError | None) -> None:
    """Every provider request of a page checks the key: note what its answer says (in
    `check_api_key`'s terms) as the line's last check. Answers that say nothing about the
    key (timeouts, provider errors) leave the last check as it was."""
    if exc is None:
        if kind is CallKind.MISSED:
            # Missed calls ignore the subscription: they confirm an accepted key only.
            if line.key_status not in (KeyStatus.VALID, KeyStatus.EXPIRED):
                return
            status = KeyStatus(line.key_status)
        else:
            status = KeyStatus.VALID
    elif isinstance(exc, errors.InvalidApiKey | errors.MissingApiKey):
        status = KeyStatus.REJECTED
    elif isinstance(exc, errors.SubscriptionExpired) and kind is not CallKind.MISSED:
        status = KeyStatus.EXPIRED
    else:
        return
    deferred = _deferred.get()
    if deferred is not None:
        deferred.append((line, status))
    else:
        _write(line, status)


def _write(line: Line, status: KeyStatus) -> None:
    now = timezone.now()
    checked = line.key_checked_at
    if line.key_status == status and checked and now - checked < PAGE_CHECK_INTERVAL:
        return
    # An update of two fields (not save()): a concurrent edit of the line is not undone.
    Line.objects.filter(pk=line.pk).update(key_status=status.value, key_checked_at=now)
    line.key_status, line.key_checked_at = status.value, now


# Checks noted by worker threads (they run in a copy of this context) wait here for the
# thread that started them: a worker's own connection would contend with the request's
# for the database (SQLite's one writer), and it closes when the worker ends.
_deferred: ContextVar[list[tuple[Line, KeyStatus]] | None] = ContextVar(
    "deferred_key_checks", default=None
)


@contextmanager
def page_checks_written_here() -> Iterator[None]:
    """Inside, `record_page_check` only notes; the notes are written when it ends."""
    notes: list[tuple[Line, KeyStatus]] = []
    token = _deferred.set(notes)
    try:
        yield
    finally:
        _deferred.reset(token)
        for line, status in notes:
            _write(line, status)
