from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from dashboard.accounts.models import Profile
from dashboard.accounts.zones import MAX_NAME_LENGTH, read_time_zone


class PreferencesForm(forms.ModelForm):
    # A text box over a list of ~600 names (a <datalist>: the browser filters it as one
    # types, with or without JavaScript); what is typed is checked against the tz database.
    time_zone = forms.CharField(
        required=False,
        max_length=MAX_NAME_LENGTH,
        widget=forms.TextInput(
            attrs={
                "list": "time-zone-names",
                "autocomplete": "off",
                "spellcheck": "false",
                "aria-describedby": "time-zone-help",
            }
        ),
    )

    class Meta:
        model = Profile
        fields = ["time_zone"]

    def clean_time_zone(self) -> str:
        """A zone name as the tz database spells it; empty means 'follow the browser'."""
        text = self.cleaned_data["time_zone"].strip()
        if not text:
            return ""
        name = read_time_zone(text)
        if name is None:
            raise forms.ValidationError(
                _(
                    "“%(text)s” is not a time zone. Type a city or a region, "
                    "such as Europe/Brussels or Tokyo, and pick it from the list."
                ),
                params={"text": text[:MAX_NAME_LENGTH]},
            )
        return name
