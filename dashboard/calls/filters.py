"""The filter vocabulary shared by every call table, parsed from the query string.

`q`, `from`, `to`, `sort`, `dir`, `page`, `per_page`: one set of names for all kinds; the
upstream client translates them per endpoint family. Bad values never raise: each is
replaced by its default and reported as a message next to the filters. `q` stays as
typed (the search box shows it); what the provider is sent for it is `CallFilter.search`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from dashboard.calls.phone import search_term
from dashboard.smsmobileapi.client import MAX_SEARCH_LENGTH, clean_search
from dashboard.smsmobileapi.records import CallKind, CallQuery, SortField

PER_PAGE_CHOICES = (25, 50, 100)
DEFAULT_PER_PAGE = 50
SORT_VALUES = tuple(s.value for s in SortField)
DIR_VALUES = ("asc", "desc")
# Page numbers past this are not a real browsing session; it also keeps offsets sane.
MAX_PAGE = 10_000
# No SMSMobileAPI account predates this; earlier dates are typos.
MIN_DATE = date(2000, 1, 1)
# Day arithmetic near 9999-12-31 overflows; call logs of the 22nd century are typos too.
MAX_DATE = date(2199, 12, 31)
FILTER_PARAMS = ("q", "from", "to", "sort", "dir", "page", "per_page")


@dataclass(frozen=True)
class CallFilter:
    """What the user asked to see, cleaned and typed."""

    q: str = ""
    date_from: date | None = None
    date_to: date | None = None
    sort: SortField = SortField.DATE
    descending: bool = True
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    # The line's phone region: how a national number typed in `q` is read. Not a URL
    # parameter; it comes with the line.
    region: str = ""
    problems: tuple[str, ...] = field(default=(), compare=False)

    @property
    def search(self) -> str:
        """What the provider's LIKE is sent for `q` (see `phone.search_term`): the one
        place a search becomes upstream terms, for every table, export and scan."""
        return search_term(self.q, self.region) if self.q else ""

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def params(self) -> dict[str, str]:
        """The cleaned filter as query parameters, defaults left out: links built from this
        never carry a rejected value forward."""
        params: dict[str, str] = {}
        if self.q:
            params["q"] = self.q
        if self.date_from:
            params["from"] = self.date_from.isoformat()
        if self.date_to:
            params["to"] = self.date_to.isoformat()
        if self.sort is not SortField.DATE:
            params["sort"] = self.sort.value
        if not self.descending:
            params["dir"] = "asc"
        if self.page > 1:
            params["page"] = str(self.page)
        if self.per_page != DEFAULT_PER_PAGE:
            params["per_page"] = str(self.per_page)
        return params

    @property
    def is_filtered(self) -> bool:
        return bool(self.q or self.date_from or self.date_to)

    def to_query(self, kind: CallKind, tz_name: str, *, extra_rows: int = 1) -> CallQuery:
        """The upstream query for this filter: one row more than a page, to see if more exist."""
        sortable = kind.sortable
        return CallQuery(
            search=self.search,
            date_from=self.date_from,
            date_to=self.date_to,
            tz_name=tz_name,
            sort=self.sort if sortable else SortField.DATE,
            descending=self.descending if sortable else True,
            offset=self.offset,
            limit=self.per_page + extra_rows,
        )


class CallFilterForm(forms.Form):
    """GET form: turns the raw strings of the URL into a `CallFilter`. The template draws
    the controls itself (their values come from the filter); the labels name the field in
    a problem message."""

    q = forms.CharField(required=False, label=_("Search"))
    # Named `from`/`to` in the URL (add_prefix below); `from` is a Python keyword.
    date_from = forms.DateField(required=False, label=_("From"))
    date_to = forms.DateField(required=False, label=_("To"))
    sort = forms.ChoiceField(
        required=False, label=_("Sort by"), choices=[(s, s) for s in SORT_VALUES]
    )
    dir = forms.ChoiceField(required=False, label=_("Order"), choices=[(d, d) for d in DIR_VALUES])
    page = forms.IntegerField(required=False, label=_("Page"), min_value=1, max_value=MAX_PAGE)
    per_page = forms.TypedChoiceField(
        required=False,
        label=_("Per page"),
        coerce=int,
        choices=[(n, n) for n in PER_PAGE_CHOICES],
    )

    def __init__(self, data: QueryDict, *, region: str, **kwargs):
        # One value per name (the last, like QueryDict.get), without mutating request.GET.
        mapped = {name: data.get(name, "") for name in FILTER_PARAMS}
        # Required: a filter that forgot its line's region would miss national numbers.
        self.region = region
        super().__init__(mapped, **kwargs)

    def add_prefix(self, field_name: str) -> str:
        return {"date_from": "from", "date_to": "to"}.get(field_name, field_name)

    def clean_q(self) -> str:
        return clean_search(self.cleaned_data.get("q") or "")

    def clean_date_from(self) -> date | None:
        return self._clean_day("date_from")

    def clean_date_to(self) -> date | None:
        return self._clean_day("date_to")

    def _clean_day(self, name: str) -> date | None:
        value = self.cleaned_data.get(name)
        if value is not None and value < MIN_DATE:
            raise forms.ValidationError(_("Dates before 2000 are not supported."))
        if value is not None and value > MAX_DATE:
            raise forms.ValidationError(_("Dates after 2199 are not supported."))
        return value

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            # Swapping is what the user meant nine times out of ten; say so.
            cleaned["date_from"], cleaned["date_to"] = end, start
            self.swapped_dates = True
        return cleaned

    def to_filter(self) -> CallFilter:
        """Always succeeds: invalid fields fall back to defaults, with a message each."""
        self.is_valid()
        data = {name: value for name, value in self.cleaned_data.items()}
        problems: list[str] = []
        for name, field_errors in self.errors.as_data().items():
            problems.extend(_plain_problem(name, error) for error in field_errors)
            data.pop(name, None)
        raw_q = self.data.get("q") or ""
        if len(raw_q) > MAX_SEARCH_LENGTH:
            problems.append(
                str(_("Search was shortened to %(n)d characters.") % {"n": MAX_SEARCH_LENGTH})
            )
        if getattr(self, "swapped_dates", False):
            problems.append(str(_("“From” was after “To”; the dates were swapped.")))
        return CallFilter(
            q=data.get("q") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            sort=SortField(data["sort"]) if data.get("sort") else SortField.DATE,
            descending=data.get("dir") != "asc",
            page=data.get("page") or 1,
            per_page=data.get("per_page") or DEFAULT_PER_PAGE,
            region=self.region,
            problems=tuple(problems),
        )


class _SharedFields(dict):
    """A form's fields, shared by every instance instead of deep-copied for each one (a
    Form copies its fields so a request may change them; this form never does, and the
    copy was about 5 % of a cached page's CPU, every request parsing this form)."""

    def __deepcopy__(self, memo: dict) -> _SharedFields:
        return self


# Nothing sets a field per request: the template draws the controls from the filter, and
# the fields only clean the URL's strings (and name a field in a problem message).
CallFilterForm.base_fields = _SharedFields(CallFilterForm.base_fields)


def _plain_problem(name: str, error: forms.ValidationError) -> str:
    """A bad value in the link, said as what happened instead of a form-field error."""
    if name in ("date_from", "date_to"):
        if error.code == "invalid":  # Django's own "Enter a valid date."
            if name == "date_from":
                return str(_("The “From” date was not understood, so it was left out."))
            return str(_("The “To” date was not understood, so it was left out."))
        return " ".join(error.messages)  # ours: already a sentence ("Dates before 2000…")
    return str(
        {
            "sort": _("That sort order is not one the list knows; sorted by time instead."),
            "dir": _("The order in the link was not understood; showing newest first."),
            "page": _(
                "The page number in the link was not understood (it goes from 1 to "
                "%(max)s); showing the first page."
            )
            % {"max": f"{MAX_PAGE:,}"},
            "per_page": _("A page shows 25, 50 or 100 calls; showing %(n)d.")
            % {"n": DEFAULT_PER_PAGE},
        }.get(name, " ".join(error.messages))
    )


def quick_ranges(today: date) -> list[tuple[str, date | None, date | None]]:
    """(label, from, to) for the quick-range links, computed in the viewer's zone."""
    return [
        (str(_("Today")), today, today),
        (str(_("Yesterday")), today - timedelta(days=1), today - timedelta(days=1)),
        (str(_("Last 7 days")), today - timedelta(days=6), today),
        (str(_("Last 30 days")), today - timedelta(days=29), today),
    ]
