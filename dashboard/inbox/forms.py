"""The forms that change callers: the dialog's mark and owner forms, and bulk actions."""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from dashboard.inbox import people
from dashboard.inbox.hours import BadHours, parse_intervals
from dashboard.inbox.models import NOTE_MAX_LENGTH, CallerStatus
from dashboard.lines.models import Line
from dashboard.text import one_line

MAX_SELECTED = 200  # callers per bulk action: more than any page shows
BULK_ACTIONS = ("claim", "assign", "unassign", "mark")


class MarkForm(forms.Form):
    status = forms.TypedChoiceField(
        choices=CallerStatus.choices,
        coerce=CallerStatus,
        # Nothing is chosen in advance, so an accidental Save records nothing.
        error_messages={"required": _("Choose what happened with this caller.")},
    )
    note = forms.CharField(required=False, max_length=NOTE_MAX_LENGTH, strip=True)
    version = forms.IntegerField(min_value=1, max_value=2**31 - 1)

    def clean_note(self) -> str:
        return one_line(self.cleaned_data.get("note") or "")


class _PersonField(forms.Field):
    """A user id among those who can see the line ("" is nobody)."""

    def __init__(self, *args, line: Line | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.line = line

    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return None
        try:
            user = people.assignable_users(self.line).get(pk=int(value))
        except (ValueError, OverflowError, get_user_model().DoesNotExist):
            raise forms.ValidationError(
                _("That person cannot see this line, so the caller cannot be theirs.")
            ) from None
        return user


class OwnerForm(forms.Form):
    version = forms.IntegerField(min_value=1, max_value=2**31 - 1)

    def __init__(self, *args, line: Line, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"] = _PersonField(required=False, line=line)


class BulkForm(forms.Form):
    action = forms.ChoiceField(
        choices=[(a, a) for a in BULK_ACTIONS],
        error_messages={"required": _("Choose what to do with the selected callers.")},
    )
    status = forms.TypedChoiceField(
        required=False,
        choices=[(s.value, s.label) for s in CallerStatus if s is not CallerStatus.OPEN],
        coerce=CallerStatus,
        empty_value=None,
    )
    note = forms.CharField(required=False, max_length=NOTE_MAX_LENGTH, strip=True)

    def __init__(self, data, *, line: Line, user, **kwargs):
        data = data.copy()
        # A row's own Claim button: that caller only, whatever else is ticked.
        if data.get("claim"):
            data.setlist("selected", [data["claim"]])
            data["action"] = "claim"
        super().__init__(data, **kwargs)
        self.fields["to"] = _PersonField(required=False, line=line)

    def clean_note(self) -> str:
        return one_line(self.cleaned_data.get("note") or "")

    def clean(self):
        cleaned = super().clean()
        selected = []
        for raw in self.data.getlist("selected")[:MAX_SELECTED]:
            # "episode id.version seen": a change applies only to what the person saw.
            pk, _dot, version = str(raw).partition(".")
            readable = pk.isascii() and pk.isdigit() and (not version or version.isdigit())
            if readable and len(pk) < 12 and len(version) < 12:
                selected.append((int(pk), int(version) if version else None))
        if not selected:
            raise forms.ValidationError(_("Select at least one caller first."))
        cleaned["selected"] = selected
        action = cleaned.get("action")
        if action == "mark" and not cleaned.get("status"):
            self.add_error("status", _("Choose what happened with the selected callers."))
        if action == "assign" and not cleaned.get("to"):
            self.add_error("to", _("Choose who the selected callers go to."))
        return cleaned


WEEKDAY_NAMES = (
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
)
MAX_CLOSED_DAYS = 366


class TargetForm(forms.Form):
    """A line's target time and business hours, as text a person can type."""

    target_minutes = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=60 * 24 * 30,
        label=_("Target time (minutes of business hours)"),
        help_text=_(
            "A missed caller not called back within this time shows as overdue. Empty: no target."
        ),
    )
    time_zone = forms.CharField(
        max_length=64,
        label=_("Time zone of the business hours"),
        help_text=_("For example Europe/Brussels or Asia/Tokyo."),
    )
    use_hours = forms.BooleanField(
        required=False,
        label=_("Count only business hours"),
        help_text=_("Off: every hour counts, day and night."),
    )
    closed_days = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("Closed days"),
        help_text=_("One date per line or separated by commas, e.g. 2026-12-25."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for day, name in enumerate(WEEKDAY_NAMES):
            self.fields[f"day_{day}"] = forms.CharField(
                required=False,
                max_length=200,
                label=name,
                help_text=_("e.g. 09:00-12:00, 13:00-17:30; empty: closed") if day == 0 else "",
            )

    @property
    def day_fields(self):
        return [self[f"day_{day}"] for day in range(7)]

    def clean_time_zone(self) -> str:
        name = self.cleaned_data["time_zone"].strip()
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise forms.ValidationError(
                _("“%(zone)s” is not a time zone name.") % {"zone": name[:40]}
            ) from None
        return name

    def clean_closed_days(self) -> list[str]:
        days = set()
        for part in re.split(r"[\s,、]+", self.cleaned_data.get("closed_days") or ""):
            if not part:
                continue
            try:
                days.add(date.fromisoformat(part))
            except ValueError:
                raise forms.ValidationError(
                    _("“%(text)s” is not a date like 2026-12-25.") % {"text": part[:20]}
                ) from None
        if len(days) > MAX_CLOSED_DAYS:
            raise forms.ValidationError(_("At most 366 closed days."))
        return sorted(d.isoformat() for d in days)

    def clean(self):
        cleaned = super().clean()
        weekly = {}
        for day in range(7):
            try:
                weekly[str(day)] = [
                    list(i) for i in parse_intervals(cleaned.get(f"day_{day}") or "")
                ]
            except BadHours as bad:
                self.add_error(f"day_{day}", _bad_hours_message(bad))
        cleaned["weekly_hours"] = weekly if cleaned.get("use_hours") else None
        if cleaned.get("use_hours") and not any(weekly.values()) and not self.errors:
            self.add_error(
                "day_0", _("Give at least one day opening hours, or turn business hours off.")
            )
        return cleaned


def _bad_hours_message(bad: BadHours) -> str:
    return {
        "format": _("“%(text)s” is not a time range like 09:00-17:00."),
        "time": _("“%(text)s” is not a time of day."),
        "order": _("“%(text)s” ends before it starts."),
        "overlap": _("The time ranges “%(text)s” overlap."),
    }[bad.code] % {"text": bad.text}
