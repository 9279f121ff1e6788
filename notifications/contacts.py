"""A person's mobile number: checked, masked for every screen, sealed for the database."""

from __future__ import annotations

import re

MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
MOBILE_PATTERN = MOBILE.pattern
PURPOSE = "contact.mobile"  # what a sealed number is bound to (service.codec.EncryptionCodec.seal)


def normalise_mobile(raw: str) -> str:
    """The eleven digits of a mainland mobile number, written with or without spaces, dashes
    or the +86 prefix; ``ValueError`` with the reason otherwise."""
    digits = re.sub(r"[\s-]", "", raw)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if not MOBILE.match(digits):
        raise ValueError("a mobile number is 11 digits starting with 13 to 19")
    return digits


def mask_mobile(mobile: str) -> str:
    """138****5678: enough for the person to recognise their number, not to dial it."""
    return f"{mobile[:3]}****{mobile[-4:]}"
