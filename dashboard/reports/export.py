"""CSV export that spreadsheets open correctly and safely.

- UTF-8 with a byte-order mark: without it Excel reads UTF-8 as the local code page and
  Japanese names turn into mojibake.
- Every cell is neutralised against formula injection (OWASP "CSV Injection"): a value
  starting with `=`, `+`, `-`, `@`, tab or CR gets a leading single quote, so spreadsheets
  show it as text instead of evaluating it. Contact names come from people's phones and are
  attacker-controlled. The quote is visible in the cell: that is the price of a rule that
  holds in every spreadsheet, where `="…"` wrappers are themselves formulas and only some
  programs honour other tricks.
- Phone numbers stay text: `+32470…` is neutralised like any `+` value ('+32470…), and a
  number made only of digits and phone punctuation (`0470 12 34 56`, `32470123456`) gets
  the same quote, so no spreadsheet drops the `+` or the leading 0 or shows 3.2E+10.
- Times are in the viewer's zone, named in the header, as `YYYY-MM-DD HH:MM:SS` (which
  spreadsheets read as a date-time in any locale); durations in seconds and as h:mm:ss.

The other variant, `PLAIN` ("for import into other tools": a CRM, a script), is RFC 4180
as it is: UTF-8 without a BOM, CRLF line ends, quotes only where a cell needs them, every
value exactly as the provider sent it (no quote before `+32…` or `=…`) and times in ISO
8601 with their offset. It is unsafe to open in a spreadsheet, and the page says so.

Every export is written by `write_csv` (the call tables' here, the inbox's in
dashboard/inbox/export.py), so both variants hold for all of them.

Where the screen shows follow-up (the missed tab, the timeline), the export has its
columns too: the mark, who set it and when, its note, and when the caller was reached
later (dashboard/followup/state.py, read per chunk of rows).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from django.http import HttpResponse, HttpResponseBadRequest
from django.utils import translation
from django.utils.formats import number_format
from django.utils.text import slugify
from django.utils.translation import gettext as _

from dashboard.smsmobileapi.errors import UpstreamError
from dashboard.smsmobileapi.records import Call, CallKind

BOM = "\ufeff"
# OWASP's list, plus the full-width forms: Japanese spreadsheets may normalise them to
# their ASCII twins on input, and quoting them costs nothing.
FORMULA_STARTS = frozenset("=+-@\t\r＝＋－＠")
# What a spreadsheet could read as a number (and so strip a leading 0 or a +).
_NUMBER_LIKE = re.compile(r"[\d\s+\-().]+")
# C0 controls other than tab, LF and CR, and DEL: garbage from broken phones; NUL even
# truncates the cell in some spreadsheets.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CHUNK_ROWS = 200  # rows per streamed chunk: fewer, larger writes


def neutralise(value: object) -> str:
    """The cell as text that no spreadsheet evaluates as a formula."""
    text = _CONTROLS.sub("", "" if value is None else str(value))
    # Leading spaces or line breaks before a formula character are skipped by some
    # spreadsheets on import, so look past them too.
    if text[:1] in FORMULA_STARTS or text.lstrip(" \n\t\r")[:1] in FORMULA_STARTS:
        return "'" + text
    return text


def number_cell(number: str) -> str:
    """A phone number that stays text, digits and `+` intact."""
    text = _CONTROLS.sub("", number)
    if text and _NUMBER_LIKE.fullmatch(text) and text[:1] not in FORMULA_STARTS:
        return "'" + text
    return neutralise(text)


def hms(seconds: int | None) -> str:
    if seconds is None:
        return ""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


@dataclass(frozen=True)
class Variant:
    """How the cells are written: for a spreadsheet (safe) or for another tool (plain)."""

    name: str
    safe: bool

    @property
    def suffix(self) -> str:
        return "" if self.safe else "-plain"


SPREADSHEET = Variant("spreadsheet", safe=True)
PLAIN = Variant("plain", safe=False)
VARIANTS = {v.name: v for v in (SPREADSHEET, PLAIN)}


def variant_for(value: str | None) -> Variant | None:
    """`?format=` of an export link: absent is the spreadsheet-safe default; an unknown
    value is None (the view refuses it in plain words)."""
    return SPREADSHEET if not value else VARIANTS.get(value)


def unknown_format() -> HttpResponse:
    """The 400 of an export link with a `format` the dashboard does not make."""
    return HttpResponseBadRequest(
        _("This export format is not one the dashboard makes. Use the links above the table."),
        content_type="text/plain; charset=utf-8",
    )


# The follow-up states of a chunk of calls (a `FollowUps`: `.for_call(call)`), what the
# screen's follow-up column shows.
FollowUpLookup = Callable[[list[Call]], Any]


def header(
    kind: CallKind | None, tz_name: str, *, followup: bool = False, variant: Variant = SPREADSHEET
) -> list[str]:
    """The columns of `kind`'s export (None: every kind, the timeline)."""
    columns = [
        _("Time (%(zone)s)") % {"zone": tz_name},
        _("Kind"),
        _("Number"),
        _("Name"),
    ]
    if kind is not CallKind.MISSED:
        columns += [_("Duration (seconds)"), _("Duration (h:mm:ss)"), _("Location")]
    if followup:
        columns += [
            _("Follow-up"),
            _("Marked by"),
            _("Marked at (%(zone)s)") % {"zone": tz_name},
            _("Note"),
            _("Answered later at (%(zone)s)") % {"zone": tz_name},
        ]
    return [cell(c, variant) for c in columns]


def row(
    call: Call,
    zone: ZoneInfo,
    *,
    kind: CallKind | None = None,
    followup: object = None,
    with_followup: bool = False,
    variant: Variant = SPREADSHEET,
) -> list[str]:
    """One call's cells, in the columns `header(kind, …)` names."""
    cells = [
        time_cell(call.started_at, zone, variant),
        cell(call.kind.label, variant),
        phone_cell(call.number, variant),
        cell(call.name, variant),
    ]
    if kind is not CallKind.MISSED:  # every kind's table but Missed has these columns
        has_duration = call.kind is not CallKind.MISSED
        cells += [
            cell("" if call.duration is None or not has_duration else call.duration, variant),
            cell(hms(call.duration) if has_duration else "", variant),
            cell(call.location if has_duration else "", variant),
        ]
    if with_followup:
        cells += _followup_cells(followup, zone, variant)
    return cells


def _followup_cells(state, zone: ZoneInfo, variant: Variant) -> list[str]:
    """Status, by, at, note, answered later at; blanks for a call that has no follow-up
    (not a missed call, or a hidden number)."""
    if state is None:
        return [""] * 5
    mark = state.mark
    later = state.later
    if mark is not None:
        status = mark.get_status_display()
    elif later.answered:
        status = _("Answered later")
    else:
        status = _("To follow up")
    return [
        cell(status, variant),
        cell(mark.marked_by_name if mark else "", variant),
        time_cell(mark.marked_at, zone, variant) if mark else "",
        cell(mark.note if mark else "", variant),
        time_cell(later.at, zone, variant) if later.answered and later.at else "",
    ]


def cell(value: object, variant: Variant) -> str:
    """A text cell: neutralised for a spreadsheet, as it is for another tool."""
    return neutralise(value) if variant.safe else _plain(value)


def _plain(value: object) -> str:
    """The value as sent; only the control characters no CSV reader expects are dropped."""
    return _CONTROLS.sub("", "" if value is None else str(value))


def phone_cell(number: str, variant: Variant) -> str:
    """A phone number: kept text for a spreadsheet, untouched for another tool."""
    return number_cell(number) if variant.safe else _plain(number)


def time_cell(moment, zone: ZoneInfo, variant: Variant) -> str:
    """A moment in `zone`: `YYYY-MM-DD HH:MM:SS` for a spreadsheet, ISO 8601 otherwise."""
    local = moment.astimezone(zone)
    if variant.safe:
        return neutralise(local.strftime("%Y-%m-%d %H:%M:%S"))
    return local.isoformat(timespec="seconds")


class ReadingOutcome(Protocol):
    """What the stream needs to know once the rows are exhausted (see `CallReader`)."""

    truncated: bool
    error: UpstreamError | None
    max_rows: int


class _Echo:
    """csv.writer needs a file; this one hands each formatted line back."""

    def write(self, value: str) -> str:
        return value


def stream_csv(
    calls: Iterable[Call],
    outcome: ReadingOutcome,
    *,
    kind: CallKind | None,
    tz_name: str,
    language: str | None,
    followups: FollowUpLookup | None = None,
    variant: Variant = SPREADSHEET,
) -> Iterator[str]:
    """A table's export (`write_csv`): `kind` None is the timeline (every kind);
    `followups`, when the screen shows follow-up, gives the states of each chunk of rows."""
    zone = ZoneInfo(tz_name)
    with_followup = followups is not None

    def cells(chunk: list[Call]) -> Iterator[list[str]]:
        states = followups(chunk) if followups is not None else None
        for call in chunk:
            yield row(
                call,
                zone,
                kind=kind,
                followup=states.for_call(call) if states is not None else None,
                with_followup=with_followup,
                variant=variant,
            )

    return write_csv(
        calls,
        outcome,
        columns=lambda: header(kind, tz_name, followup=with_followup, variant=variant),
        cells=cells,
        language=language,
        variant=variant,
    )


def write_csv[T](
    items: Iterable[T],
    outcome: ReadingOutcome,
    *,
    columns: Callable[[], list[str]],
    cells: Callable[[list[T]], Iterable[list[str]]],
    language: str | None,
    variant: Variant,
) -> Iterator[str]:
    """Every export's one CSV writer: BOM (spreadsheet variant) and the header `columns()`
    gives, the rows `cells(chunk)` gives for each chunk of `items`, then one closing line
    if the cap or an error cut it short (`outcome`, read once `items` are exhausted).

    Runs after the view has returned (streaming), when the request's language is no
    longer active: `language` brings it back for the header and closing line.
    """
    # Spreadsheet: every cell quoted, as a spreadsheet whose list separator is `;`
    # (Belgian, French, German and Dutch locales) would otherwise split `Bob;=1+2` and
    # evaluate the second half. Plain: RFC 4180's own minimal quoting.
    quoting = csv.QUOTE_ALL if variant.safe else csv.QUOTE_MINIMAL
    writer = csv.writer(_Echo(), quoting=quoting, lineterminator="\r\n")
    with translation.override(language):
        start = BOM if variant.safe else ""
        yield start + writer.writerow(columns())
        for chunk in _chunks(items):
            yield "".join(writer.writerow(cells_of_row) for cells_of_row in cells(chunk))
        closing = None
        if outcome.truncated:
            closing = cap_message(outcome.max_rows)
        elif outcome.error is not None:
            closing = _("Export incomplete: %(reason)s") % {"reason": outcome.error.user_message}
        if closing:
            yield writer.writerow([cell(closing, variant)])


def _chunks[T](items: Iterable[T]) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= CHUNK_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def cap_message(max_rows: int) -> str:
    return _(
        "Export stopped after %(n)s rows, the most one export holds. "
        "Narrow the dates or the search to export the rest."
    ) % {"n": number_format(max_rows, force_grouping=True)}


def filename(label: str, kind: CallKind | str, today: date, variant: Variant = SPREADSHEET) -> str:
    """'support-phone-missed-2026-11-20.csv'; '…-plain.csv' for the import variant."""
    name = getattr(kind, "value", kind)
    return f"{slugify(label) or 'line'}-{name}-{today.isoformat()}{variant.suffix}.csv"
