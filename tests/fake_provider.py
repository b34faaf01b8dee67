"""A tiny in-memory provider for tests that need exact, hand-written call histories."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from dashboard.smsmobileapi import conf
from dashboard.smsmobileapi.demo.app import like
from dashboard.smsmobileapi.records import Call, CallBatch, CallKind, CallQuery

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def call(kind: str, number: str, at: datetime, *, name: str = "", duration: int | None = None):
    kind = CallKind(kind)
    if duration is None and kind is not CallKind.MISSED:
        duration = 60
    return Call(kind=kind, number=number, name=name, started_at=at, duration=duration)


class FakeProvider:
    """Answers `list_calls` from fixed calls per API key: LIKE-style search on number or
    name, newest first, offset/limit; records every query."""

    def __init__(self, calls_by_key: dict[str, list[Call]]):
        self.calls_by_key = calls_by_key
        self.queries: list[tuple[str, CallKind, CallQuery]] = []

    def list_calls(self, api_key: str, kind: CallKind, query: CallQuery) -> CallBatch:
        self.queries.append((api_key, kind, query))
        rows = [c for c in self.calls_by_key.get(api_key, []) if c.kind is kind]
        if query.search:
            match = like(query.search)  # the demo provider's LIKE (case- and accent-blind)
            rows = [c for c in rows if match(c.number) or match(c.name)]
        rows.sort(key=lambda c: c.started_at, reverse=True)
        page = rows[query.offset : query.offset + query.limit]
        return CallBatch(kind=kind, calls=tuple(page), offset=query.offset, limit=query.limit)


@contextmanager
def provider(calls_by_key: dict[str, list[Call]]) -> Iterator[FakeProvider]:
    fake = FakeProvider(calls_by_key)
    previous = conf.set_client(fake)  # type: ignore[arg-type]
    try:
        yield fake
    finally:
        conf.set_client(previous)
