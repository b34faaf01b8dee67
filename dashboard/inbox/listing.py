"""The inbox's filters and its page of callers: a database query, never a provider scan.

Search, dates, page and page size are the call tables' own (`CallFilterForm`: same names,
same messages for bad values); the inbox adds who (everyone / mine / unassigned), status,
overdue and its own sort orders. Bad values fall back to the default, with a message.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from dashboard.calls.filters import CallFilter, CallFilterForm
from dashboard.inbox.models import CLOSED_STATUSES, CallerStatus, Episode
from dashboard.lines.models import Line

OWNER_VALUES = ("everyone", "mine", "unassigned")
STATUS_VALUES = ("open", *(s.value for s in CLOSED_STATUSES), "closed", "all")
# Longest wait first: the caller who waited longest is the next to call.
SORTS = {
    "waiting": ("first_attempt_at", "pk"),
    "last": ("-last_attempt_at", "-pk"),
    "attempts": ("-attempts", "first_attempt_at", "pk"),
}
DEFAULT_SORT = "waiting"
INBOX_PARAMS = ("q", "from", "to", "page", "per_page", "who", "status", "overdue", "sort")


@dataclass(frozen=True)
class InboxFilter:
    calls: CallFilter = field(default_factory=CallFilter)  # q, dates, page, per page
    who: str = "everyone"
    status: str = "open"
    overdue: bool = False
    sort: str = DEFAULT_SORT
    problems: tuple[str, ...] = field(default=(), compare=False)

    @property
    def q(self) -> str:
        return self.calls.q

    @property
    def page(self) -> int:
        return self.calls.page

    @property
    def per_page(self) -> int:
        return self.calls.per_page

    @property
    def params(self) -> dict[str, str]:
        """Query parameters, defaults left out (as `CallFilter.params`)."""
        params = dict(self.calls.params)
        params.pop("sort", None)
        params.pop("dir", None)
        if self.who != "everyone":
            params["who"] = self.who
        if self.status != "open":
            params["status"] = self.status
        if self.overdue:
            params["overdue"] = "1"
        if self.sort != DEFAULT_SORT:
            params["sort"] = self.sort
        return params

    @property
    def is_filtered(self) -> bool:
        return bool(self.q or self.calls.date_from or self.calls.date_to) or (
            self.who != "everyone" or self.overdue or self.status != "open"
        )

    def with_page(self, page: int) -> InboxFilter:
        return replace(self, calls=replace(self.calls, page=page))


def parse_filter(data: QueryDict, region: str) -> InboxFilter:
    """Always succeeds: a bad value is replaced by its default and said in `problems`."""
    shared = QueryDict(mutable=True)
    for name in ("q", "from", "to", "page", "per_page"):
        if name in data:
            shared[name] = data.get(name, "")
    calls = CallFilterForm(shared, region=region).to_filter()
    problems = list(calls.problems)
    who = data.get("who", "everyone") or "everyone"
    if who not in OWNER_VALUES:
        problems.append(_("That owner filter is not one the inbox knows; showing everyone."))
        who = "everyone"
    status = data.get("status", "open") or "open"
    if status not in STATUS_VALUES:
        problems.append(_("That status is not one the inbox knows; showing open callers."))
        status = "open"
    sort = data.get("sort", DEFAULT_SORT) or DEFAULT_SORT
    if sort not in SORTS:
        problems.append(_("That sort order is not one the inbox knows; longest wait first."))
        sort = DEFAULT_SORT
    overdue = data.get("overdue", "") in ("1", "on", "true")
    return InboxFilter(
        calls=calls,
        who=who,
        status=status,
        overdue=overdue,
        sort=sort,
        problems=tuple(problems),
    )


def episodes_for(
    line: Line, user: AbstractBaseUser, f: InboxFilter, tz_name: str, now: datetime | None = None
) -> QuerySet[Episode]:
    """Every episode the filter shows, in its order (the page and the export alike)."""
    now = now or timezone.now()
    rows = Episode.objects.filter(line=line)
    if f.status == "open":
        rows = rows.filter(status=CallerStatus.OPEN)
    elif f.status == "closed":
        rows = rows.exclude(status=CallerStatus.OPEN)
    elif f.status != "all":
        rows = rows.filter(status=f.status)
    if f.who == "mine":
        rows = rows.filter(owner=user)
    elif f.who == "unassigned":
        rows = rows.filter(owner__isnull=True)
    if f.overdue:
        rows = rows.filter(status=CallerStatus.OPEN, due_at__lt=now)
    term = f.calls.search
    if term:
        rows = rows.filter(
            Q(number__contains=term) | Q(name__icontains=term) | Q(name__icontains=f.q)
        )
    zone = _zone(tz_name)
    if f.calls.date_from:
        start = datetime.combine(f.calls.date_from, time(), tzinfo=zone)
        rows = rows.filter(last_attempt_at__gte=start)
    if f.calls.date_to:
        end = datetime.combine(f.calls.date_to + timedelta(days=1), time(), tzinfo=zone)
        rows = rows.filter(first_attempt_at__lt=end)
    return rows.order_by(*SORTS[f.sort])


def _zone(tz_name: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz_name)
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


@dataclass(frozen=True)
class InboxPage:
    filter: InboxFilter
    rows: tuple[Episode, ...]
    total: int

    @property
    def has_prev(self) -> bool:
        return self.filter.page > 1

    @property
    def has_next(self) -> bool:
        return self.filter.page * self.filter.per_page < self.total

    @property
    def first_index(self) -> int:
        return (self.filter.page - 1) * self.filter.per_page + 1 if self.rows else 0

    @property
    def last_index(self) -> int:
        return (self.filter.page - 1) * self.filter.per_page + len(self.rows)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.filter.per_page))


def inbox_page(
    line: Line, user: AbstractBaseUser, f: InboxFilter, tz_name: str, now: datetime | None = None
) -> InboxPage:
    """One page of callers; a page past the end shows the last one, with a word."""
    rows = episodes_for(line, user, f, tz_name, now)
    total = rows.count()
    pages = max(1, -(-total // f.per_page))
    if f.page > pages:
        f = replace(
            f.with_page(pages),
            problems=(*f.problems, _("That page is past the end; showing the last one.")),
        )
    offset = (f.page - 1) * f.per_page
    shown = tuple(rows[offset : offset + f.per_page])
    return InboxPage(filter=f, rows=shown, total=total)


def open_counts(lines) -> dict[int, int]:
    """Open callers per line id, for every line in `lines`, in one query."""
    counts = (
        Episode.objects.filter(line__in=lines, status=CallerStatus.OPEN)
        .values("line_id")
        .annotate(n=Count("pk"))
    )
    return {row["line_id"]: row["n"] for row in counts}


def open_count(line: Line) -> int:
    return Episode.objects.filter(line=line, status=CallerStatus.OPEN).count()
