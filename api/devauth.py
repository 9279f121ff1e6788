"""Development identity: a local signing key, and tokens signed with it.

Only when ``AUTH_DEV_MODE=true`` (``make run``): the API then trusts this key as the issuer's.
Who the demo users are, and ``var/dev-tokens.json`` with a token each, is the demo's business
(``harness.dev_tokens``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

KEY_ID = "dev-1"
TOKEN_LIFETIME = 30 * 24 * 3600  # development tokens last a month


def ensure_dev_keys(folder: Path) -> tuple[Path, Path]:
    """The private key (PEM) and the public JWKS, created once under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    private = folder / "dev-signing-key.pem"
    jwks = folder / "dev-jwks.json"
    if not private.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        private.chmod(0o600)
    if not jwks.exists():
        loaded = serialization.load_pem_private_key(private.read_bytes(), password=None)
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise RuntimeError(f"{private} is not an RSA key")
        public: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(loaded.public_key()))
        public.update({"kid": KEY_ID, "alg": "RS256", "use": "sig"})
        jwks.write_text(json.dumps({"keys": [public]}, indent=2), encoding="utf-8")
    return private, jwks


def mint(private_key: Path, *, issuer: str, audience: str, claims: dict[str, Any]) -> str:
    now = int(time.time())
    payload = {"iss": issuer, "aud": audience, "iat": now, "exp": now + TOKEN_LIFETIME, **claims}
    return jwt.encode(payload, private_key.read_bytes(), algorithm="RS256", headers={"kid": KEY_ID})
