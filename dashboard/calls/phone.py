"""Phone-number normalisation: one comparable key per number, whatever the phone sent.

The provider passes numbers through exactly as the phone's call log stored them, so one
caller can appear as `+32 470 12 34 56`, `0032470123456` or (with a Belgian SIM)
`0470123456`. `number_key` turns all of them into one E.164 key (`+32470123456`), which
is what marks are stored under and what caller pages are addressed by. No Django here.
"""

from __future__ import annotations

import functools
import re

import phonenumbers

# Longest E.164 number is 15 digits; anything much longer is not a phone number, and the
# key ends up in URLs and database rows.
MAX_KEY_DIGITS = 20
_NON_DIGITS = re.compile(r"\D")


def _parse(number: str, region: str) -> phonenumbers.PhoneNumber | None:
    text = number.strip()
    if not text or len(text) > 64:
        return None
    if text.startswith("00") and not region:
        # Without a region phonenumbers cannot read an international prefix; 00 is the
        # prefix nearly everywhere outside North America.
        text = "+" + text[2:]
    try:
        parsed = phonenumbers.parse(text, region.upper() or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return parsed


# A table renders two of these per row and the same callers recur: parsing is the costly
# part of rendering a cached page, and both functions are pure.
@functools.lru_cache(maxsize=8192)
def number_key(number: str, region: str = "") -> str:
    """The E.164 form when the number can be read (using `region` for national forms),
    else its digits (keeping a leading +); "" for hidden or digit-less numbers.

    Only `+` and digits ever appear in a key, so it is safe in a URL path and a LIKE.
    """
    parsed = _parse(number or "", region or "")
    if parsed is not None:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    digits = _NON_DIGITS.sub("", number or "")[:MAX_KEY_DIGITS]
    if not digits:
        return ""
    return ("+" + digits) if (number or "").strip().startswith("+") else digits


def search_fragment(key: str) -> str:
    """The part every written form of the number shares, to search the provider with.

    For an E.164 key that is the national significant number (`470123456` for
    `+32470123456`): it appears in `+32 470…`-less forms too, as long as the provider's
    LIKE sees the digits unspaced. Otherwise, the digits themselves.
    """
    if key.startswith("+"):
        try:
            parsed = phonenumbers.parse(key, None)
        except phonenumbers.NumberParseException:
            return key.lstrip("+")
        return phonenumbers.national_significant_number(parsed)
    return key


@functools.lru_cache(maxsize=8192)
def display(number: str, region: str = "") -> str:
    """Grouped for reading (`+32 470 12 34 56`); the number as sent when it cannot be read."""
    parsed = _parse(number or "", region or "")
    if parsed is None:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def tel_uri(key: str) -> str:
    """`tel:+32470123456`; for a key without country, the digits as they are."""
    return f"tel:{key}" if key else ""
