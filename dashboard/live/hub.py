"""One hub per live process: finds newly stored events and hands each to the open streams
of its line. Redis pub/sub (or, in the same process, the receiver itself) wakes it at
once; without either it reads the database every LIVE_POLL_SECONDS. Either way the
database is the source: a wake-up carries no event, so a lost message loses nothing.

One read serves every stream in the process, so 200 open views cost what one does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from django.conf import settings

from dashboard.live import events
from dashboard.live.database import live_read

logger = logging.getLogger("dashboard.live")
CHANNEL = "calls-dashboard:live"
QUEUE_SIZE = 1000


class Hub:
    def __init__(self) -> None:
        self.streams: dict[int, set[asyncio.Queue]] = {}
        self.last_id = 0
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
        return queue

    def unsubscribe(self, line_id: int, queue: asyncio.Queue) -> None:
        queues = self.streams.get(line_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self.streams[line_id]

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
