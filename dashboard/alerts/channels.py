"""The two ways an alert leaves: Django's mail (EMAIL_URL) and Apprise URLs.

Both raise `SendError` with a token-free reason; nothing here logs a target.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass

import apprise
from django.conf import settings
from django.core.mail import EmailMessage

from dashboard.alerts import logs, messages
from dashboard.alerts.models import Delivery, DestinationKind, MemberPreference
from dashboard.lines.crypto import KeyDecryptionError


class SendError(Exception):
    """The message did not go out; the text is safe to store and show."""


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def recipient(delivery: Delivery) -> tuple[str, str, str]:
    """(kind, target in clear, language) of a delivery's recipient."""
    if delivery.destination_id:
        destination = delivery.destination
        try:
            target = destination.get_target()
        except KeyDecryptionError:
            raise SendError(
                "The destination cannot be decrypted (FIELD_ENCRYPTION_KEYS changed?)."
            ) from None
        return destination.kind, target, destination.language
    user = delivery.user
    if user is None or not user.email:
        raise SendError("This person has no e-mail address.")
    preference = MemberPreference.objects.filter(user=user, line=delivery.alert.line_id).first()
    language = preference.language if preference else settings.LANGUAGE_CODE
    return DestinationKind.EMAIL, user.email, language


def send(delivery: Delivery) -> Message:
    """Render the delivery's alert in its recipient's language and send it once."""
    kind, target, language = recipient(delivery)
    rendered = messages.render(delivery.alert, language, member=delivery.user_id is not None)
    message = Message(rendered.subject, rendered.body)
    if kind == DestinationKind.EMAIL:
        send_email(target, message)
    else:
        send_apprise(target, message)
    return message


def send_email(address: str, message: Message) -> None:
    """One e-mail through the EMAIL_URL backend."""
    email = EmailMessage(message.subject, message.body, to=[address])
    try:
        sent = email.send(using="default")
    except (smtplib.SMTPException, OSError, Exception) as exc:  # any backend's failure
        raise SendError(_mail_error(exc)) from None
    if not sent:
        raise SendError("The mail server accepted nothing.")


def _mail_error(exc: Exception) -> str:
    text = f"{type(exc).__name__}: {exc}"
    options = settings.MAILERS.get("default", {}).get("OPTIONS", {})
    for secret in (options.get("password"), options.get("username")):
        if secret:
            text = text.replace(str(secret), logs.REDACTED)
    return text


def apprise_target(url: str):
    """The Apprise plugin for `url`, with our timeouts, or SendError if not a valid URL."""
    plugin = apprise.Apprise.instantiate(url)
    if not plugin:
        raise SendError("This is not an Apprise URL that can be used.")
    plugin.socket_connect_timeout = float(settings.ALERTS_SEND_TIMEOUT)
    plugin.socket_read_timeout = float(settings.ALERTS_SEND_TIMEOUT)
    return plugin


def send_apprise(url: str, message: Message) -> None:
    """One notification through Apprise; its log lines become the (redacted) error."""
    notifier = apprise.Apprise()
    notifier.add(apprise_target(url))
    try:
        result = notifier.notify(
            title=message.subject, body=message.body, timeout=float(settings.ALERTS_SEND_TIMEOUT)
        )
    except Exception as exc:  # a plugin bug must not kill the worker
        raise SendError(logs.redact(f"{type(exc).__name__}: {exc}", url)) from None
    if not result:
        entries = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR", "CRITICAL")]
        reason = entries[-1] if entries else "The service did not accept the message."
        raise SendError(logs.redact(reason, url))
