"""The inbox as CSV: exactly the callers the view shows (same filters, same order, every
page), with the reports' CSV rules (BOM, formula-safe cells, numbers kept as text)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.utils.text import slugify
from django.utils.translation import gettext as _

from dashboard.inbox.models import Episode
from dashboard.reports.export import BOM, hms, neutralise, number_cell


class _Echo:
    def write(self, value: str) -> str:
        return value


def header(tz_name: str) -> list[str]:
    columns = [
        _("Number"),
        _("Name"),
        _("Status"),
        _("Owner"),
        _("Attempts"),
        _("First attempt (%(zone)s)") % {"zone": tz_name},
        _("Last attempt (%(zone)s)") % {"zone": tz_name},
        _("Time to callback (h:mm:ss)"),
        _("Due (%(zone)s)") % {"zone": tz_name},
        _("Note"),
    ]
    return [neutralise(c) for c in columns]


def _local(value: datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def row(episode: Episode, zone: ZoneInfo) -> list[str]:
    to_callback = episode.time_to_callback
    return [
        number_cell(episode.number),
        neutralise(episode.name),
        neutralise(episode.get_status_display()),
        neutralise(episode.owner_name),
        neutralise(episode.attempts),
        neutralise(_local(episode.first_attempt_at, zone)),
        neutralise(_local(episode.last_attempt_at, zone)),
        neutralise(hms(int(to_callback.total_seconds())) if to_callback is not None else ""),
        neutralise(_local(episode.due_at, zone) if episode.is_open else ""),
        neutralise(episode.note),
    ]


def stream_csv(episodes: Iterable[Episode], tz_name: str) -> Iterator[str]:
    writer = csv.writer(_Echo())
    zone = ZoneInfo(tz_name)
    yield BOM + writer.writerow(header(tz_name))
    for episode in episodes:
        yield writer.writerow(row(episode, zone))


def filename(label: str, today: date) -> str:
    return f"{slugify(label) or 'line'}-inbox-{today.isoformat()}.csv"
