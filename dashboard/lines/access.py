"""The one access check for line-scoped views.

Every view that takes a `line_id` URL argument is wrapped in `line_view`, which loads the
line through the user's permissions: a line the user cannot see is a 404 (its existence is
not revealed), a browse-only user on a management view gets a 403, anonymous users are
sent to log in. tests/test_access_matrix.py checks every URL pattern with a `line_id`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from dashboard.lines.models import Line

ACCESS_MARKER = "line_access"


def get_line_for_user(request: HttpRequest, line_id: int, *, manage: bool = False) -> Line:
    """The line if the request's user may see it (and manage it, when asked), else 404/403."""
    try:
        line = _visible_line(request.user, line_id)
    except (ValueError, OverflowError):  # an id beyond the database's integers
        line = None
    if line is None:
        raise Http404("No such line.")
    if manage and not line.can_manage(request.user):
        raise PermissionDenied("Only the line's owner can do this.")
    return line


def _visible_line(user: Any, line_id: int) -> Line | None:
    """`Line.objects.visible_to(user).get(pk=line_id)`, or None, in one precompiled query."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_staff:
        return Line.objects.filter(pk=line_id).first()
    sql, slots = _visible_line_sql(Line.objects.db)
    params = [user.pk if slot == "user" else line_id for slot in slots]
    return next(iter(Line.objects.raw(sql, params)), None)


# Stand-ins for the two values while the ORM compiles the query: no row has either id.
_USER_SLOT, _LINE_SLOT = -7_301_946_205, -7_301_946_206


@functools.cache
def _visible_line_sql(alias: str) -> tuple[str, tuple[str, ...]]:
    """`visible_to`'s rule for one line, compiled by the ORM once per process: building it
    costs 2-3 ms a request, running it 0.1 ms, and every page pays it. The rule itself stays
    in one place (`LineQuerySet.visible_to`); only its SQL is kept."""
    probe = get_user_model()(pk=_USER_SLOT, is_active=True, is_staff=False)
    query = Line.objects.visible_to(probe).filter(pk=_LINE_SLOT).order_by().query
    sql, params = query.get_compiler(using=alias).as_sql()
    names = {_USER_SLOT: "user", _LINE_SLOT: "line"}
    unknown = [p for p in params if p not in names]
    if unknown:  # the rule gained a parameter this function does not know how to fill
        raise ImproperlyConfigured(
            f"visible_to's query has parameters {unknown!r}: teach _visible_line_sql"
        )
    return sql, tuple(names[p] for p in params)


def line_view(
    *, manage: bool = False
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Decorate a view taking `line_id`: it receives `line` instead, already access-checked."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, line_id: int, *args: Any, **kwargs: Any) -> HttpResponse:
            line = get_line_for_user(request, line_id, manage=manage)
            return view(request, line, *args, **kwargs)

        setattr(wrapper, ACCESS_MARKER, "manage" if manage else "browse")
        # login_required copies the marker onto its own wrapper (functools.wraps).
        return login_required(wrapper)

    return decorator
