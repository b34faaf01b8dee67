"""Telling live processes that a line has a new stored event (called after the delivery
was answered). Never raises: a missed wake-up only delays the row until the next poll."""

from __future__ import annotations

import functools
import logging

from django.conf import settings

from dashboard.live.hub import CHANNEL, running_hub

logger = logging.getLogger("dashboard.live")


@functools.cache
def _redis(url: str):
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)


def announce(line_id: int) -> None:
    """Wake this process's hub (the in-process channel) and every other through Redis."""
    hub = running_hub()
    if hub is not None:
        hub.wake()
    if settings.LIVE_REDIS_URL:
        try:
            _redis(settings.LIVE_REDIS_URL).publish(CHANNEL, str(line_id))
        except Exception as exc:
            logger.warning("live: could not publish to Redis (%s)", type(exc).__name__)
