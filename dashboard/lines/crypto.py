"""Encryption at rest for stored API keys (Fernet, rotation through MultiFernet)."""

from __future__ import annotations

import functools
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SETTING = "FIELD_ENCRYPTION_KEYS"


class KeyDecryptionError(Exception):
    """A stored key cannot be decrypted with any configured encryption key."""

    def __init__(self) -> None:
        super().__init__(
            f"A stored API key cannot be decrypted with any key in {SETTING}. Was an old "
            f"encryption key removed from {SETTING} before `rotate_encryption_keys` ran?"
        )


def _fernets(keys: list[str] | tuple[str, ...]) -> list[Fernet]:
    if not keys or not any(k.strip() for k in keys):
        raise ImproperlyConfigured(f"{SETTING} is empty: set at least one Fernet key.")
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.strip().encode()))
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"{SETTING}: entry {position} is not a valid Fernet key (32 url-safe "
                "base64-encoded bytes; generate one with `python -m dashboard.envfile --new-key`)."
            ) from None
    return fernets


@functools.cache
def _multi(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet(_fernets(keys))


def get_fernet() -> MultiFernet:
    """The configured keys, newest first: the first encrypts, all of them decrypt."""
    return _multi(tuple(settings.FIELD_ENCRYPTION_KEYS))


def validate_settings() -> None:
    """Raise ImproperlyConfigured naming the setting if the keys are unusable."""
    get_fernet()


def encrypt(plaintext: str) -> str:
    return get_fernet().encrypt(plaintext.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return get_fernet().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError, ValueError):
        raise KeyDecryptionError() from None


def rotate(token: str) -> str:
    """Re-encrypt `token` under the newest key (decrypting with any configured one)."""
    try:
        return get_fernet().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError, ValueError):
        raise KeyDecryptionError() from None


def is_current(token: str) -> bool:
    """Whether `token` is encrypted under the newest key (False if it is not readable)."""
    newest = _fernets(tuple(settings.FIELD_ENCRYPTION_KEYS))[0]
    try:
        newest.decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeError, ValueError):
        return False
    return True


def fingerprint(plaintext: str) -> str:
    """A stable, non-reversible identifier of an API key (for cache keys and logs)."""
    secret = hashlib.sha256(b"api-key-fingerprint:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(secret, plaintext.encode(), hashlib.sha256).hexdigest()[:32]
