"""The inbox as CSV: exactly the callers the view shows (same filters, same order, every
page, up to `EXPORT_MAX_ROWS`), written by the reports' one CSV writer
(`reports.export.write_csv`) in either of its variants: spreadsheet-safe (the default) or
plain RFC 4180 for import into other tools (`?format=plain`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from dashboard.inbox.models import Episode
from dashboard.reports.export import (
    SPREADSHEET,
    Variant,
    cell,
    hms,
    phone_cell,
    time_cell,
    write_csv,
)


def header(tz_name: str, variant: Variant = SPREADSHEET) -> list[str]:
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
    return [cell(c, variant) for c in columns]


def row(episode: Episode, zone: ZoneInfo, variant: Variant = SPREADSHEET) -> list[str]:
    """One caller's cells, in the columns `header` names."""
    to_callback = episode.time_to_callback
    due = episode.due_at if episode.is_open else None
    return [
        phone_cell(episode.number, variant),
        cell(episode.name, variant),
        cell(episode.get_status_display(), variant),
        cell(episode.owner_name, variant),
        cell(episode.attempts, variant),
        time_cell(episode.first_attempt_at, zone, variant),
        time_cell(episode.last_attempt_at, zone, variant),
        cell(hms(int(to_callback.total_seconds())) if to_callback is not None else "", variant),
        time_cell(due, zone, variant) if due else "",
        cell(episode.note, variant),
    ]


class CappedEpisodes:
    """The view's episodes, at most `max_rows` of them; after iterating, `truncated` says
    whether there were more (the `ReadingOutcome` the writer's closing line reads)."""

    error = None  # a database read either works or raises: no partial provider failure

    def __init__(self, episodes: QuerySet[Episode], max_rows: int):
        self.episodes = episodes
        self.max_rows = max_rows
        self.truncated = False

    def __iter__(self) -> Iterator[Episode]:
        # One row past the cap, to know it was reached.
        rows = self.episodes[: self.max_rows + 1].iterator(chunk_size=500)
        for index, episode in enumerate(rows):
            if index == self.max_rows:
                self.truncated = True
                return
            yield episode


def stream_csv(
    episodes: CappedEpisodes, *, tz_name: str, language: str | None, variant: Variant
) -> Iterator[str]:
    zone = ZoneInfo(tz_name)

    def cells(chunk: list[Episode]) -> Iterable[list[str]]:
        return (row(episode, zone, variant) for episode in chunk)

    return write_csv(
        episodes,
        episodes,
        columns=lambda: header(tz_name, variant),
        cells=cells,
        language=language,
        variant=variant,
    )
