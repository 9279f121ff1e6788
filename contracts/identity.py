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


def case_id(id_number: str, secret: bytes) -> str:
    """The workflow id of a person's case: ``retirement-`` and 24 hex digits of the key."""
    return CASE_PREFIX + person_key(id_number, secret)[:24]
