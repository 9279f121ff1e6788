"""The demo users of ``make run`` and ``var/dev-tokens.json``, a signed token for each, so the
API can be tried with curl or /docs (the API trusts the development key only in development
mode)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from api.devauth import ensure_dev_keys, mint
from domain.policy import Policy
from harness.demo import AGENCY, EMPLOYER, REGION, demo_cases


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
