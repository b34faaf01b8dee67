"""The signing-secret form: write-only, like the API key (the value never renders)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from dashboard.text import has_invisible_characters

MAX_SECRET_LENGTH = 256
# Shorter than this is not a secret the provider generated (and would be guessable).
MIN_SECRET_LENGTH = 16


def clean_secret_text(value: str | None) -> str:
    """The secret as pasted, trimmed; ValidationError with a message that never quotes it."""
    secret = (value or "").strip()
    if not secret:
        raise ValidationError(_("Paste the signing secret."), code="required")
    if has_invisible_characters(secret):
        raise ValidationError(
            _(
                "The secret contains a line break or another invisible character. Paste it again as a single line."
            ),
            code="control_characters",
        )
    if any(ch.isspace() for ch in secret):
        raise ValidationError(_("The secret contains spaces. Paste it again without them."))
    if not MIN_SECRET_LENGTH <= len(secret) <= MAX_SECRET_LENGTH:
        raise ValidationError(
            _(
                "A signing secret is %(min)d to %(max)d characters long; copy all of it, and only it."
            ),
            params={"min": MIN_SECRET_LENGTH, "max": MAX_SECRET_LENGTH},
        )
    return secret


class SecretField(forms.CharField):
    widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"})

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("strip", False)
        kwargs.setdefault("max_length", MAX_SECRET_LENGTH * 4)  # generous: cleaned below
        super().__init__(**kwargs)

    def clean(self, value):
        return clean_secret_text(value)


class SecretForm(forms.Form):
    secret = SecretField(
        label=_("Signing secret"),
        help_text=_(
            "Shown once by SMSMobileAPI when you create the destination. Stored encrypted; never shown again."
        ),
    )


class NextSecretForm(forms.Form):
    # Its own field name: both forms are on one page, each with its own errors.
    next_secret = SecretField(
        label=_("Next signing secret"),
        help_text=_("During a rotation: deliveries signed with either secret are accepted."),
    )
