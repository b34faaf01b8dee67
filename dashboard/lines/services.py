"""What owners do to lines, shared by the views and the management commands.

Each operation runs in one transaction and appends to the audit trail in it, so a line
is never half-saved and never changed without a trace. The live key check (a network
call) runs *before* the transaction: no database lock is held while the provider thinks.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from dashboard.lines.audit import record
from dashboard.lines.crypto import KeyDecryptionError
from dashboard.lines.key_check import KeyCheck, check_api_key
from dashboard.lines.models import AuditAction, KeyStatus, Line

Actor = AbstractBaseUser | AnonymousUser | None


class LineError(Exception):
    """An operation refused, with a message fit for the user (never holding a key)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def duplicate_label_message(label: str) -> str:
    return _("You already have a line called “%(label)s”. Pick another label.") % {"label": label}


@sensitive_variables()
def _checked(api_key: str, check: bool) -> KeyCheck:
    result = check_api_key(api_key) if check else KeyCheck(KeyStatus.UNCHECKED)
    if not result.saves:
        raise LineError(result.message, field="api_key")
    return result


@sensitive_variables()
def create_line(
    owner: AbstractBaseUser,
    label: str,
    api_key: str,
    *,
    actor: Actor,
    default_region: str = "",
    share_groups: Iterable[Group] = (),
    check: bool = True,
) -> tuple[Line, KeyCheck]:
    """Check the key live, then store the line; LineError if the key is rejected."""
    result = _checked(api_key, check)
    line = Line(owner=owner, label=label, default_region=default_region)
    line.set_api_key(api_key)
    _apply_check(line, result)
    try:
        with transaction.atomic():
            line.save()
            record(
                line,
                actor,
                AuditAction.CREATED,
                key_hint=line.key_hint,
                key_status=result.status.value,
            )
            for group in share_groups:
                line.shared_with_groups.add(group)
                record(line, actor, AuditAction.SHARED_GROUP, group=group.name)
    except IntegrityError:
        # Two requests raced past the form's uniqueness check: same message, nothing saved.
        raise LineError(duplicate_label_message(label), field="label") from None
    return line, result


@sensitive_variables()
def replace_key(line: Line, api_key: str, *, actor: Actor, check: bool = True) -> KeyCheck:
    """Check the new key live, then swap it in; the old key stays if the new one is rejected."""
    result = _checked(api_key, check)
    old_hint = line.key_hint
    with transaction.atomic():
        line.set_api_key(api_key)
        _apply_check(line, result)
        line.save(
            update_fields=[
                "encrypted_api_key",
                "key_hint",
                "key_status",
                "key_checked_at",
                "updated_at",
            ]
        )
        record(
            line,
            actor,
            AuditAction.KEY_REPLACED,
            old_key_hint=old_hint,
            key_hint=line.key_hint,
            key_status=result.status.value,
        )
    return result


@sensitive_variables()
def recheck_key(line: Line, *, actor: Actor) -> KeyCheck:
    """Check the stored key again and remember the answer (a rejected key stays stored)."""
    try:
        api_key = line.get_api_key()
    except KeyDecryptionError as exc:
        raise LineError(str(exc)) from None
    result = check_api_key(api_key)
    with transaction.atomic():
        _apply_check(line, result)
        line.save(update_fields=["key_status", "key_checked_at", "updated_at"])
        record(line, actor, AuditAction.KEY_CHECKED, key_status=result.status.value)
    return result


def update_settings(line: Line, *, label: str, default_region: str, actor: Actor) -> None:
    old_label, old_region = line.label, line.default_region
    if (label, default_region) == (old_label, old_region):
        return
    line.label, line.default_region = label, default_region
    try:
        with transaction.atomic():
            line.save(update_fields=["label", "default_region", "updated_at"])
            if label != old_label:
                record(line, actor, AuditAction.RENAMED, old_label=old_label, new_label=label)
            if default_region != old_region:
                record(
                    line,
                    actor,
                    AuditAction.SETTINGS_CHANGED,
                    default_region={"old": old_region, "new": default_region},
                )
    except IntegrityError:
        line.label, line.default_region = old_label, old_region
        raise LineError(duplicate_label_message(label), field="label") from None


def share_with_user(line: Line, user: AbstractBaseUser, *, actor: Actor) -> bool:
    """Share `line` with `user`; False if it already was (or they own it)."""
    if user.pk == line.owner_id or line.shared_with_users.filter(pk=user.pk).exists():
        return False
    with transaction.atomic():
        line.shared_with_users.add(user)
        record(line, actor, AuditAction.SHARED_USER, user=user.get_username())
    return True


def share_with_group(line: Line, group: Group, *, actor: Actor) -> bool:
    if line.shared_with_groups.filter(pk=group.pk).exists():
        return False
    with transaction.atomic():
        line.shared_with_groups.add(group)
        record(line, actor, AuditAction.SHARED_GROUP, group=group.name)
    return True


def unshare_user(line: Line, user: AbstractBaseUser, *, actor: Actor) -> bool:
    if not line.shared_with_users.filter(pk=user.pk).exists():
        return False
    with transaction.atomic():
        line.shared_with_users.remove(user)
        record(line, actor, AuditAction.UNSHARED_USER, user=user.get_username())
    return True


def unshare_group(line: Line, group: Group, *, actor: Actor) -> bool:
    if not line.shared_with_groups.filter(pk=group.pk).exists():
        return False
    with transaction.atomic():
        line.shared_with_groups.remove(group)
        record(line, actor, AuditAction.UNSHARED_GROUP, group=group.name)
    return True


def delete_line(line: Line, *, actor: Actor) -> None:
    """Delete the line; its audit trail stays (with the label and id copied into it)."""
    with transaction.atomic():
        record(line, actor, AuditAction.DELETED, key_hint=line.key_hint)
        line.delete()


def _apply_check(line: Line, result: KeyCheck) -> None:
    line.key_status = result.status
    line.key_checked_at = timezone.now() if result.status != KeyStatus.UNCHECKED else None
