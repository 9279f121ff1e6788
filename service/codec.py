"""Personal data encrypted in Temporal: an AES-GCM payload codec with key rotation.

Every payload a client or worker sends to Temporal (workflow inputs, update arguments, activity
arguments and results, query answers, failure messages) is encrypted with the current key; the
key id travels in the payload's metadata, so payloads written under an older key still decrypt
after a rotation. Payloads without the encrypted encoding (histories from before encryption) are
read as they are. The Temporal server and its UI see only ciphertext unless the UI is pointed at
the codec endpoint (``api/routes/codec.py``).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12


class CodecError(ValueError):
    """A payload that cannot be decrypted: unknown key id, or tampered ciphertext."""


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: Mapping[str, bytes], current: str) -> None:
        if current not in keys:
            raise ValueError(f"the current key {current!r} is not among the keys")
        for key_id, key in keys.items():
            if len(key) != 32:
                raise ValueError(f"key {key_id!r} must be 32 bytes (AES-256), not {len(key)}")
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._current = current

    @property
    def current_key_id(self) -> str:
        return self._current

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        # The key id is authenticated too: a payload cannot be relabelled to another key.
        sealed = self._ciphers[self._current].encrypt(
            nonce, payload.SerializeToString(), self._current.encode()
        )
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID: self._current.encode()},
            data=nonce + sealed,
        )

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # written before encryption was switched on
        key_id = payload.metadata.get(KEY_ID, b"").decode()
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise CodecError(f"no key {key_id!r} to decrypt this payload with")
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            plain = cipher.decrypt(nonce, sealed, key_id.encode())
        except InvalidTag:
            raise CodecError("the payload was altered or encrypted with another key") from None
        return Payload.FromString(plain)

    def seal(self, text: str, purpose: str) -> str:
        """``text`` encrypted for a database column: ``<key id>:<base64 nonce and ciphertext>``.
        ``purpose`` (e.g. ``contact.mobile``) is authenticated with it, so a sealed value
        cannot be moved to another column and read there."""
        nonce = os.urandom(NONCE_BYTES)
        aad = f"{self._current}\x1f{purpose}".encode()
        sealed = self._ciphers[self._current].encrypt(nonce, text.encode(), aad)
        return f"{self._current}:{base64.b64encode(nonce + sealed).decode()}"

    def unseal(self, sealed: str, purpose: str) -> str:
        """The text :meth:`seal` sealed for ``purpose``, under whichever key of the ring."""
        key_id, _, data = sealed.partition(":")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise CodecError(f"no key {key_id!r} to unseal this value with")
        raw = base64.b64decode(data)
        aad = f"{key_id}\x1f{purpose}".encode()
        try:
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad).decode()
        except InvalidTag:
            raise CodecError("the value was altered, or sealed for another purpose") from None


def load_keys(text: str) -> dict[str, bytes]:
    """Keys from JSON ``{"<key id>": "<base64 of 32 bytes>", ...}``."""
    try:
        raw = json.loads(text)
        keys = {str(k): base64.b64decode(v, validate=True) for k, v in raw.items()}
    except (ValueError, AttributeError, TypeError) as exc:
        raise ValueError(f"payload keys must be a JSON object of base64 keys: {exc}") from None
    if not keys:
        raise ValueError("no payload keys given")
    return keys


def ensure_dev_keys(path: Path) -> tuple[dict[str, bytes], str]:
    """A development key ring under ``var/`` (created once), for ``make run`` and the demo."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()
        path.write_text(json.dumps({"dev-1": key}), encoding="utf-8")
        path.chmod(0o600)
    keys = load_keys(path.read_text(encoding="utf-8"))
    return keys, sorted(keys)[-1]
