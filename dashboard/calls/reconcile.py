"""When a pushed call (Webhook V2) and a listed call (the provider's list) are one call.

The webhook gives the call's time as the phone reported it and the list gives the time the
provider stored, so the two can differ by seconds. One rule, used by the inbox (Python,
`same_call`) and by live tables (static/js/live.js, RECONCILE_MS, which compare only pushed
rows with listed ones): the same guid when both carry one, else the same number within two
minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# Also RECONCILE_MS in static/js/live.js: change both together.
RECONCILE_WINDOW = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class Sighting:
    """One call as one source saw it: a normalised number key, an aware time, the
    provider's guid when the source gives one (webhooks do, the list endpoints do not)."""

    number: str
    at: datetime
    guid: str = ""


def same_call(a: Sighting, b: Sighting) -> bool:
    """True when `a` and `b` are the same call: equal guids if both have one, else the same
    number within RECONCILE_WINDOW (exactly the same time when neither has a guid: two
    rows of the list keep the provider's own clock, so a minute apart they are two calls)."""
    if a.guid and b.guid:
        return a.guid == b.guid
    if a.number != b.number:
        return False
    if not a.guid and not b.guid:
        return a.at == b.at
    return abs(a.at - b.at) <= RECONCILE_WINDOW


def match(call: Sighting, known: list[Sighting]) -> Sighting | None:
    """The known sighting `call` is (the closest in time when several qualify), or None."""
    candidates = [k for k in known if same_call(call, k)]
    return min(candidates, key=lambda k: abs(k.at - call.at), default=None)
