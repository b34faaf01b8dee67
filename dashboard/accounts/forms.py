from __future__ import annotations

from django import forms

from dashboard.accounts.models import Profile, time_zone_choices


class PreferencesForm(forms.ModelForm):
    time_zone = forms.ChoiceField(choices=time_zone_choices)

    class Meta:
        model = Profile
        fields = ["time_zone"]
