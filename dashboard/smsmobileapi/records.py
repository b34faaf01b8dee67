"""Typed records the rest of the dashboard works with, independent of the provider's JSON."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from django.utils.translation import gettext_lazy as _


class CallKind(StrEnum):
    MISSED = "missed"
    INCOMING = "incoming"
    OUTGOING = "outgoing"

    @property
    def label(self) -> str:
        return str(_KIND_LABELS[self])

    @property
    def sortable(self) -> bool:
        """Missed calls come newest first, always: the provider has no sort for them."""
        return self is not CallKind.MISSED


_KIND_LABELS = {
    CallKind.MISSED: _("Missed"),
    CallKind.INCOMING: _("Incoming"),
    CallKind.OUTGOING: _("Outgoing"),
}


class SortField(StrEnum):
    """The dashboard's sort vocabulary; the client maps it to the provider's whitelist.

    The row-creation time is deliberately absent: its upstream name is unverified.
    """

    DATE = "date"
    DURATION = "duration"
    NUMBER = "number"
    NAME = "name"
    LOCATION = "location"


@dataclass(frozen=True, slots=True)
class Call:
    kind: CallKind
    number: str
    name: str  # "" when the phone had no contact name
    started_at: datetime  # aware, UTC
    duration: int | None = None  # seconds; None for missed calls or when unknown
    location: str = ""
    created_at: datetime | None = None  # when the provider stored the row
    guid: str = ""  # the provider's id of the call: webhooks carry it, the list endpoints do not


@dataclass(frozen=True, slots=True)
class CallQuery:
    """What to ask for, in our terms; already validated by whoever built it."""

    search: str = ""
    date_from: date | None = None  # inclusive calendar days in `tz_name`
    date_to: date | None = None
    tz_name: str = "UTC"
    sort: SortField = SortField.DATE
    descending: bool = True
    offset: int = 0
    limit: int = 50

    def replace(self, **changes: object) -> CallQuery:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class CallBatch:
    """One upstream answer: the rows at `offset`, at most `limit` of them."""

    kind: CallKind
    calls: tuple[Call, ...]
    offset: int
    limit: int
    skipped_rows: int = 0  # rows too malformed to show (logged, never fatal)

    @property
    def sent(self) -> int:
        """Rows the provider sent, shown or not: offsets and "is this the last page" count
        these, or one malformed row would end a listing early."""
        return len(self.calls) + self.skipped_rows
