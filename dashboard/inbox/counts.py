"""Telling open pages that a line's inbox changed, so their open counts follow a
teammate's change (a claim, a mark, a bulk mark, callback detection) without a reload.

Every committed change bumps the line's inbox generation in the shared cache and wakes
the live processes (`announce`); a live process reads the generations of the lines it
streams on each round and counts the open callers again only for lines whose generation
moved (dashboard/live/hub.py). The generation is a hint, never the count: the count is
always the database's, and the hub also recounts every line it streams once per
heartbeat, so a bump lost to a cache outage only delays the new count.

The key holds the line's id alone (no API key fingerprint, unlike the calls cache): the
count comes from the database, so a replaced key changes nothing about it, and the live
process can read the key without loading and decrypting every line.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db import transaction

from dashboard.inbox.listing import open_counts
from dashboard.lines.models import Line
from dashboard.ops.safe_cache import safe_cache

# Long enough to outlive any gap between two of the hub's reads; when one is evicted the
# hub reads None, which differs from what it saw, and it simply counts once more.
GENERATION_SECONDS = 24 * 3600.0


def generation_key(line_id: int) -> str:
    return f"inbox:open:{line_id}:generation"


def inbox_changed(line: Line) -> None:
    """Once the current transaction commits (at once outside one): other open pages of
    the line are to get its new open count. Never raises."""
    line_id = line.pk

    def tell() -> None:
        # Imported here: the live app imports this module (the hub reads the keys).
        from dashboard.live.channel import announce

        safe_cache.set(generation_key(line_id), uuid.uuid4().hex, GENERATION_SECONDS)
        announce(line_id)

    transaction.on_commit(tell, robust=True)


def generations(line_ids: Iterable[int]) -> dict[int, object]:
    """Each line's inbox generation now (None when never bumped, evicted, or the cache is
    unusable), in one cache read."""
    ids = list(line_ids)
    found = safe_cache.get_many([generation_key(i) for i in ids])
    return {i: found.get(generation_key(i)) for i in ids}


def changed_counts(
    line_ids: Iterable[int],
    seen: dict[int, object],
    *,
    every: bool = False,
    also: Iterable[int] = (),
) -> tuple[dict[int, object], dict[int, int]]:
    """(the lines' generations now, the open counts of those whose generation differs
    from `seen` or that `seen` lacks, or that are in `also`; of all of them with
    `every`), one query at most. `also`: lines with a new stream, which must get a count
    read now, not one kept from before (while the cache is down no generation moves).

    The generations are read before counting: a change committed in between bumps its
    generation after this read, so the next call counts that line again."""
    now = generations(line_ids)
    also = set(also)
    due = [i for i, g in now.items() if every or i in also or i not in seen or seen[i] != g]
    if not due:
        return now, {}
    counts = open_counts(due)
    return now, {i: counts.get(i, 0) for i in due}
