"""Retirees' mobile numbers: sealed with the key ring, shown masked, unsealed only to send."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import ContactRow
from db.types import utcnow
from notifications.contacts import PURPOSE, mask_mobile


class Sealer(Protocol):
    """The key ring (``service.codec.EncryptionCodec``)."""

    def seal(self, text: str, purpose: str) -> str: ...

    def unseal(self, sealed: str, purpose: str) -> str: ...


def save_mobile(db: Session, person_key: str, mobile: str, codec: Sealer) -> None:
    """The person's number from now on (a declaration or a correction gave it)."""
    row = db.get(ContactRow, person_key)
    if row is None:
        row = ContactRow(person_key=person_key)
        db.add(row)
    row.mobile_sealed = codec.seal(mobile, PURPOSE)
    row.mobile_masked = mask_mobile(mobile)
    row.updated_at = utcnow()


def masked_mobile(db: Session, person_key: str) -> str | None:
    return db.scalar(select(ContactRow.mobile_masked).where(ContactRow.person_key == person_key))


def mobile_of(db: Session, person_key: str, codec: Sealer) -> str | None:
    """The number itself, for the SMS platform only."""
    sealed = db.scalar(select(ContactRow.mobile_sealed).where(ContactRow.person_key == person_key))
    return None if sealed is None else codec.unseal(sealed, PURPOSE)
