"""Column definitions for the call tables: labels, sortability, the next sort direction."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from dashboard.calls.filters import CallFilter
from dashboard.smsmobileapi.records import CallKind, SortField

# The first click on a column sorts the way people usually want it: newest, longest first;
# names, numbers and places alphabetically.
FIRST_DIRECTION = {
    SortField.DATE: "desc",
    SortField.DURATION: "desc",
    SortField.NUMBER: "asc",
    SortField.NAME: "asc",
    SortField.LOCATION: "asc",
}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    sort: SortField | None = None
    active: bool = False
    descending: bool = True

    @property
    def aria_sort(self) -> str:
        if not self.active:
            return "none"
        return "descending" if self.descending else "ascending"

    @property
    def next_dir(self) -> str:
        """Clicking an active column reverses it; an inactive one starts at its natural order."""
        if self.active:
            return "asc" if self.descending else "desc"
        return FIRST_DIRECTION[self.sort] if self.sort else "desc"


def columns_for(kind: CallKind, call_filter: CallFilter) -> list[Column]:
    def col(key: str, label: str, sort: SortField | None) -> Column:
        if not kind.sortable:
            sort = None
        active = sort is not None and call_filter.sort is sort
        return Column(key, str(label), sort, active, call_filter.descending if active else True)

    columns = [
        col("when", _("When"), SortField.DATE),
        col("number", _("Number"), SortField.NUMBER),
        col("name", _("Name"), SortField.NAME),
    ]
    if kind is not CallKind.MISSED:
        columns += [
            col("duration", _("Duration"), SortField.DURATION),
            col("location", _("Location"), SortField.LOCATION),
        ]
    return columns
