"""The mark form posted from a missed-call row."""

from __future__ import annotations

from datetime import UTC, datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from dashboard.calls.phone import number_key
from dashboard.followup.marks import CallRef
from dashboard.followup.models import NOTE_MAX_LENGTH, FollowUpStatus
from dashboard.text import one_line

OPEN = "open"  # the form's value for "no mark": clears it


def _parse_time(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.strip())
        # Year 1 or 9999 with an offset overflows when moved to UTC.
        return parsed.astimezone(UTC) if parsed.tzinfo else None
    except (ValueError, OverflowError):
        return None


class MarkForm(forms.Form):
    number = forms.CharField(max_length=64)
    called_at = forms.CharField(max_length=64)
    status = forms.ChoiceField(
        choices=[*FollowUpStatus.choices, (OPEN, _("Open (clear the mark)"))],
        # Nothing is chosen in advance, so an accidental Save records nothing.
        error_messages={"required": _("Choose what happened to this call.")},
    )
    note = forms.CharField(required=False, max_length=NOTE_MAX_LENGTH, label=_("Note"), strip=True)
    # When the row was rendered with a later contact, so the re-rendered cell keeps
    # saying so; display only, it changes nothing stored.
    later = forms.CharField(required=False, max_length=64)

    def __init__(self, *args, region: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.region = region

    def clean_number(self) -> str:
        key = number_key(self.cleaned_data["number"], self.region)
        if not key:
            raise forms.ValidationError(_("This call has no number to follow up."))
        return key

    def clean_called_at(self) -> datetime:
        when = _parse_time(self.cleaned_data["called_at"])
        if when is None:
            raise forms.ValidationError(_("The call time was not understood."))
        return when

    def clean_note(self) -> str:
        return one_line(self.cleaned_data.get("note") or "")

    def clean_later(self) -> datetime | None:
        return _parse_time(self.cleaned_data.get("later") or "")

    @property
    def ref(self) -> CallRef:
        return CallRef(self.cleaned_data["number"], self.cleaned_data["called_at"])

    @property
    def new_status(self) -> FollowUpStatus | None:
        status = self.cleaned_data["status"]
        return None if status == OPEN else FollowUpStatus(status)
