"""The one access check for line-scoped views.

Every view that takes a `line_id` URL argument is wrapped in `line_view`, which loads the
line through the user's permissions: a line the user cannot see is a 404 (its existence is
not revealed), a browse-only user on a management view gets a 403, anonymous users are
sent to log in. tests/test_access_matrix.py checks every URL pattern with a `line_id`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
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


def may_still_see_line(request: HttpRequest, line_id: int) -> bool:
    """Whether the request's user may still see the line: the same check as `line_view`,
    again during a long response (the live stream) so a removed share ends it."""
    try:
        get_line_for_user(request, line_id)
    except Http404:
        return False
    return True


def _visible_line(user: Any, line_id: int) -> Line | None:
    # The one rule of who sees a line, for one line: a single query.
    return Line.objects.visible_to(user).filter(pk=line_id).first()


def line_view(
    *, manage: bool = False
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Decorate a view taking `line_id`: it receives `line` instead, already access-checked.
    Async views (the live stream) get the same check, run in a thread."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        if inspect.iscoroutinefunction(view):

            @functools.wraps(view)
            async def wrapper(request: HttpRequest, line_id: int, *args: Any, **kwargs: Any):
                line = await sync_to_async(get_line_for_user)(request, line_id, manage=manage)
                return await view(request, line, *args, **kwargs)

        else:

            @functools.wraps(view)
            def wrapper(
                request: HttpRequest, line_id: int, *args: Any, **kwargs: Any
            ) -> HttpResponse:
                line = get_line_for_user(request, line_id, manage=manage)
                return view(request, line, *args, **kwargs)

        setattr(wrapper, ACCESS_MARKER, "manage" if manage else "browse")
        # login_required copies the marker onto its own wrapper (functools.wraps).
        return login_required(wrapper)

    return decorator
