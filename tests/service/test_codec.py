"""The payload codec: round trips, key rotation, tampering, and plain payloads passed through."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload

from service.codec import (
    ENCODING,
    KEY_ID,
    CodecError,
    EncryptionCodec,
    ensure_dev_keys,
    load_keys,
)

OLD, NEW = b"o" * 32, b"n" * 32
PLAIN = Payload(metadata={"encoding": b"json/plain"}, data=b'{"id_number": "11010519491231002X"}')


async def test_round_trip_hides_the_plaintext() -> None:
    codec = EncryptionCodec({"k1": OLD}, "k1")
    [sealed] = await codec.encode([PLAIN])
    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.metadata[KEY_ID] == b"k1"
    assert b"11010519491231002X" not in sealed.SerializeToString()
    assert b"json/plain" not in sealed.SerializeToString()  # even the encoding is hidden
    assert await codec.decode([sealed]) == [PLAIN]
    [again] = await codec.encode([PLAIN])
    assert again.data != sealed.data  # a fresh nonce each time


async def test_rotation_reads_old_keys_and_writes_the_new_one() -> None:
    before = EncryptionCodec({"k1": OLD}, "k1")
    [old_payload] = await before.encode([PLAIN])
    after = EncryptionCodec({"k1": OLD, "k2": NEW}, "k2")
    assert await after.decode([old_payload]) == [PLAIN]
    [new_payload] = await after.encode([PLAIN])
    assert new_payload.metadata[KEY_ID] == b"k2"
    with pytest.raises(CodecError, match="no key 'k2'"):
        await before.decode([new_payload])


async def test_tampering_and_relabelling_are_refused() -> None:
    codec = EncryptionCodec({"k1": OLD, "k2": NEW}, "k1")
    [sealed] = await codec.encode([PLAIN])
    flipped = Payload(
        metadata=sealed.metadata, data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    )
    with pytest.raises(CodecError, match="altered"):
        await codec.decode([flipped])
    relabelled = Payload(metadata={**sealed.metadata, KEY_ID: b"k2"}, data=sealed.data)
    with pytest.raises(CodecError):
        await codec.decode([relabelled])


async def test_plain_payloads_from_before_encryption_pass_through() -> None:
    codec = EncryptionCodec({"k1": OLD}, "k1")
    assert await codec.decode([PLAIN]) == [PLAIN]


def test_keys_are_checked() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        EncryptionCodec({"short": b"x" * 16}, "short")
    with pytest.raises(ValueError, match="not among"):
        EncryptionCodec({"k1": OLD}, "k2")
    with pytest.raises(ValueError, match="JSON object"):
        load_keys("not json")
    with pytest.raises(ValueError, match="no payload keys"):
        load_keys("{}")
    assert load_keys(json.dumps({"k1": base64.b64encode(OLD).decode()})) == {"k1": OLD}


def test_dev_keys_are_made_once(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    first = ensure_dev_keys(path)
    assert ensure_dev_keys(path) == first
    assert len(first[0][first[1]]) == 32
    assert path.stat().st_mode & 0o777 == 0o600
