"""Fetching a batch of calls through the shared cache, protecting the provider.

`fetch_batch` returns a `Fetched` whatever happens upstream; errors are data, never
exceptions, so views stay simple. Everything goes through Django's cache framework, so
the default disk cache (every process of one machine) and Redis (several machines)
behave the same, with no branching on the backend:

- **Entries** are keyed by the line key's HMAC fingerprint, the kind and the provider's
  own normalised parameters (`build_params`), so every user who may see a line shares
  them; a different key never shares anything. An entry is *fresh* for CALLS_CACHE_TTL
  and kept CALLS_CACHE_STALE_TTL to be shown, marked stale, when the provider fails.
- **Single flight**: a miss takes a short lock with the atomic `cache.add`; identical
  requests (in any thread or process sharing the cache) poll for the holder's answer
  instead of calling the provider. The lock expires, so a crashed holder blocks no one
  for long. Backends whose `add` is not atomic (the file cache) make it best effort.
- **Backoff**: after a transient failure or a 429, the line's calls pause for a growing
  interval (Retry-After wins when longer); meanwhile requests get the stale answer or
  the error, without calling.
- **Refresh** skips the fresh entry, at most once per line per CALLS_REFRESH_INTERVAL,
  and is single-flighted like any miss.
- **Changed** (`mark_views_stale`): the provider told us (a webhook event) that a line's
  calls of one kind changed; every entry of that kind asked for before then stops being
  fresh, and the next read asks the provider (entries stay, to be shown stale if it fails).
- **Rendered views** (`ViewCache`): a table screen's rendered list (rows, pager, export
  link) is stored too, keyed by everything that changes its HTML (`ViewCache.for_view`),
  and valid while the answers it was drawn from are fresh and the line's *generation* of
  every kind it shows is unchanged. `mark_views_stale(line, kind)` bumps a generation:
  a webhook's new calls, a follow-up mark or claim. A hit is one cache read.
- A broken cache (Redis down, the disk store unwritable or corrupt) degrades to "no
  cache" with a warning, never a 500.

Stored values are the parsed `CallBatch` (no raw body, so never the echoed `apikey`)
and plain numbers and codes; keys carry the fingerprint, never the key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from dashboard.lines import crypto
from dashboard.lines.crypto import KeyDecryptionError
from dashboard.lines.key_check import record_page_check
from dashboard.lines.models import Line
from dashboard.ops.metrics import BACKOFF_ACTIVATIONS, CACHE_RESULTS, SINGLE_FLIGHT_WAITS
from dashboard.ops.requestlog import annotate, request_log_field, request_memo
from dashboard.ops.safe_cache import safe_cache
from dashboard.smsmobileapi.client import build_params
from dashboard.smsmobileapi.conf import get_client
from dashboard.smsmobileapi.errors import (
    ERROR_TYPES,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
)
from dashboard.smsmobileapi.records import Call, CallBatch, CallKind, CallQuery

logger = logging.getLogger(__name__)

# Part of every key: bump it when the stored shape changes, and old entries become misses.
KEY_VERSION = "v1"
# Waiters poll the cache for the holder's answer: quickly at first, then less often.
POLL_FIRST = 0.005
POLL_MAX = 0.05


class StoredKeyUnreadable(UpstreamError):
    """The line's stored key cannot be decrypted: an encryption-key setup problem, not the provider's."""

    code = "stored_key_unreadable"
    user_message = _(
        "This line's stored API key cannot be decrypted with the configured "
        "FIELD_ENCRYPTION_KEYS. An administrator needs to restore the missing encryption key."
    )
    transient = False


@dataclass(frozen=True)
class Fetched:
    """A batch and where it came from.

    `source`: "upstream" (fetched now), "cache" (a fresh entry, perhaps another request's
    fetch this one waited for), "stale" (an older entry shown because the provider
    failed; `error` says how), or "backoff" (the line is paused and nothing is cached).
    `retry_in`: seconds until the provider is asked again, while the line is paused.
    """

    batch: CallBatch | None
    fetched_at: datetime | None
    error: UpstreamError | None = None
    stale: bool = False
    source: str = "upstream"
    retry_in: int | None = None


def clock() -> float:
    """Wall-clock seconds, comparable across processes (tests patch it)."""
    return time.time()


@dataclass(frozen=True)
class Policy:
    ttl: float
    stale_ttl: float
    lock_timeout: float
    backoff_base: float
    backoff_max: float
    refresh_interval: float

    @classmethod
    def from_settings(cls) -> Policy:
        return cls(
            ttl=settings.CALLS_CACHE_TTL,
            stale_ttl=settings.CALLS_CACHE_STALE_TTL,
            lock_timeout=settings.CALLS_CACHE_LOCK_TIMEOUT,
            backoff_base=settings.CALLS_BACKOFF_BASE,
            backoff_max=settings.CALLS_BACKOFF_MAX,
            refresh_interval=settings.CALLS_REFRESH_INTERVAL,
        )

    def backoff_seconds(self, failures: int, retry_after: float | None) -> float:
        grown = min(self.backoff_base * 2 ** min(failures - 1, 30), self.backoff_max)
        # The provider's own Retry-After is honoured even above our cap (the client caps
        # hostile values at an hour).
        return max(grown, retry_after or 0.0)


@dataclass(frozen=True)
class CacheKeys:
    fingerprint: str  # the line key's HMAC fingerprint (never the key): logs name lines by it
    entry: str
    lock: str
    backoff: str  # per line: a failing provider fails for every query
    refresh: str  # per line: the forced-refresh rate limit
    refused: str  # per line: a rejected key or expired subscription, remembered for a TTL
    changed: str  # per line and kind: when the provider last said its calls changed


def cache_keys(fingerprint: str, kind: CallKind, params: dict[str, str]) -> CacheKeys:
    """Keys for one upstream request. Params are hashed: they hold search text (spaces,
    any script, up to 100 characters) that some backends refuse in keys."""
    canonical = json.dumps(sorted(params.items()), ensure_ascii=False, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:32]
    line = f"calls:{KEY_VERSION}:{fingerprint}"
    entry = f"{line}:{kind}:{digest}"
    return CacheKeys(
        fingerprint=fingerprint,
        entry=entry,
        lock=f"{entry}:lock",
        backoff=f"{line}:backoff",
        refresh=f"{line}:refresh",
        refused=f"{line}:{kind}:refused",
        changed=changed_key(fingerprint, kind),
    )


def changed_key(fingerprint: str, kind: CallKind) -> str:
    return f"calls:{KEY_VERSION}:{fingerprint}:{kind}:changed"


def last_changed(fingerprint: str, kinds: tuple[CallKind, ...]) -> float | None:
    """When the provider last said any of `kinds` changed for this key (None: not lately),
    for caches built on top of these answers (the overview) to go stale with them."""
    found = _store.get_many([changed_key(fingerprint, kind) for kind in kinds])
    times = [v for v in found.values() if isinstance(v, (int, float))]
    return max(times) if times else None


@sensitive_variables()
def fetch_batch(line: Line, kind: CallKind, query: CallQuery, *, refresh: bool = False) -> Fetched:
    """One batch of `kind` calls for `line`: fresh from the cache, else fetched once for
    every identical concurrent request, else stale or an error while the provider fails."""
    try:
        api_key = line.get_api_key()
    except KeyDecryptionError:
        unreadable = Fetched(batch=None, fetched_at=None, error=StoredKeyUnreadable())
        _observe(unreadable)
        return unreadable
    # The provider's zone comes from the setting the client is built from (conf.py).
    params = build_params(kind, query, settings.SMSMOBILEAPI_TIMEZONE)
    keys = cache_keys(crypto.fingerprint(api_key), kind, params)
    # The fetch closes over the line, not the key: only frames marked sensitive ever hold
    # the key in clear, so a traceback or debug page cannot show it.
    flight = _Flight(keys, Policy.from_settings(), lambda: _list_calls(line, kind, query))
    fetched = flight.run(refresh=refresh)
    if refresh and fetched.source == "upstream" and fetched.error is None:
        # Refreshed for one viewer: the views others were shown from the older answer go.
        mark_views_stale(line, kind, calls_changed=False)
    _observe(fetched)
    return fetched


def oldest(known: datetime | None, other: datetime | None) -> datetime | None:
    """The older of two fetch times: a page built from several batches is as fresh as its
    oldest one (None: not known)."""
    if known is None or (other is not None and other < known):
        return other
    return known


# Fetched.source -> the request log's and metrics' vocabulary.
_RESULT = {"cache": "hit", "upstream": "miss", "stale": "stale"}


def _observe(fetched: Fetched) -> None:
    """Count every batch (tables, timeline, caller pages, reports alike) in the metrics,
    and list the request's distinct outcomes in its log line ("hit", "miss,hit", …).
    The request also remembers how fresh its oldest batch is (a rendered view drawn from
    them is stored no longer than that), and whether any failed (then it is not stored)."""
    _note_batch_for_views(fetched)
    result = "error" if fetched.error and not fetched.stale else _RESULT.get(fetched.source)
    result = result or fetched.source
    CACHE_RESULTS.labels(result=result).inc()
    seen = request_log_field("cache")
    if not seen:
        annotate(cache=result)
    elif result not in seen.split(","):
        annotate(cache=f"{seen},{result}")


@sensitive_variables()
def _list_calls(line: Line, kind: CallKind, query: CallQuery) -> CallBatch:
    api_key = line.get_api_key()
    try:
        batch = get_client().list_calls(api_key, kind, query)
    except UpstreamError as exc:
        record_page_check(line, kind, exc)
        raise
    record_page_check(line, kind, None)
    return batch


# Stored shapes --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    batch: CallBatch
    at: float  # clock() when fetched
    asked: float  # clock() when the provider was asked: what it can know of

    def fresh(self, now: float, ttl: float, changed_at: float | None) -> bool:
        """Within the TTL, and asked for after the last change the provider told us of."""
        if now - self.at >= ttl:
            return False
        return changed_at is None or self.asked > changed_at

    @property
    def fetched_at(self) -> datetime:
        return datetime.fromtimestamp(self.at, UTC)


# Calls are stored as plain tuples: unpickling frozen slotted dataclasses field by field
# is slow (it dominated a cache hit).
_ROW_FIELDS = tuple(f.name for f in dataclasses.fields(Call) if f.name != "kind")


def _pack_entry(batch: CallBatch, at: float, asked: float) -> dict[str, Any]:
    rows = tuple(tuple(getattr(c, name) for name in _ROW_FIELDS) for c in batch.calls)
    return {
        "at": at,
        "asked": asked,
        "fields": _ROW_FIELDS,
        "kind": batch.kind.value,
        "offset": batch.offset,
        "limit": batch.limit,
        "skipped_rows": batch.skipped_rows,
        "rows": rows,
    }


def _unpack_entry(value: object, now: float, stale_ttl: float) -> _Entry | None:
    """The stored entry, or None when absent, malformed, of another shape, or too old
    even to be shown stale."""
    if not isinstance(value, dict) or value.get("fields") != _ROW_FIELDS:
        return None
    at = value.get("at")
    if not isinstance(at, (int, float)) or now - at > stale_ttl:
        return None
    asked = value.get("asked", at)
    if not isinstance(asked, (int, float)):
        return None
    try:
        kind = CallKind(value["kind"])
        calls = []
        for row in value["rows"]:
            calls.append(Call(kind, *row))
        batch = CallBatch(
            kind=kind,
            calls=tuple(calls),
            offset=value["offset"],
            limit=value["limit"],
            skipped_rows=value["skipped_rows"],
        )
    except (KeyError, TypeError, ValueError):
        return None
    return _Entry(batch, at, asked)


_ERRORS_BY_CODE = {cls.code: cls for cls in ERROR_TYPES}


@dataclass(frozen=True)
class _Backoff:
    until: float
    failures: int
    code: str
    status: int | None = None
    retry_after: float | None = None

    def error(self) -> UpstreamError:
        """The error that started the pause, rebuilt for the banner."""
        cls = _ERRORS_BY_CODE.get(self.code, UpstreamError)
        if cls is RateLimited:
            return RateLimited(status=self.status, retry_after=self.retry_after)
        return cls(status=self.status)

    @classmethod
    def load(cls, value: object) -> _Backoff | None:
        if not isinstance(value, dict):
            return None
        try:
            return cls(**value)
        except TypeError:
            return None


_store = safe_cache
# Answers about the key itself, by code: remembered so a dead key is not asked again by
# every page view.
_REFUSALS: dict[object, type[UpstreamError]] = {
    code: cls for code, cls in _ERRORS_BY_CODE.items() if not cls.transient
}


# One fetch ------------------------------------------------------------------------------


class _Flight:
    """One request for one cache key: decides between cache, stale, waiting and fetching."""

    def __init__(self, keys: CacheKeys, policy: Policy, fetch: Callable[[], CallBatch]) -> None:
        self.keys = keys
        self.policy = policy
        self.fetch = fetch
        self.locked_at = 0.0  # time.monotonic() when this request took the lock
        self.changed_at: float | None = None  # when the provider last said this kind changed

    def run(self, *, refresh: bool) -> Fetched:
        now = clock()
        keys = [self.keys.entry, self.keys.backoff, self.keys.refused, self.keys.changed]
        found = _store.get_many(keys)
        changed_at = found.get(self.keys.changed)
        self.changed_at = changed_at if isinstance(changed_at, (int, float)) else None
        entry = _unpack_entry(found.get(self.keys.entry), now, self.policy.stale_ttl)
        backoff = _Backoff.load(found.get(self.keys.backoff))
        paused = backoff is not None and backoff.until > now
        refused = _REFUSALS.get(found.get(self.keys.refused))
        if refused is not None and not refresh:
            # The provider just refused this key for this kind: asking again within the TTL
            # would be refused again, once per person looking at the banner.
            return Fetched(batch=None, fetched_at=None, error=refused())
        newer_than = None
        if entry is not None and entry.fresh(now, self.policy.ttl, self.changed_at):
            # A fresh answer. Refresh skips it, unless the provider is paused or this line
            # was force-refreshed moments ago: then it is fresh enough.
            if not refresh or paused or not self._may_refresh():
                return self._from_cache(entry)
            newer_than = entry.at
        if paused:
            assert backoff is not None
            return self._while_paused(entry, backoff, now)
        return self._single_flight(entry, backoff, newer_than)

    def _may_refresh(self) -> bool:
        # One decision per line per request: a page built from several upstream queries
        # (timeline, caller page, overview) refreshes all of them or none.
        memo = request_memo()
        memo_key = ("refresh-granted", self.keys.refresh)
        if memo is not None and memo_key in memo:
            return memo[memo_key]
        granted = _store.add(self.keys.refresh, 1, self.policy.refresh_interval) is not False
        if memo is not None:
            memo[memo_key] = granted
        return granted

    # Single flight ------------------------------------------------------------------

    def _single_flight(
        self, entry: _Entry | None, backoff: _Backoff | None, newer_than: float | None
    ) -> Fetched:
        token = uuid.uuid4().hex
        deadline = time.monotonic() + self.policy.lock_timeout
        waited = False
        while True:
            acquired = _store.add(self.keys.lock, token, self.policy.lock_timeout)
            if acquired is None:  # no usable cache: no lock to share either
                return self._fetch_and_store(entry, backoff, token=None)
            if acquired:
                self.locked_at = time.monotonic()
                # Another request may have stored an answer (or failed and paused the line)
                # between our first read and taking the lock.
                settled = self._settled_meanwhile(newer_than)
                if settled is not None:
                    self._release(token)
                    return settled
                return self._fetch_and_store(entry, backoff, token=token)
            if not waited:
                waited = True
                SINGLE_FLIGHT_WAITS.inc()
            answer = self._wait_for_holder(deadline, newer_than)
            if answer is not None:
                return answer
            if time.monotonic() >= deadline:
                break
            # The holder let go without an answer (or crashed and its lock expired): retry.
        # Waited long enough: an older answer beats no answer, else fetch without the lock.
        if entry is not None:
            return self._stale(entry, UpstreamTimeout("waited for an identical request"))
        return self._fetch_and_store(entry, backoff, token=None)

    def _settled_meanwhile(self, newer_than: float | None) -> Fetched | None:
        keys = self.keys
        found = _store.get_many([keys.entry, keys.backoff])
        return self._settled(found, newer_than)

    def _settled(self, found: dict[str, Any], newer_than: float | None) -> Fetched | None:
        """A fresh enough answer, or the pause a failed fetch started; else None."""
        now = clock()
        entry = _unpack_entry(found.get(self.keys.entry), now, self.policy.stale_ttl)
        if (
            entry is not None
            and entry.fresh(now, self.policy.ttl, self.changed_at)
            and (newer_than is None or entry.at > newer_than)
        ):
            return self._from_cache(entry)
        backoff = _Backoff.load(found.get(self.keys.backoff))
        if backoff is not None and backoff.until > now:
            return self._while_paused(entry, backoff, now)
        return None

    def _wait_for_holder(self, deadline: float, newer_than: float | None) -> Fetched | None:
        """Poll until the holder stores an answer or a pause, or lets go of the lock."""
        pause = POLL_FIRST
        while time.monotonic() < deadline:
            time.sleep(pause)
            pause = min(pause * 2, POLL_MAX)
            keys = self.keys
            found = _store.get_many([keys.entry, keys.lock, keys.backoff])
            settled = self._settled(found, newer_than)
            if settled is not None:
                return settled
            if keys.lock not in found:
                return None
        return None

    def _release(self, token: str | None, *also: str) -> None:
        """Let go of our lock, deleting `also` in the same round trip."""
        doomed = list(also)
        if token is not None:
            # In Redis, the disk cache, local memory and the database a lock lives at least
            # its timeout (whole seconds, rounded up), so well within it the lock is still
            # ours. Near or past it, another request's may be there now: only a lock
            # holding our token goes. (Not atomic, and memcached's and the file cache's
            # locks are looser; the worst case is one extra fetch.)
            surely_ours = time.monotonic() - self.locked_at < self.policy.lock_timeout - 1
            if surely_ours or _store.get(self.keys.lock) == token:
                doomed.append(self.keys.lock)
        if doomed:
            _store.delete_many(doomed)

    # Fetching -----------------------------------------------------------------------

    def _fetch_and_store(
        self, entry: _Entry | None, backoff: _Backoff | None, *, token: str | None
    ) -> Fetched:
        settled: list[str] = []
        asked = clock()
        try:
            try:
                batch = self.fetch()
            except UpstreamError as exc:
                return self._failed(exc, entry, backoff)
            at = clock()
            # Stored before the lock is released: waiters find it when the lock goes.
            _store.set(self.keys.entry, _pack_entry(batch, at, asked), self.policy.stale_ttl)
            # A good answer ends any remembered refusal of this kind (another view's may
            # have landed while this one fetched) and the pause it found, with the lock.
            settled = [self.keys.refused] + ([self.keys.backoff] if backoff is not None else [])
        finally:
            self._release(token, *settled)
        return Fetched(batch=batch, fetched_at=datetime.fromtimestamp(at, UTC))

    def _failed(
        self, exc: UpstreamError, entry: _Entry | None, backoff: _Backoff | None
    ) -> Fetched:
        if not exc.transient:
            # The key or subscription, not the provider's health: nothing to pause, and an
            # older answer would hide the problem; remembered for a TTL (Refresh asks again).
            if exc.code in _REFUSALS:
                _store.set(self.keys.refused, exc.code, self.policy.ttl)
            return Fetched(batch=None, fetched_at=None, error=exc)
        # The latest record: another process may have failed since this request began.
        backoff = _Backoff.load(_store.get(self.keys.backoff)) or backoff
        now = clock()
        failures = backoff.failures + 1 if backoff is not None else 1
        retry_after = exc.retry_after if isinstance(exc, RateLimited) else None
        seconds = self.policy.backoff_seconds(failures, retry_after)
        paused = _Backoff(now + seconds, failures, exc.code, exc.status, retry_after)
        # Remembered past the pause, so the next failure doubles it.
        _store.set(self.keys.backoff, dataclasses.asdict(paused), seconds + self.policy.backoff_max)
        BACKOFF_ACTIVATIONS.inc()
        logger.warning(
            "SMSMobileAPI %s for line %s…: pausing its calls for %.0f s (failure %d)",
            exc.code,
            self.keys.fingerprint[:8],
            seconds,
            failures,
        )
        retry_in = math.ceil(seconds)
        if entry is not None:
            return self._stale(entry, exc, retry_in)
        return Fetched(batch=None, fetched_at=None, error=exc, retry_in=retry_in)

    # Answers ------------------------------------------------------------------------

    def _while_paused(self, entry: _Entry | None, backoff: _Backoff, now: float) -> Fetched:
        error = backoff.error()
        retry_in = max(1, math.ceil(backoff.until - now))
        if entry is not None:
            return self._stale(entry, error, retry_in)
        return Fetched(
            batch=None, fetched_at=None, error=error, source="backoff", retry_in=retry_in
        )

    @staticmethod
    def _from_cache(entry: _Entry) -> Fetched:
        return Fetched(batch=entry.batch, fetched_at=entry.fetched_at, source="cache")

    @staticmethod
    def _stale(entry: _Entry, error: UpstreamError, retry_in: int | None = None) -> Fetched:
        return Fetched(
            batch=entry.batch,
            fetched_at=entry.fetched_at,
            error=error,
            stale=True,
            source="stale",
            retry_in=retry_in,
        )


# Rendered views -------------------------------------------------------------------------
#
# A table screen's list (rows, pager, export link) is most of a page's cost and the same
# for everyone who may see the line: it is stored rendered. Each stored view carries the
# line's generation of every kind it shows, read before its data was: a generation bumped
# since (mark_views_stale) makes it a miss, so a view is never older than a mark, a claim
# or a webhook. It expires when the oldest provider answer it was drawn from stops being
# fresh, and only views drawn from good answers are stored (never an error or stale one).

# The kinds whose calls a screen shows: the missed tab says "answered later" from the
# incoming and outgoing lists; the timeline ("all") shows every kind.
VIEW_DEPENDS_ON: dict[str, tuple[CallKind, ...]] = {
    CallKind.MISSED: (CallKind.MISSED, CallKind.INCOMING, CallKind.OUTGOING),
    CallKind.INCOMING: (CallKind.INCOMING,),
    CallKind.OUTGOING: (CallKind.OUTGOING,),
    "all": (CallKind.MISSED, CallKind.INCOMING, CallKind.OUTGOING),
    # Not a screen: the "answered later" index (followup/later.py), stored the same way.
    "later": (CallKind.INCOMING, CallKind.OUTGOING),
}
# A generation outlives every view stored under it (they live a TTL at most); when one is
# evicted anyway, a new random one replaces it, which no stored view can hold.
GENERATION_TIMEOUT = 24 * 3600.0
# The controls' key names today (quick ranges): an hour, then drawn again.
CONTROLS_SECONDS = 3600.0
# A view about to expire is not worth a write.
MIN_VIEW_SECONDS = 1.0
_VIEWS_MEMO = "views:oldest-batch"  # request memo: (oldest fetch time or None, all clean)


def _generation_key(fingerprint: str, line_pk: int, kind: CallKind | str) -> str:
    # The key's fingerprint too: a replaced key leaves every view of the old one behind.
    return f"views:{KEY_VERSION}:{fingerprint}:{line_pk}:{kind}:generation"


@sensitive_variables()
def mark_views_stale(line: Line, kind: CallKind, *, calls_changed: bool = True) -> None:
    """This line's cached views of `kind` calls are stale: the next request for any of
    them renders afresh (every screen showing that kind: the timeline, and the missed
    tab for incoming/outgoing). `calls_changed` (a webhook said the provider has new
    calls): the provider's cached answers for the kind are asked again too; False when
    only our own state changed (follow-up marks or claims on missed calls)."""
    try:
        fingerprint = crypto.fingerprint(line.get_api_key())
    except KeyDecryptionError:
        return  # nothing is fetched, so no view is stored, for an unreadable key
    _store.set(_generation_key(fingerprint, line.pk, kind), uuid.uuid4().hex, GENERATION_TIMEOUT)
    if calls_changed:
        # Every entry of the kind asked for until now stops being fresh (_Entry.fresh); an
        # answer asked for in this same instant may predate the call: `fresh` needs later.
        _store.set(changed_key(fingerprint, kind), clock(), settings.CALLS_CACHE_STALE_TTL)


# Facts about a line that whole pages show beside its lists (the live view's "this line
# has a webhook"), kept under a generation of their own like the views: the change that
# alters one calls `mark_line_changed(line, name)` once committed, and the next read
# computes it afresh. Kept a few minutes at most, should a bump be lost to an outage.
LINE_FACT_SECONDS = 120.0
WEBHOOK_FACT = "webhook"


@sensitive_variables()
def line_fact(line: Line, name: str, compute: Callable[[], Any]) -> Any:
    """`compute()` for `line`, from the shared cache while the line's `name` generation
    holds (one read of two keys); computed and stored otherwise."""
    try:
        fingerprint = crypto.fingerprint(line.get_api_key())
    except KeyDecryptionError:
        return compute()
    generation_key = _generation_key(fingerprint, line.pk, name)
    fact_key = f"views:{KEY_VERSION}:{fingerprint}:{line.pk}:{name}:fact"
    found = _store.get_many([generation_key, fact_key])
    generation = found.get(generation_key)
    stored = found.get(fact_key)
    held = isinstance(stored, dict) and stored.get("generation") == generation
    if generation is not None and held and "value" in stored:
        return stored["value"]
    if generation is None:  # evicted or never bumped: a new one no stored fact holds
        token = uuid.uuid4().hex
        generation = token if _store.add(generation_key, token, GENERATION_TIMEOUT) else None
    # Read before computing: a change committed meanwhile bumps it, and this value loses.
    value = compute()
    if generation is not None:
        _store.set(fact_key, {"generation": generation, "value": value}, LINE_FACT_SECONDS)
    return value


@sensitive_variables()
def mark_line_changed(line: Line, name: str) -> None:
    """The line's `name` fact changed (see `line_fact`): the next read computes it."""
    try:
        fingerprint = crypto.fingerprint(line.get_api_key())
    except KeyDecryptionError:
        return
    _store.set(_generation_key(fingerprint, line.pk, name), uuid.uuid4().hex, GENERATION_TIMEOUT)


def _note_batch_for_views(fetched: Fetched) -> None:
    memo = request_memo()
    if memo is None:
        return
    oldest_at, clean = memo.get(_VIEWS_MEMO, (None, True))
    clean = clean and fetched.error is None and fetched.batch is not None
    memo[_VIEWS_MEMO] = (oldest(oldest_at, fetched.fetched_at), clean)


@dataclass(frozen=True)
class StoredView:
    """A rendered list and the few facts about its page the rest of the screen shows."""

    listing: str
    fetched_at: datetime | None
    first_index: int
    last_index: int
    has_prev: bool = False
    has_next: bool = False
    # A stored view was drawn from good answers only: no banner to show.
    source: str = "cache"
    error: None = None
    stale: bool = False
    retry_in: None = None
    partial_errors: tuple = ()


class ViewCache:
    """One screen's rendered list in the shared cache: `lookup()` before fetching
    anything, `store()` after rendering it."""

    def __init__(self, key: str, generation_keys: list[str]) -> None:
        self.key = key
        self.generation_keys = generation_keys
        self.generations: dict[str, str] | None = None  # as read before any data
        # The filter form above the list: drawn from the key's parts alone (no
        # data), so they hold for as long as the key does, whatever the generations.
        self.controls_key = f"{key}:controls"
        self.controls: str | None = None
        self.until: float | None = None  # of the value `lookup` found

    @classmethod
    @sensitive_variables()
    def for_view(
        cls, line: Line, screen: str, view: dict[str, object], viewer: tuple
    ) -> ViewCache | None:
        """The cache slot of `screen` ("missed", "incoming", "outgoing", "all") of `line`
        for `view` (the normalised filter and position) as drawn for `viewer`
        (`viewer_parts`). None when the line's key cannot be read (nothing to show)."""
        try:
            fingerprint = crypto.fingerprint(line.get_api_key())
        except KeyDecryptionError:
            return None
        parts = [
            # The release: code, templates and catalogues; and the settings lists show.
            settings.RELEASE,
            settings.EXPORT_MAX_ROWS,
            settings.CALLS_CACHE_TTL,
            # The line: its answers (by key fingerprint), its label and number region.
            line.pk,
            fingerprint,
            line.label,
            line.default_region,
            screen,
            sorted((str(k), str(v)) for k, v in view.items()),
            viewer,
        ]
        canonical = json.dumps(parts, ensure_ascii=False, separators=(",", ":"), default=str)
        digest = hashlib.sha256(canonical.encode()).hexdigest()[:32]
        kinds = VIEW_DEPENDS_ON[screen]
        return cls(
            f"views:{KEY_VERSION}:{fingerprint}:{line.pk}:{digest}",
            [_generation_key(fingerprint, line.pk, kind) for kind in kinds],
        )

    def lookup(self, *, controls: bool = False) -> Any:
        """The stored view (a `StoredView`, or what `store` was given) if every generation
        it was drawn under still holds (one read); with `controls`, the stored filter form
        too (in `self.controls`). `self.until`: when the stored value stops being fresh."""
        wanted = [self.key, *self.generation_keys] + ([self.controls_key] if controls else [])
        found = _store.get_many(wanted)
        stored_controls = found.get(self.controls_key)
        self.controls = stored_controls if isinstance(stored_controls, str) else None
        generations = {k: found[k] for k in self.generation_keys if k in found}
        missing = [k for k in self.generation_keys if k not in generations]
        for key in missing:  # evicted or never bumped: a new one no stored view holds
            token = uuid.uuid4().hex
            if _store.add(key, token, GENERATION_TIMEOUT):
                generations[key] = token
            else:
                generations[key] = _store.get(key)
        self.generations = generations
        stored = found.get(self.key)
        if (
            not missing
            and isinstance(stored, dict)
            and stored.get("generations") == generations
            and isinstance(stored.get("until"), (int, float))
            and clock() < stored["until"]
            and "view" in stored
        ):
            self.until = stored["until"]
            if isinstance(stored["view"], StoredView):
                annotate(cache="hit", view="hit")
            return stored["view"]
        return None

    def store(self, view: object, *, until: float | None = None) -> None:
        """Keep `view` for as long as the answers it was drawn from are fresh (and no
        later than `until`), if they all were good; under the generations read before
        them, so a change meanwhile wins."""
        memo = request_memo()
        oldest_at, clean = (None, False) if memo is None else memo.get(_VIEWS_MEMO, (None, False))
        if not clean or oldest_at is None or self.generations is None:
            return
        if any(v is None for v in self.generations.values()):
            return
        fresh_until = oldest_at.timestamp() + settings.CALLS_CACHE_TTL
        until = fresh_until if until is None else min(until, fresh_until)
        seconds = until - clock()
        if seconds < MIN_VIEW_SECONDS:
            return
        if isinstance(view, StoredView):
            annotate(view="stored")
        value = {"generations": self.generations, "until": until, "view": view}
        _store.set(self.key, value, seconds)

    def store_controls(self, html: str) -> None:
        _store.set(self.controls_key, html, CONTROLS_SECONDS)


def viewer_parts(request: Any) -> tuple:
    """What about the viewer changes a rendered list's HTML, for `ViewCache.for_view`:
    the language, the time zone, today in that zone ("Today 14:03"), the mount point
    (links). A new per-user rendering input (a date format, a permission that changes the
    markup) must be added here, or one viewer's list would be shown to another."""
    return (
        request.LANGUAGE_CODE,
        request.time_zone,
        timezone.localdate().isoformat(),
        request.META.get("SCRIPT_NAME", ""),
    )
