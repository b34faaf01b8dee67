"""Phone-number normalisation: one comparable key per number, whatever the phone sent.

The provider passes numbers through exactly as the phone's call log stored them, so one
caller can appear as `+32 470 12 34 56`, `0032470123456` or (with a Belgian SIM)
`0470123456`. `number_key` turns all of them into one E.164 key (`+32470123456`), which
is what marks are stored under and what caller pages are addressed by. No Django here.
"""

from __future__ import annotations

import functools
import re
import unicodedata

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


# A search made only of digits and the usual phone punctuation is a number being typed
# (after NFKC, so full-width digits from a Japanese keyboard count too).
_PHONE_LIKE = re.compile(r"^\+?[0-9\s().\-/]*[0-9][0-9\s().\-/]*$")
# Fewer digits than this left once a prefix is dropped would match nearly every number:
# such a search goes as its digits (and `+`) instead.
MIN_PARTIAL_DIGITS = 3


@functools.lru_cache(maxsize=1024)
def search_term(text: str, region: str = "") -> str:
    """What the provider's LIKE is sent for the search `text` on a line of `region`.

    A number, however written (`0486 39 86 74`, `+32 486…`, `0032…`), goes as its
    national significant number (`486398674`): the digits shared by the E.164 and the
    national form the phone may have stored. The start of a number goes as its digits
    without the prefix either form may lack. Anything else (a name) goes as typed.
    """
    normal = unicodedata.normalize("NFKC", text).strip()
    if not _PHONE_LIKE.match(normal):
        return text
    parsed = _parse(normal, region or "")
    # Valid, not merely possible: a US "possible" 7-digit local number is more often the
    # start of a longer one, which the prefix rule below reads right.
    if parsed is not None and phonenumbers.is_valid_number(parsed):
        return phonenumbers.national_significant_number(parsed)
    digits = _NON_DIGITS.sub("", normal)[:MAX_KEY_DIGITS]
    plus = normal.startswith("+")
    rest = _without_prefix(digits, plus, (region or "").upper())
    if len(rest) >= MIN_PARTIAL_DIGITS:
        return rest
    return ("+" + digits) if plus else digits


def _without_prefix(digits: str, plus: bool, region: str) -> str:
    """The digits of a partly typed number after its `+`/international prefix and country
    code, or its national (trunk) prefix: what both stored forms go on with."""
    if plus:
        return _without_country_code(digits)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region) if region else None
    idd = metadata.international_prefix if metadata else "00"
    match = re.match(idd, digits) if idd else None
    if match and match.end():
        return _without_country_code(digits[match.end() :])
    trunk = metadata.national_prefix if metadata else None
    if trunk and digits.startswith(trunk):
        return digits[len(trunk) :]
    return digits


def _without_country_code(digits: str) -> str:
    # Country codes are prefix-free, so the first one that is known is the one.
    for size in (1, 2, 3):
        code = digits[:size]
        if len(code) == size and int(code) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            rest = digits[size:]
            # `+32 (0)470…`: the trunk 0 people keep after the code is in neither form.
            main = phonenumbers.region_code_for_country_code(int(code))
            metadata = phonenumbers.PhoneMetadata.metadata_for_region(main)
            if metadata and metadata.national_prefix == "0" and rest.startswith("0"):
                rest = rest[1:]
            return rest
    return digits


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
