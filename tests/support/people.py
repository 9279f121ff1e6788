"""Valid resident ID numbers for every test folder: the one place that makes them.

An 18-character number is the region (6 digits), the birth date (8), a sequence (3; odd for a
man, even for a woman) and a check character. The check character (ISO 7064 MOD 11-2, GB 11643)
is computed here, independently of ``domain.idcard``, so the numbers the tests give the service
are not made by the code under test.

Two kinds of number:

- :func:`fixed_id_number` — the same for the same arguments, for a test that asserts on a
  particular person or must make the same person twice; serials 0-249 by convention;
- :func:`new_id_number` — one never handed out before in this process (serials 250-499), for
  tests that share records keyed by ID number: the department simulator and the databases of a
  session.
"""

from __future__ import annotations

import itertools
import random
from datetime import date

REGION = "220102"  # 长春市南关区

# The session's department simulator is shared by every test module, and it keeps what it derived
# for anyone looked up: the tests that talk to it without seeding use people of a county no other
# test uses (公主岭市).
SIMULATOR_REGION = "220381"

SERIALS = 500  # three sequence digits: a man and a woman per serial
FRESH_FROM = 250  # new_id_number's serials: 250-499; fixed numbers keep below

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"

# From a random start, so two runs against one long-lived simulator would not meet either.
_fresh = itertools.count(random.randrange(10_000))  # noqa: S311 - not a secret


def fixed_id_number(
    born: date, serial: int = 0, *, female: bool = False, region: str = REGION
) -> str:
    """The valid ID number of person ``serial`` born on ``born`` in ``region``: the same arguments
    always give the same number. Its sequence is ``2 * serial + 1`` for a man, ``2 * serial`` for
    a woman."""
    if not 0 <= serial < SERIALS:
        raise ValueError(f"serial {serial} is not in 0..{SERIALS - 1}")
    first17 = f"{region}{born:%Y%m%d}{2 * serial + (0 if female else 1):03d}"
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return first17 + _CHECK[total % 11]


def new_id_number(year: int, month: int, *, female: bool = False, region: str = REGION) -> str:
    """A valid ID number born in ``year-month``, never handed out before in this process (the
    department records are keyed by ID number and shared by every test of a session): its birth
    day and sequence tell people apart, and it is never a :func:`fixed_id_number` of a serial
    below 250."""
    n = next(_fresh)
    born = date(year, month, 1 + n % 28)
    serial = FRESH_FROM + (n // 28) % (SERIALS - FRESH_FROM)
    return fixed_id_number(born, serial, female=female, region=region)


def new_simulator_id_number() -> str:
    """A new person of :data:`SIMULATOR_REGION` born in 1966-05, for a test that lets the
    session's simulator derive their records."""
    return new_id_number(1966, 5, region=SIMULATOR_REGION)
