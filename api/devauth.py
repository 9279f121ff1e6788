"""Development identity: a local signing key and tokens for the demo users.

Only when ``AUTH_DEV_MODE=true`` (``make run``): the API then trusts this key as the issuer's,
and ``var/dev-tokens.json`` holds a token per demo user for trying the API with curl or /docs.
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from domain.policy import Policy
from service.demo import AGENCY, EMPLOYER, REGION, demo_cases

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


def demo_users(today: date, policy: Policy) -> dict[str, dict[str, Any]]:
    """Who can log in during development: one of each role, clerks of every department, and the
    retirees of two demo cases (the demo people are chosen relative to ``today``)."""
    cases = {c.label: c for c in demo_cases(today, policy)}
    users: dict[str, dict[str, Any]] = {
        "employer": {"sub": "jl-auto-works-hr", "role": "employer", "organisation": EMPLOYER},
        "agency": {"sub": "cc-archive-officer", "role": "agency", "organisation": AGENCY},
        "retiree-wang": {
            "sub": "wang-jianguo",
            "role": "individual",
            "id_number": cases["normal"].person.id_number,
        },
        "retiree-sun": {
            "sub": "sun-guilan",
            "role": "individual",
            "id_number": cases["no-employer"].person.id_number,
        },
        "supervisor-hr": {
            "sub": "hr-supervisor-changchun",
            "role": "supervisor",
            "department": "hr",
            "region": "220100",
        },
        "admin": {"sub": "province-admin", "role": "admin", "region": "220000"},
        "clerk-hr-jilin-city": {
            "sub": "hr-clerk-220202",
            "role": "clerk",
            "department": "hr",
            "region": "220202",
        },
    }
    for department in (
        "hr",
        "social-insurance",
        "medical-security",
        "provident-fund",
        "public-security",
        "health-commission",
    ):
        users[f"clerk-{department}"] = {
            "sub": f"{department}-clerk-{REGION}",
            "role": "clerk",
            "department": department,
            "region": REGION,
        }
    return users


def write_dev_tokens(
    folder: Path, *, issuer: str, audience: str, today: date, policy: Policy
) -> Path:
    """``var/dev-tokens.json``: ``{"<user>": {"role": ..., "claims": {...}, "token": ...}}``."""
    private, _ = ensure_dev_keys(folder / "dev-keys")
    tokens = {
        user: {
            "role": claims["role"],
            "claims": claims,
            "token": mint(private, issuer=issuer, audience=audience, claims=claims),
        }
        for user, claims in demo_users(today, policy).items()
    }
    path = folder / "dev-tokens.json"
    path.write_text(json.dumps(tokens, indent=2, ensure_ascii=False), encoding="utf-8")
    return path
