"""One hub per live process: finds newly stored events and hands each to the open streams
of its line. Redis pub/sub (or, in the same process, the receiver itself) wakes it at
once; without either it reads the database every LIVE_POLL_SECONDS. Either way the
database is the source: a wake-up carries no event, so a lost message loses nothing.

One read serves every stream in the process, so 200 open views cost what one does.

Each round also hands the streams their line's open count when it changed (a teammate's
claim or mark, callback detection: dashboard/inbox/counts.py): one cache read of the
streamed lines' inbox generations, and one count query for the lines whose generation
moved, or that the hub does not know yet. A new stream gets its line's count on the next
round (the page may have been drawn before a change). Once per LIVE_HEARTBEAT_SECONDS
every streamed line is counted again, so a bump lost to a cache outage only delays.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from django.conf import settings

from dashboard.inbox import counts
from dashboard.live import events
from dashboard.live.database import live_read

logger = logging.getLogger("dashboard.live")
CHANNEL = "calls-dashboard:live"
QUEUE_SIZE = 1000


class Hub:
    def __init__(self) -> None:
        self.streams: dict[int, set[asyncio.Queue]] = {}
        self.last_id = 0
        # Per streamed line: the inbox generation last read and the open count last sent.
        self.generations: dict[int, object] = {}
        self.open: dict[int, int] = {}
        self._fresh: dict[int, set[asyncio.Queue]] = {}  # streams owed their line's count
        self._recounted = 0.0
        self.loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._redis_task: asyncio.Task | None = None

    # Streams ------------------------------------------------------------------------

    async def subscribe(self, line_id: int) -> asyncio.Queue:
        self._ensure_running()
        if not self.streams:
            # Idle until now: start from what is stored, not from an old position.
            self.last_id = await live_read(events.latest_id)()
        queue: asyncio.Queue = asyncio.Queue(maxsize=QUEUE_SIZE)
        self.streams.setdefault(line_id, set()).add(queue)
        self._fresh.setdefault(line_id, set()).add(queue)
        return queue

    def unsubscribe(self, line_id: int, queue: asyncio.Queue) -> None:
        queues = self.streams.get(line_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self.streams[line_id]
                # Not streamed: nobody updates these meanwhile, so they cannot be trusted.
                self.generations.pop(line_id, None)
                self.open.pop(line_id, None)
        fresh = self._fresh.get(line_id)
        if fresh is not None:
            fresh.discard(queue)
            if not fresh:
                del self._fresh[line_id]

    # Waking -------------------------------------------------------------------------

    def wake(self) -> None:
        """From any thread of this process: look for new events now."""
        loop = self.loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    def _ensure_running(self) -> None:
        loop = asyncio.get_running_loop()
        if self.loop is not loop:
            # A server has one loop for its life; a new one (tests, a restarted worker)
            # means the old tasks and streams died with theirs.
            self.loop, self.streams, self._wake = loop, {}, asyncio.Event()
            self.generations, self.open, self._fresh = {}, {}, {}
            self._task = self._redis_task = None
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="live-hub")
            if settings.LIVE_REDIS_URL:
                self._redis_task = asyncio.create_task(self._listen(), name="live-hub-redis")

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=settings.LIVE_POLL_SECONDS)
            self._wake.clear()
            if not self.streams:
                continue
            try:
                await self._deliver()
                await self._deliver_counts()
            except Exception:  # a database hiccup must not end the hub for every stream
                logger.exception("live: reading new events failed; trying again")
                await asyncio.sleep(settings.LIVE_POLL_SECONDS)

    async def _deliver(self) -> None:
        while True:
            found = await live_read(events.after)(self.last_id, line_ids=set(self.streams))
            for event in found:
                self.last_id = max(self.last_id, event["id"])
                for queue in list(self.streams.get(event["line"], ())):
                    if queue.full():  # a stream that stopped reading: it reconnects and resumes
                        continue
                    queue.put_nowait(event)
            if len(found) < 500:
                return

    async def _deliver_counts(self) -> None:
        line_ids = set(self.streams)
        fresh, self._fresh = self._fresh, {}
        every = time.monotonic() - self._recounted >= settings.LIVE_HEARTBEAT_SECONDS
        try:
            # A copy: streams may leave (and their line's entry go) while this reads.
            now, found = await live_read(counts.changed_counts)(
                line_ids, dict(self.generations), every=every, also=set(fresh)
            )
        except BaseException:
            for line_id, queues in fresh.items():  # still owed: the next round tries again
                self._fresh.setdefault(line_id, set()).update(queues)
            raise
        if every:
            self._recounted = time.monotonic()
        for line_id in line_ids & set(self.streams):  # a line may have lost its streams
            self.generations[line_id] = now.get(line_id)
            changed = line_id in found and found[line_id] != self.open.get(line_id)
            if line_id in found:
                self.open[line_id] = found[line_id]
            if line_id not in self.open:
                continue
            streams = self.streams[line_id] if changed else fresh.get(line_id, set())
            item = events.OpenCount(line_id, self.open[line_id])
            for queue in list(streams & self.streams[line_id]):
                if not queue.full():
                    queue.put_nowait(item)

    async def _listen(self) -> None:
        """Wake on every message of the Redis channel; reconnect after a failure."""
        import redis.asyncio as redis

        while True:
            client = redis.Redis.from_url(settings.LIVE_REDIS_URL)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self._wake.set()
            except Exception as exc:
                # The database poll carries on meanwhile: events arrive, a little later.
                logger.warning(
                    "live: Redis channel lost (%s); polling until it is back", type(exc).__name__
                )
                await asyncio.sleep(2)
            finally:
                with contextlib.suppress(Exception):
                    await client.aclose()


_hub: Hub | None = None


def get_hub() -> Hub:
    """This process's hub (made on first use, in the process that streams)."""
    global _hub
    if _hub is None:
        _hub = Hub()
    return _hub


def running_hub() -> Hub | None:
    """The hub, if this process streams; None in a process that only serves pages."""
    return _hub if _hub is not None and _hub.loop is not None else None
