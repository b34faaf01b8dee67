"""A tiny publish/subscribe seam: the client reports each upstream call, and observers
(metrics, the request log) listen without the client knowing about them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from dashboard.smsmobileapi.records import CallKind

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class UpstreamCall:
    kind: CallKind
    outcome: str  # "ok", or the UpstreamError code
    seconds: float
    status: int | None = None


_listeners: list[Callable[[UpstreamCall], None]] = []


def subscribe(listener: Callable[[UpstreamCall], None]) -> None:
    """Register `listener` once; it is called synchronously after every upstream call."""
    if listener not in _listeners:
        _listeners.append(listener)


def publish(event: UpstreamCall) -> None:
    for listener in tuple(_listeners):
        try:
            listener(event)
        except Exception:  # an observer must never break a page
            logger.exception("upstream call observer failed")
