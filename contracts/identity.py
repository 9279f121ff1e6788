"""Business ids with no personal data in them.

The Temporal UI shows workflow ids to every administrator, so a case id is a keyed hash of the
person's ID number: stable (a second declaration finds the open case) but not reversible without
the service's key.
"""

from __future__ import annotations

import hashlib
import hmac

CASE_PREFIX = "retirement-"


def person_key(id_number: str, secret: bytes) -> str:
    """HMAC-SHA256 of the normalised ID number, hex: the person's pseudonym across the service."""
    return hmac.new(secret, id_number.strip().upper().encode(), hashlib.sha256).hexdigest()


def case_id(id_number: str, secret: bytes, generation: int = 1) -> str:
    """The workflow id of a person's case: ``retirement-`` and 24 hex digits of the key; a
    person's later cases (after one was withdrawn, rejected or cancelled) add ``-2``, ``-3``…
    so no record of an earlier case is ever taken for a later one's."""
    base = CASE_PREFIX + person_key(id_number, secret)[:24]
    return base if generation == 1 else f"{base}-{generation}"
