"""The overview page (lazily loaded content) and the CSV export of a call table."""

from __future__ import annotations

import functools
from datetime import date, timedelta
from itertools import chain

from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from dashboard.calls.filters import CallFilterForm
from dashboard.followup.later import later_contacts
from dashboard.followup.state import followups_for
from dashboard.inbox.stats import callback_stats
from dashboard.inbox.targets import target_for
from dashboard.lines.access import line_view
from dashboard.lines.audit import record_line_access
from dashboard.lines.models import Line
from dashboard.reports import export
from dashboard.reports.overview import DateRange, resolve_range
from dashboard.reports.reading import CallReader, TimelineReader
from dashboard.reports.service import build_overview
from dashboard.smsmobileapi.records import CallKind

# A longer range makes a daily chart of unreadable slivers and a very long upstream read.
MAX_DAYS = 366
QUICK_DAYS = (7, 30, 90)


def _overview_context(request: HttpRequest, line: Line) -> dict:
    call_filter = CallFilterForm(request.GET, region=line.default_region).to_filter()
    problems = [p for p in call_filter.problems]
    today = timezone.localdate()  # in the viewer's zone (UserTimezoneMiddleware)
    start, end, shortened = resolve_range(
        call_filter.date_from, call_filter.date_to, today, max_days=MAX_DAYS
    )
    if shortened:
        problems.append(
            _("An overview covers at most %(n)d days; it starts on %(start)s instead.")
            % {"n": MAX_DAYS, "start": start.isoformat()}
        )
    period = DateRange(start, end, request.time_zone)
    params = {"from": start.isoformat(), "to": end.isoformat()}
    return {
        "line": line,
        # A callable: templates call it only when the line switcher is drawn (never in an
        # htmx partial), and building the permission query costs about a millisecond.
        "lines": functools.partial(Line.objects.visible_to, request.user),
        "kinds": list(CallKind),
        "period": period,
        "params": params,
        "problems": problems,
        "quick_ranges": _quick_ranges(today),
        "content_url": reverse("line-overview-content", kwargs={"line_id": line.pk}),
        "time_zone": request.time_zone,
        "hours": range(24),
    }


def _quick_ranges(today: date) -> list[tuple[int, str, str]]:
    return [(n, (today - timedelta(days=n - 1)).isoformat(), today.isoformat()) for n in QUICK_DAYS]


@line_view()
@require_safe
def overview(request: HttpRequest, line: Line) -> HttpResponse:
    """The page shell: its content loads lazily from `overview_content` (see the template)."""
    return render(request, "reports/overview.html", _overview_context(request, line))


@line_view()
@require_safe
@vary_on_headers("HX-Request")
def overview_content(request: HttpRequest, line: Line) -> HttpResponse:
    """The computed overview: a fragment for htmx, the whole page for a plain request
    (the no-JavaScript link, or a reload of a pushed URL)."""
    record_line_access(request, line, "overview")  # top callers are personal data too
    context = _overview_context(request, line)
    context["overview"] = build_overview(line, context["period"], refresh="refresh" in request.GET)
    # The inbox's side: how fast missed callers were called back (our database, not the
    # provider's), over the callers whose first missed call fell in the range.
    context["callbacks"] = callback_stats(line, *context["period"].bounds(), now=timezone.now())
    context["target"] = target_for(line)
    template = "reports/overview.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#content"
    return render(request, template, context)


@line_view()
@require_safe
def export_csv(request: HttpRequest, line: Line, kind: CallKind) -> HttpResponse:
    """Exactly the table's view (kind, search, dates, sort) across all pages, streamed;
    the missed tab's export carries its follow-up columns, as the table does."""
    variant = export.variant_for(request.GET.get("format"))
    if variant is None:
        return export.unknown_format()
    record_line_access(request, line, f"export:{kind}")  # a download is a read, and a big one
    call_filter = CallFilterForm(request.GET, region=line.default_region).to_filter()
    # Page and page size do not matter: the export walks every page from the first.
    query = call_filter.to_query(kind, request.time_zone, extra_rows=0)
    reader = CallReader(line, kind, query, settings.EXPORT_MAX_ROWS)
    followups = _followup_lookup(line) if kind is CallKind.MISSED else None
    return _stream(request, line, reader, call_filter, kind, kind, variant, followups)


@line_view()
@require_safe
def export_timeline_csv(request: HttpRequest, line: Line) -> HttpResponse:
    """The timeline's view (every kind, newest first, its search and dates) across all its
    pages, with the follow-up of its missed calls, streamed."""
    variant = export.variant_for(request.GET.get("format"))
    if variant is None:
        return export.unknown_format()
    record_line_access(request, line, "export:all")
    call_filter = CallFilterForm(request.GET, region=line.default_region).to_filter()
    reader = TimelineReader(line, call_filter, request.time_zone, settings.EXPORT_MAX_ROWS)
    followups = _followup_lookup(line)
    return _stream(request, line, reader, call_filter, None, "all", variant, followups)


def _followup_lookup(line: Line):
    later = later_contacts(line)
    return functools.partial(followups_for, line, later=later)


def _stream(request, line, reader, call_filter, kind, name, variant, followups) -> HttpResponse:
    """The CSV response of `reader`'s rows; a provider failure before the first row gets
    a readable page with the right status instead of a CSV holding only an error line."""
    calls = iter(reader)
    first = next(calls, None)
    if first is None and reader.error is not None:
        context = {"line": line, "kind": name, "error": reader.error, "params": call_filter.params}
        return render(request, "reports/export_failed.html", context, status=502)
    rows = chain([first], calls) if first is not None else calls
    response = StreamingHttpResponse(
        export.stream_csv(
            rows,
            reader,
            kind=kind,
            tz_name=request.time_zone,
            language=translation.get_language(),
            followups=followups,
            variant=variant,
        ),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True,
        filename=export.filename(line.label, name, timezone.localdate(), variant),
    )
    # Call history is personal data: no shared or browser cache keeps a copy.
    response["Cache-Control"] = "private, no-store"
    return response
