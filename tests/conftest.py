"""Suite-wide fixtures and the truthful exit status."""

from __future__ import annotations

import os
import sys

import pytest

from domain.policy import Policy
from policies import load_policy

_exit_status: list[int] = []


@pytest.fixture(scope="session")
def policy() -> Policy:
    """The bundled Jilin policy, as the service loads it."""
    return load_policy()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _exit_status.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    # After Temporal's Rust core has run, CPython may crash while finalising and turn a green run
    # into exit 134/139 (engineering.md). Once every report is written, leave with pytest's own
    # status. Only when Temporal was loaded, so plain runs exit the ordinary way.
    if _exit_status and "temporalio" in sys.modules:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status[-1])
