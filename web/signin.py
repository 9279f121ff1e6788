"""Signing in. In development a choice of the demo users (``DEV_SIGNIN_FILE``, the tokens
``make run`` writes); each token is verified as any other, so a page sees the claims the API
would. Without that file the identity platform's sign-in is the only way in."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts.people import Role


@dataclass(frozen=True)
class DemoUser:
    name: str
    role: Role
    claims: dict[str, Any]
    token: str

    @property
    def department(self) -> str | None:
        return self.claims.get("department")

    @property
    def region(self) -> str | None:
        return self.claims.get("region")


def demo_users(path: Path) -> dict[str, DemoUser]:
    """The users of a ``var/dev-tokens.json``: ``{"<user>": {"role", "claims", "token"}}``."""
    raw: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return {
        name: DemoUser(name, Role(entry["role"]), dict(entry["claims"]), str(entry["token"]))
        for name, entry in raw.items()
    }


def landing(role: Role) -> str:
    """Where a person goes once signed in."""
    return "/my" if role is Role.INDIVIDUAL else "/"
