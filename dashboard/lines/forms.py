"""Forms for managing lines. The key field is write-only: it never renders its value."""

from __future__ import annotations

import phonenumbers
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from dashboard.lines.models import Line
from dashboard.text import has_invisible_characters

MAX_KEY_LENGTH = 200
# A key this short would be mostly revealed by its four-character hint; real keys are long.
MIN_KEY_LENGTH = 8
MAX_LABEL_LENGTH = Line._meta.get_field("label").max_length


def clean_api_key_text(value: str | None) -> str:
    """The key as pasted, trimmed; ValidationError with a message that never quotes it."""
    key = (value or "").strip()
    if not key:
        raise ValidationError(_("Enter the API key."), code="required")
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationError(
            _(
                "That is %(length)d characters long; an SMSMobileAPI key has at most "
                "%(max)d. Copy only the key itself."
            ),
            code="too_long",
            params={"length": len(key), "max": MAX_KEY_LENGTH},
        )
    if has_invisible_characters(key):
        raise ValidationError(
            _(
                "The key contains a line break or another invisible control character. "
                "Paste it again as a single line."
            ),
            code="control_characters",
        )
    if any(ch.isspace() for ch in key):
        raise ValidationError(
            _("The key contains spaces. Paste it again without them."), code="spaces"
        )
    if len(key) < MIN_KEY_LENGTH:
        raise ValidationError(
            _("That is too short to be an SMSMobileAPI key (at least %(min)d characters)."),
            code="too_short",
            params={"min": MIN_KEY_LENGTH},
        )
    return key


class ApiKeyField(forms.CharField):
    """A password-type input that is never filled back in, even when the form has errors."""

    widget = forms.PasswordInput(
        render_value=False,
        attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "off"},
    )

    def __init__(self, **kwargs) -> None:
        # No max_length: the browser would silently cut a long paste; we explain instead.
        kwargs.setdefault("label", _("API key"))
        kwargs.setdefault(
            "help_text",
            _(
                "From your SMSMobileAPI account. After saving, only its last 4 characters are shown."
            ),
        )
        super().__init__(strip=False, **kwargs)

    def clean(self, value: str | None) -> str:
        return clean_api_key_text(value)


def clean_label_text(value: str | None) -> str:
    label = " ".join((value or "").split())  # one line, single spaces
    if not label:
        raise ValidationError(_("Give the line a label, e.g. “Support phone”."), code="required")
    if has_invisible_characters(label):
        raise ValidationError(_("The label contains invisible control characters."))
    if len(label) > MAX_LABEL_LENGTH:
        raise ValidationError(
            _("Keep the label under %(max)d characters."), params={"max": MAX_LABEL_LENGTH}
        )
    return label


class LineFieldsMixin(forms.Form):
    """Label and region, with uniqueness of the label per owner checked here for a clear message."""

    label = forms.CharField(label=_("Label"), max_length=MAX_LABEL_LENGTH * 4, strip=False)
    default_region = forms.CharField(
        label=_("Default phone region"),
        required=False,
        max_length=2,
        help_text=_("Two-letter country code used to read national numbers, e.g. BE. Optional."),
    )

    owner: AbstractBaseUser
    exclude_line: Line | None = None

    def clean_label(self) -> str:
        label = clean_label_text(self.cleaned_data.get("label"))
        same = Line.objects.filter(owner=self.owner, label=label)
        if self.exclude_line is not None:
            same = same.exclude(pk=self.exclude_line.pk)
        if same.exists():
            raise ValidationError(
                _("You already have a line called “%(label)s”. Pick another label."),
                params={"label": label},
                code="duplicate",
            )
        return label

    def clean_default_region(self) -> str:
        region = (self.cleaned_data.get("default_region") or "").strip().upper()
        if region and region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValidationError(
                _("“%(region)s” is not a country code phone numbers know, e.g. BE, FR, JP."),
                params={"region": region},
            )
        return region


class LineCreateForm(LineFieldsMixin):
    api_key = ApiKeyField()
    field_order = ["label", "api_key", "default_region"]

    def __init__(self, *args, owner: AbstractBaseUser, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner


class LineSettingsForm(LineFieldsMixin):
    def __init__(self, *args, line: Line, **kwargs) -> None:
        kwargs.setdefault("initial", {"label": line.label, "default_region": line.default_region})
        super().__init__(*args, **kwargs)
        self.owner = line.owner
        self.exclude_line = line


class ReplaceKeyForm(forms.Form):
    api_key = ApiKeyField(label=_("New API key"))


class ShareForm(forms.Form):
    """Share with a person (by username) or a group (by name); exactly one of them."""

    username = forms.CharField(label=_("Person (username)"), required=False, max_length=150)
    group = forms.CharField(label=_("Group"), required=False, max_length=150)

    def __init__(self, *args, line: Line, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.line = line
        self.user_obj: AbstractBaseUser | None = None
        self.group_obj: Group | None = None

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if not username:
            return ""
        user_model = get_user_model()
        try:
            user = user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist:
            raise ValidationError(
                _(
                    "No user is called “%(name)s”. They need to log in once before you can share with them."
                ),
                params={"name": username},
            ) from None
        if user.pk == self.line.owner_id:
            raise ValidationError(
                _("“%(name)s” owns this line already."), params={"name": username}
            )
        self.user_obj = user
        return username

    def clean_group(self) -> str:
        name = self.cleaned_data["group"].strip()
        if not name:
            return ""
        # Groups are never created here: a typo must not silently make a new, empty group.
        group = Group.objects.filter(name=name).first()
        if group is None:
            raise ValidationError(
                _(
                    "There is no group called “%(name)s”. Groups come from your single sign-on "
                    "or the admin; ask an administrator to create it first."
                ),
                params={"name": name},
            )
        self.group_obj = group
        return name

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("username") and not data.get("group"):
            raise ValidationError(_("Enter a username or a group name to share with."))
        return data


class UnshareForm(forms.Form):
    """Which share to remove, by id, limited to the line's current shares."""

    user = forms.IntegerField(required=False, min_value=1)
    group = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args, line: Line, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.line = line
        self.user_obj: AbstractBaseUser | None = None
        self.group_obj: Group | None = None

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if data.get("user"):
            self.user_obj = self.line.shared_with_users.filter(pk=data["user"]).first()
        if data.get("group"):
            self.group_obj = self.line.shared_with_groups.filter(pk=data["group"]).first()
        if self.user_obj is None and self.group_obj is None:
            raise ValidationError(_("That person or group no longer has access to this line."))
        return data
