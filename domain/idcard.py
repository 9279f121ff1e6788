"""Resident ID numbers (GB 11643-1999): validation, birth date, gender, 15→18 conversion.

An ID number is personal data: callers must keep it out of logs, workflow ids and search
attributes (see :func:`mask`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from domain.policy import Gender

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
# Province-level prefixes of GB/T 2260 address codes (mainland, Taiwan, Hong Kong, Macao).
_PROVINCES = frozenset(
    {
        "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
        "65", "71", "81", "82",
    }
)  # fmt: skip
EARLIEST_BIRTH_YEAR = 1900
# ASCII digits only: str.isdigit() would accept full-width and superscript digits.
_SHAPE = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)
_DIGITS15 = re.compile(r"[0-9]{15}", re.ASCII)


class InvalidIdNumber(ValueError):
    """An ID number that fails one rule; ``code`` names the rule for programs."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class IdNumber:
    """A validated 18-character ID number and what it encodes."""

    number: str
    region_code: str
    birth_date: date
    gender: Gender

    @property
    def province_code(self) -> str:
        return self.region_code[:2]


def check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def parse_id_number(text: str, today: date) -> IdNumber:
    """Validate an 18-digit (or legacy 15-digit) ID number and decode it.

    A 15-digit number is converted to 18 digits first. Each failure raises
    :class:`InvalidIdNumber` with its own reason; ``today`` bounds the birth date.
    """
    number = text.strip().upper()
    if len(number) == 15:
        number = upgrade_15_to_18(number)
    if len(number) != 18:
        raise InvalidIdNumber(
            "length", f"an ID number has 18 characters (or 15), not {len(number)}"
        )
    if _SHAPE.fullmatch(number) is None:
        raise InvalidIdNumber("characters", "an ID number is 17 digits followed by a digit or X")
    region = number[:6]
    if region[:2] not in _PROVINCES:
        raise InvalidIdNumber("region", f"region code {region} names no province")
    birth = _birth_date(number[6:14], today)
    expected = check_character(number[:17])
    if number[17] != expected:
        raise InvalidIdNumber(
            "check-character", f"check character is {number[17]}, the digits give {expected}"
        )
    gender = Gender.MALE if int(number[16]) % 2 == 1 else Gender.FEMALE
    return IdNumber(number=number, region_code=region, birth_date=birth, gender=gender)


def upgrade_15_to_18(number: str) -> str:
    """Convert a legacy 15-digit number (births 1900-1999, no check) to its 18-digit form."""
    if _DIGITS15.fullmatch(number) is None:
        raise InvalidIdNumber("characters", "a 15-digit ID number has digits only")
    first17 = number[:6] + "19" + number[6:]
    return first17 + check_character(first17)


def mask(number: str) -> str:
    """Show only what a clerk needs to tell two people apart: 2201**********123X."""
    if len(number) < 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def _birth_date(digits: str, today: date) -> date:
    year, month, day = int(digits[:4]), int(digits[4:6]), int(digits[6:8])
    try:
        born = date(year, month, day)
    except ValueError:
        raise InvalidIdNumber("birth-date", f"birth date {digits} is not a calendar date") from None
    if born > today:
        raise InvalidIdNumber("birth-date", f"birth date {born} is in the future")
    if year < EARLIEST_BIRTH_YEAR:
        raise InvalidIdNumber("birth-date", f"birth year {year} is before {EARLIEST_BIRTH_YEAR}")
    return born
