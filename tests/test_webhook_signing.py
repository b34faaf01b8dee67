"""The signature rules on their own: raw bytes, either secret, either header, the window."""

from __future__ import annotations

import pytest

from dashboard.webhooks.signing import SignatureError, sign, verify

BODY = b'{"id":"7b48758f-9f9c-4f95-a32e-494c871e3e4c","type":"call.missed"}'
NOW = 1_790_000_000


def check(**overrides):
    args = {
        "secrets": ["s3cret-current-000"],
        "timestamp": str(NOW),
        "signatures": [sign("s3cret-current-000", NOW, BODY), None],
        "body": BODY,
        "now": NOW,
    }
    args.update(overrides)
    verify(**args)


def code_of(**overrides) -> str:
    with pytest.raises(SignatureError) as caught:
        check(**overrides)
    return caught.value.code


def test_it_matches_the_providers_documented_formula():
    import hashlib
    import hmac

    expected = hmac.new(b"k", b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert sign("k", 1700000000, BODY) == "v1=" + expected


def test_a_good_signature_passes():
    check()


def test_the_body_is_checked_byte_for_byte():
    # Same JSON once parsed, different bytes: refused (verification is before parsing).
    assert code_of(body=BODY.replace(b",", b", ")) == "signature_mismatch"


def test_either_secret_in_either_header_passes_during_a_rotation():
    secrets = ["old-secret-0000000", "new-secret-0000000"]
    check(secrets=secrets, signatures=[None, sign("new-secret-0000000", NOW, BODY)])
    check(secrets=secrets, signatures=[sign("new-secret-0000000", NOW, BODY), None])
    check(secrets=secrets, signatures=["v1=00", sign("old-secret-0000000", NOW, BODY)])


def test_a_signature_with_another_secret_is_refused():
    assert code_of(signatures=[sign("someone-else-000", NOW, BODY)]) == "signature_mismatch"


def test_the_timestamp_is_part_of_what_is_signed():
    assert code_of(timestamp=str(NOW + 1)) == "signature_mismatch"


@pytest.mark.parametrize("offset", [301, -301, 10_000])
def test_a_timestamp_more_than_300_seconds_off_is_refused(offset):
    at = NOW + offset
    good = sign("s3cret-current-000", at, BODY)
    assert code_of(timestamp=str(at), signatures=[good]) == "timestamp_out_of_window"


def test_a_timestamp_300_seconds_off_still_passes():
    at = NOW - 300
    check(timestamp=str(at), signatures=[sign("s3cret-current-000", at, BODY)])


@pytest.mark.parametrize(
    ("timestamp", "code"),
    [
        (None, "timestamp_missing"),
        ("", "timestamp_missing"),
        ("12.5", "timestamp_invalid"),
        ("-5", "timestamp_invalid"),
        ("１２３", "timestamp_invalid"),
        ("9" * 40, "timestamp_invalid"),
    ],
)
def test_a_missing_or_unreadable_timestamp_is_refused(timestamp, code):
    assert code_of(timestamp=timestamp) == code


def test_no_signature_header_is_refused():
    assert code_of(signatures=[None, ""]) == "signature_missing"


def test_no_configured_secret_refuses_everything():
    assert code_of(secrets=[]) == "no_secret_configured"
