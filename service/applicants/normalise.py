"""Normalisers for the identifiers people type: CNIC and Pakistani mobile numbers.

Each takes what a person or a partner app sends and returns the one stored
spelling, or raises ``ValueError`` with a message fit for an API client (the
message never repeats the value: it is personal data).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import phonenumbers

from service.core.i18n import msg
from service.core.validation_messages import MessageError

CNIC_SEPARATORS = frozenset("- \t\u00a0")
CNIC_MESSAGE = msg(
    "cnic.invalid", "A CNIC is 13 digits, written #####-#######-# or without dashes."
)

# Characters a typed phone number may contain besides digits; letters are refused.
_PHONE_CHARS = re.compile(r"^\+?[\d\s\-().]+$")
_MOBILE_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)
PHONE_MESSAGE = msg(
    "phone.invalid",
    "Give a Pakistani mobile number, e.g. 03001234567 or +92 300 1234567 (stored +923001234567).",
)
NOT_MOBILE_MESSAGE = msg(
    "phone.not_mobile", "This is not a mobile number; give a Pakistani mobile (03XX XXXXXXX)."
)


def normalise_cnic(value: str) -> str:
    """``'3520212345671'``, ``'35202-1234567-1'`` or ``'35202 1234567 1'`` → ``'35202-1234567-1'``.

    Dashes and spaces may appear anywhere; any Unicode decimal digit (e.g. Urdu
    ``۳``) counts as its ASCII digit.
    """
    if not isinstance(value, str):
        raise MessageError(CNIC_MESSAGE)
    digits: list[str] = []
    for char in value.strip():
        if char in CNIC_SEPARATORS:
            continue
        if not char.isdecimal() or len(digits) >= 13:
            raise MessageError(CNIC_MESSAGE)
        digits.append(str(unicodedata.decimal(char)))
    if len(digits) != 13:
        raise MessageError(CNIC_MESSAGE)
    text = "".join(digits)
    return f"{text[:5]}-{text[5:12]}-{text[12]}"


def normalise_phone(value: str) -> str:
    """A Pakistani mobile number in any usual spelling → E.164 ``'+923001234567'``."""
    if not isinstance(value, str):
        raise MessageError(PHONE_MESSAGE)
    text = value.strip()
    if not text or len(text) > 32 or not _PHONE_CHARS.match(text):
        raise MessageError(PHONE_MESSAGE)
    try:
        number = phonenumbers.parse(text, "PK")
    except phonenumbers.NumberParseException:
        raise MessageError(PHONE_MESSAGE) from None
    if number.country_code != 92:
        raise MessageError(PHONE_MESSAGE)
    # number_type is UNKNOWN for an invalid number, so one call checks both.
    kind = phonenumbers.number_type(number)
    if kind == phonenumbers.PhoneNumberType.UNKNOWN:
        raise MessageError(PHONE_MESSAGE)
    if kind not in _MOBILE_TYPES:
        raise MessageError(NOT_MOBILE_MESSAGE)
    e164 = str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    if not e164.startswith("+923") or len(e164) != 13:
        raise MessageError(PHONE_MESSAGE)
    return e164


def name_key(value: str) -> str:
    """A name compared ignoring letter case, Unicode form and spacing."""
    return "".join(unicodedata.normalize("NFC", value).casefold().split())


def same_name(a: str, b: str) -> bool:
    """``'Ayesha  KHAN'`` is ``'ayesha khan'`` (the rule for linking and for imports)."""
    return name_key(a) == name_key(b)


def has_control_chars(value: str) -> bool:
    return any(unicodedata.category(c) in ("Cc", "Cs") for c in value)


def age_on(born: date, day: date) -> int:
    """Whole years from ``born`` to ``day`` (a 29 February birthday turns on 1 March)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
