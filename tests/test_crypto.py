"""Stored keys are encrypted at rest, survive rotation, and fail loudly with wrong keys."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from dashboard.lines import crypto
from dashboard.lines.apps import check_encryption_keys
from dashboard.lines.models import Line
from tests.conftest import make_line

GEN1, GEN2, GEN3 = (Fernet.generate_key().decode() for _ in range(3))
KEYS = {
    "Support phone": "demo-support",
    "Sales mobile": "demo-sales",
    "Night shift": "demo-night-shift-0001",
}


def raw_rows() -> list[tuple[int, str, str]]:
    """The table as the database holds it, bypassing the model."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, encrypted_api_key, key_hint FROM lines_line ORDER BY id")
        return list(cursor.fetchall())


def make_lines(owner) -> list[Line]:
    return [make_line(owner, key, label) for label, key in KEYS.items()]


def rotate(**kwargs) -> str:
    out = io.StringIO()
    call_command("rotate_encryption_keys", stdout=out, stderr=out, **kwargs)
    return out.getvalue()


# At rest ---------------------------------------------------------------------------------


@override_settings(FIELD_ENCRYPTION_KEYS=[GEN1])
def test_the_database_holds_no_key_in_clear(owner):
    make_lines(owner)
    rows = raw_rows()
    assert len(rows) == 3
    for (_id, token, hint), key in zip(rows, KEYS.values(), strict=True):
        assert key not in token
        assert hint == key[-4:]
        assert Fernet(GEN1.encode()).decrypt(token.encode()).decode() == key
    # Nowhere else in the table either, whatever the column.
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM lines_line")
        dump = repr(cursor.fetchall())
    assert not any(key in dump for key in KEYS.values())


def test_two_encryptions_of_one_key_differ(owner):
    assert crypto.encrypt("demo-support") != crypto.encrypt("demo-support")


# Rotation --------------------------------------------------------------------------------


def test_rotation_through_three_generations_loses_no_key(owner):
    with override_settings(FIELD_ENCRYPTION_KEYS=[GEN1]):
        lines = make_lines(owner)
        first = raw_rows()

    with override_settings(FIELD_ENCRYPTION_KEYS=[GEN2, GEN1]):
        output = rotate()
        assert "Re-encrypted 3 stored key(s)" in output
        assert "3 were under an older key" in output
        second = raw_rows()
        assert all(crypto.is_current(token) for _id, token, _hint in second)

    with override_settings(FIELD_ENCRYPTION_KEYS=[GEN3, GEN2]):  # GEN1 is retired
        output = rotate()
        assert "Re-encrypted 3 stored key(s)" in output
        third = raw_rows()

    # Only the newest generation is needed now; every key reads back unchanged.
    with override_settings(FIELD_ENCRYPTION_KEYS=[GEN3]):
        for line, key in zip(lines, KEYS.values(), strict=True):
            assert Line.objects.get(pk=line.pk).get_api_key() == key
    tokens = [{row[1] for row in rows} for rows in (first, second, third)]
    assert not (tokens[0] & tokens[1]) and not (tokens[1] & tokens[2])
    assert [row[2] for row in third] == [row[2] for row in first]  # hints untouched


def test_rotation_does_not_touch_updated_at(owner):
    with override_settings(FIELD_ENCRYPTION_KEYS=[GEN1]):
        line = make_line(owner, "demo-support")
    before = Line.objects.get(pk=line.pk).updated_at
    with override_settings(FIELD_ENCRYPTION_KEYS=[GEN2, GEN1]):
        rotate()
    assert Line.objects.get(pk=line.pk).updated_at == before


def test_rotation_refuses_and_changes_nothing_when_a_key_cannot_be_decrypted(owner):
    with override_settings(FIELD_ENCRYPTION_KEYS=[GEN1]):
        make_line(owner, "demo-support", "Readable")
    with override_settings(FIELD_ENCRYPTION_KEYS=[GEN2]):
        lost = make_line(owner, "demo-sales", "Under a key that will go missing")
    before = raw_rows()
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=[GEN3, GEN1]),
        pytest.raises(CommandError) as excinfo,
    ):
        rotate()
    message = str(excinfo.value)
    assert "FIELD_ENCRYPTION_KEYS" in message
    assert f"line id {lost.pk}" in message
    assert "nothing was changed" in message
    assert raw_rows() == before


def test_a_dry_run_reports_and_changes_nothing(owner):
    with override_settings(FIELD_ENCRYPTION_KEYS=[GEN1]):
        make_lines(owner)
    before = raw_rows()
    with override_settings(FIELD_ENCRYPTION_KEYS=[GEN2, GEN1]):
        output = rotate(dry_run=True)
    assert "3 stored key(s) decrypt; 3 are under an older key" in output
    assert raw_rows() == before


def test_rotating_with_no_lines_says_so(db):
    assert "Re-encrypted 0 stored key(s)" in rotate()


# Wrong or missing keys -------------------------------------------------------------------


@pytest.mark.parametrize("keys", [[], [""], ["  "]])
def test_missing_encryption_keys_name_the_setting(keys):
    with override_settings(FIELD_ENCRYPTION_KEYS=keys):
        with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEYS is empty"):
            crypto.encrypt("demo-support")
        [error] = check_encryption_keys(None)
    assert error.id == "lines.E001" and "FIELD_ENCRYPTION_KEYS" in error.msg


def test_a_malformed_encryption_key_names_the_setting_and_its_position():
    with override_settings(FIELD_ENCRYPTION_KEYS=[GEN1, "not-a-fernet-key"]):
        with pytest.raises(ImproperlyConfigured, match=r"FIELD_ENCRYPTION_KEYS: entry 2"):
            crypto.validate_settings()
        [error] = check_encryption_keys(None)
    assert "not-a-fernet-key" not in error.msg  # even a bad key is not echoed


def test_a_wrong_key_raises_a_clear_error_never_an_empty_key(owner):
    with override_settings(FIELD_ENCRYPTION_KEYS=[GEN1]):
        line = make_line(owner, "demo-support")
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=[GEN2]),
        pytest.raises(crypto.KeyDecryptionError, match="FIELD_ENCRYPTION_KEYS") as excinfo,
    ):
        Line.objects.get(pk=line.pk).get_api_key()
    assert excinfo.value.__suppress_context__  # no cryptography traceback chained to it
    assert "demo-support" not in str(excinfo.value)


def test_the_calls_page_explains_an_undecryptable_key(client, owner, demo_upstream):
    with override_settings(FIELD_ENCRYPTION_KEYS=[GEN1]):
        line = make_line(owner, "demo-support")
    client.force_login(owner)
    with override_settings(FIELD_ENCRYPTION_KEYS=[GEN2]):
        response = client.get(reverse("line-calls", kwargs={"line_id": line.pk, "kind": "missed"}))
    assert response.status_code == 200
    assert b"FIELD_ENCRYPTION_KEYS" in response.content
    assert demo_upstream.recorded() == []  # no request with an empty or garbled key


def test_rotation_with_unusable_settings_fails_naming_the_setting(owner):
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=["garbage"]),
        pytest.raises(CommandError, match="FIELD_ENCRYPTION_KEYS"),
    ):
        rotate()


def test_fingerprints_are_stable_and_do_not_reveal_the_key():
    assert crypto.fingerprint("demo-support") == crypto.fingerprint("demo-support")
    assert crypto.fingerprint("demo-support") != crypto.fingerprint("demo-sales")
    assert "support" not in crypto.fingerprint("demo-support")
