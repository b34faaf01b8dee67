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
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Protocol
from zoneinfo import ZoneInfo

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


def header(kind: CallKind, tz_name: str) -> list[str]:
    columns = [
        _("Time (%(zone)s)") % {"zone": tz_name},
        _("Kind"),
        _("Number"),
        _("Name"),
    ]
    if kind is not CallKind.MISSED:
        columns += [_("Duration (seconds)"), _("Duration (h:mm:ss)"), _("Location")]
    return [neutralise(c) for c in columns]


def row(call: Call, zone: ZoneInfo) -> list[str]:
    local = call.started_at.astimezone(zone)
    cells = [
        neutralise(local.strftime("%Y-%m-%d %H:%M:%S")),
        neutralise(call.kind.label),
        number_cell(call.number),
        neutralise(call.name),
    ]
    if call.kind is not CallKind.MISSED:
        cells += [
            neutralise("" if call.duration is None else call.duration),
            neutralise(hms(call.duration)),
            neutralise(call.location),
        ]
    return cells


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
    kind: CallKind,
    tz_name: str,
    language: str | None,
) -> Iterator[str]:
    """BOM and header, the rows, then one closing line if the cap or an error cut it short.

    Runs after the view has returned (streaming), when the request's language is no
    longer active: `language` brings it back for the header and closing line.
    """
    # Every cell quoted: a spreadsheet whose list separator is `;` (Belgian, French, German
    # and Dutch locales) would otherwise split `Bob;=1+2` and evaluate the second half.
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_ALL)
    zone = ZoneInfo(tz_name)
    with translation.override(language):
        yield BOM + writer.writerow(header(kind, tz_name))
        chunk: list[str] = []
        for call in calls:
            chunk.append(writer.writerow(row(call, zone)))
            if len(chunk) >= CHUNK_ROWS:
                yield "".join(chunk)
                chunk = []
        if outcome.truncated:
            chunk.append(writer.writerow([neutralise(cap_message(outcome.max_rows))]))
        elif outcome.error is not None:
            message = _("Export incomplete: %(reason)s") % {"reason": outcome.error.user_message}
            chunk.append(writer.writerow([neutralise(message)]))
        if chunk:
            yield "".join(chunk)


def cap_message(max_rows: int) -> str:
    return _(
        "Export stopped after %(n)s rows, the most one export holds. "
        "Narrow the dates or the search to export the rest."
    ) % {"n": number_format(max_rows, force_grouping=True)}


def filename(label: str, kind: CallKind, today: date) -> str:
    return f"{slugify(label) or 'line'}-{kind.value}-{today.isoformat()}.csv"
