"""The owner's forms: a rule, a destination; everyone's: their own alert preference."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from dashboard.accounts.models import known_time_zones
from dashboard.alerts import channels
from dashboard.alerts.models import (
    AlertRule,
    Destination,
    DestinationKind,
    MemberPreference,
    RuleKind,
    WaitingUntil,
)
from dashboard.alerts.rules import SPIKE_PAGE
from dashboard.lines.crypto import KeyDecryptionError

# The kinds an owner can create (each has an evaluator in rules.EVALUATORS).
OFFERED_KINDS = [(k.value, k.label) for k in (RuleKind.WAITING, RuleKind.SPIKE, RuleKind.DIGEST)]
MAX_WINDOW_MINUTES = 24 * 60


class DestinationsField(forms.ModelMultipleChoiceField):
    """The rule's destinations, by id: an id no database column can hold is refused like
    any unknown one (the stock field sends it to the database, where SQLite overflows)."""

    def _check_values(self, value):
        for pk in value:
            text = str(pk)
            if not (text.isdecimal() and text.isascii() and 0 < int(text) < 2**63):
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)


class RuleForm(forms.ModelForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=OFFERED_KINDS)

    class Meta:
        model = AlertRule
        fields = [
            "kind",
            "enabled",
            "missed_count",
            "window_minutes",
            "wait_minutes",
            "waiting_until",
            "repeat_minutes",
            "digest_time",
            "time_zone",
            "quiet_start",
            "quiet_end",
            "notify_members",
            "destinations",
        ]
        widgets = {
            "digest_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "destinations": forms.CheckboxSelectMultiple,
        }
        field_classes = {"destinations": DestinationsField}
        help_texts = {
            "missed_count": _("Alert when more than this many calls are missed…"),
            "window_minutes": _(
                "…within this many minutes. At most one alert per that many minutes."
            ),
            "digest_time": _("Local time of the daily digest of yesterday's calls."),
            "wait_minutes": _(
                "Alert when a caller is still waiting after this many minutes of business "
                "hours (the line's inbox hours)."
            ),
            "waiting_until": _(
                "Until it is closed: a caller someone claimed but left open still alerts, "
                "and the message names who claimed it."
            ),
            "repeat_minutes": _(
                "Again every this many business-hours minutes while it stays so; empty: once."
            ),
            "quiet_start": _(
                "Nothing is sent between these local times; what comes up then is sent when they end."
            ),
            "notify_members": _(
                "E-mail everyone who can see this line and has an address (each can opt out)."
            ),
        }

    def __init__(self, *args, line, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["destinations"].queryset = Destination.objects.filter(line=line)
        self.fields["missed_count"].min_value = 1
        # Only waiting rules show it; the other kinds' forms may leave it out.
        self.fields["waiting_until"].required = False

    def clean_waiting_until(self) -> str:
        # Left out (another kind's form, an older page): what the rule had, else the default.
        return (
            self.cleaned_data.get("waiting_until")
            or self.instance.waiting_until
            or WaitingUntil.CLAIMED
        )

    def clean_time_zone(self) -> str:
        name = self.cleaned_data["time_zone"].strip()
        if name not in known_time_zones():
            raise forms.ValidationError(_("Not a time zone name, such as Europe/Brussels."))
        return name

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == RuleKind.SPIKE:
            count, minutes = data.get("missed_count"), data.get("window_minutes")
            if not count or not 1 <= count < SPIKE_PAGE:
                self.add_error(
                    "missed_count", _("Between 1 and %(max)d.") % {"max": SPIKE_PAGE - 1}
                )
            if not minutes or not 1 <= minutes <= MAX_WINDOW_MINUTES:
                self.add_error(
                    "window_minutes",
                    _("Between 1 and %(max)d minutes.") % {"max": MAX_WINDOW_MINUTES},
                )
        elif kind == RuleKind.WAITING:
            wait, repeat = data.get("wait_minutes"), data.get("repeat_minutes")
            if not wait or not 1 <= wait <= MAX_WINDOW_MINUTES * 7:
                self.add_error(
                    "wait_minutes",
                    _("Between 1 and %(max)d minutes.") % {"max": MAX_WINDOW_MINUTES * 7},
                )
            if repeat is not None and not 5 <= repeat <= MAX_WINDOW_MINUTES * 7:
                self.add_error(
                    "repeat_minutes",
                    _("Between 5 and %(max)d minutes, or empty.") % {"max": MAX_WINDOW_MINUTES * 7},
                )
        elif kind == RuleKind.DIGEST and not data.get("digest_time"):
            self.add_error("digest_time", _("Pick the time of the digest."))
        if bool(data.get("quiet_start")) != bool(data.get("quiet_end")):
            self.add_error("quiet_end", _("Give both ends of the quiet hours, or neither."))
        if not data.get("notify_members") and not data.get("destinations"):
            self.add_error(
                None, _("Choose where the alerts go: the team's e-mail or a destination.")
            )
        return data


class DestinationForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=DestinationKind.choices)
    label = forms.CharField(label=_("Name"), max_length=80)
    address = forms.CharField(
        label=_("E-mail address"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    # Write-only: never rendered back, not even after an error (it may hold a token).
    url = forms.CharField(
        label=_("Apprise URL"),
        required=False,
        max_length=2000,
        widget=forms.PasswordInput(
            render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"}
        ),
        help_text=_(
            "Such as slack://…, msteams://…, gchat://…, discord://…, ntfy://… or json://host/path. "
            "Stored encrypted; only its start and last 4 characters are ever shown."
        ),
    )
    language = forms.ChoiceField(label=_("Language of the messages"), choices=settings.LANGUAGES)

    def __init__(self, *args, instance: Destination | None = None, **kwargs):
        self.instance = instance
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {
                    "kind": instance.kind,
                    "label": instance.label,
                    "language": instance.language,
                    "address": instance.target_hint
                    if instance.kind == DestinationKind.EMAIL
                    else "",
                },
            )
        super().__init__(*args, **kwargs)
        if instance is not None:
            # The kind of an existing destination stays; its URL is replaced only if typed.
            self.fields["kind"].disabled = True
            self.fields["url"].help_text = _(
                "Leave empty to keep the current URL (%(hint)s); a new one replaces it."
            ) % {"hint": instance.target_hint}

    def clean(self):
        data = super().clean()
        kind = self.instance.kind if self.instance is not None else data.get("kind")
        if kind == DestinationKind.APPRISE and self.instance is not None and not data.get("url"):
            data["target"] = None  # keep the stored URL
            return data
        if kind == DestinationKind.EMAIL:
            address = (data.get("address") or "").strip()
            try:
                validate_email(address)
            except forms.ValidationError:
                self.add_error("address", _("Enter an e-mail address, such as team@example.com."))
            data["target"] = address
        elif kind == DestinationKind.APPRISE:
            url = (data.get("url") or "").strip()
            try:
                channels.apprise_target(url) if url else None
            except channels.SendError:
                url = ""
            if not url:
                self.add_error(
                    "url",
                    _("Enter an Apprise URL it understands, such as ntfy://ntfy.sh/your-topic."),
                )
            data["target"] = url
        return data


def _address_of(destination: Destination) -> str:
    """An e-mail destination's address in full (not a secret), for its edit form."""
    if destination.kind != DestinationKind.EMAIL:
        return ""
    try:
        return destination.get_target()
    except KeyDecryptionError:
        return ""


class PreferenceForm(forms.ModelForm):
    class Meta:
        model = MemberPreference
        fields = ["receives", "language"]
