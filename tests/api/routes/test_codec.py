"""``api/routes/codec.py``: the Temporal UI's remote codec (``POST /codec/encode``,
``POST /codec/decode``), for administrators only."""

from __future__ import annotations

import base64

from tests.api.conftest import Api
from tests.api.support import Json, assert_problem, clerk_headers


def _wire(text: str, encoding: str = "json/plain") -> Json:
    return {
        "metadata": {"encoding": base64.b64encode(encoding.encode()).decode()},
        "data": base64.b64encode(text.encode()).decode(),
    }


async def test_codec_round_trip_for_administrators(api: Api) -> None:
    """The Temporal UI's remote codec: admins encrypt and decrypt payloads; nobody else."""
    admin = api.as_(role="admin", region="220000")
    plain = {"payloads": [_wire('"王建国"'), _wire('{"stage": "pre-review"}')]}
    encoded = await api.http.post("/codec/encode", json=plain, headers=admin)
    assert encoded.status_code == 200, encoded.text
    sealed = encoded.json()["payloads"]
    assert len(sealed) == 2
    for payload in sealed:
        encoding = base64.b64decode(payload["metadata"]["encoding"])
        assert encoding == b"binary/encrypted"
        assert "王建国" not in base64.b64decode(payload["data"]).decode("utf-8", "replace")
    decoded = await api.http.post("/codec/decode", json={"payloads": sealed}, headers=admin)
    assert decoded.status_code == 200, decoded.text
    assert decoded.json() == plain
    untouched = await api.http.post("/codec/decode", json=plain, headers=admin)
    assert untouched.json() == plain  # written before encryption: read as it is

    data = bytearray(base64.b64decode(sealed[0]["data"]))
    data[-1] ^= 1
    tampered = {**sealed[0], "data": base64.b64encode(bytes(data)).decode()}
    altered = await api.http.post("/codec/decode", json={"payloads": [tampered]}, headers=admin)
    assert_problem(altered, 422, slug="undecodable", detail="altered")
    unknown_key = {
        **sealed[0],
        "metadata": {**sealed[0]["metadata"], "encryption-key-id": base64.b64encode(b"x").decode()},
    }
    no_key = await api.http.post("/codec/decode", json={"payloads": [unknown_key]}, headers=admin)
    assert_problem(no_key, 422, slug="undecodable", detail="no key")
    garbage = {"payloads": [{"metadata": {}, "data": "not base64!"}]}
    assert_problem(await api.http.post("/codec/decode", json=garbage, headers=admin), 422)

    for path in ("/codec/encode", "/codec/decode"):
        anonymous = await api.http.post(path, json=plain)
        assert_problem(anonymous, 401, slug="missing-token")
        assert anonymous.headers["www-authenticate"] == "Bearer"
        basic = await api.http.post(path, json=plain, headers={"Authorization": "Basic eDp5"})
        assert_problem(basic, 401)
        clerk = await api.http.post(path, json=plain, headers=clerk_headers(api, "hr"))
        assert_problem(clerk, 403, slug="forbidden")
        forged = await api.http.post(path, json=plain, headers={"Authorization": "Bearer x.y.z"})
        assert_problem(forged, 401)
