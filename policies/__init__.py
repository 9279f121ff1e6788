"""Versioned policy files and the one function that reads them.

The rules in ``domain`` are pure and take a parsed :class:`domain.policy.Policy`; reading the file
happens here, at the edge (CLI, worker, API). ``RETIREMENT_POLICY_FILE`` points at another file,
so an administrator can correct a figure without a release.
"""

from __future__ import annotations

import os
from pathlib import Path

from domain.policy import Policy, PolicyError, parse_policy

DEFAULT_POLICY_FILE = Path(__file__).resolve().parent / "jilin-2025.toml"
POLICY_FILE_ENV = "RETIREMENT_POLICY_FILE"


def policy_path() -> Path:
    """The policy file in force: ``$RETIREMENT_POLICY_FILE`` or the bundled Jilin policy."""
    configured = os.environ.get(POLICY_FILE_ENV)
    return Path(configured) if configured else DEFAULT_POLICY_FILE


def load_policy(path: Path | str | None = None) -> Policy:
    """Read and validate a policy file; a :class:`PolicyError` says what is wrong and where."""
    file = Path(path) if path is not None else policy_path()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read policy file {file}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise PolicyError(f"policy file {file} is not UTF-8 text: {exc.reason}") from exc
    return parse_policy(text, str(file))
