"""Waiting for a Temporal server means waiting for its health, not for its port: the dev server
listens before its frontend is ready and refuses clients then ("Frontend is not healthy yet",
a chaos run of 2026-12-01)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from harness.ports import free_port, wait_for_temporal


async def test_a_healthy_server_is_waited_for_at_once(dev_server: Any) -> None:
    wait_for_temporal(dev_server.client.service_client.config.target_host, timeout=10)


def test_a_server_that_exits_is_not_waited_for() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with pytest.raises(RuntimeError, match="exited with 0"):
        wait_for_temporal(f"127.0.0.1:{free_port()}", gone, timeout=10)


def test_a_port_nothing_answers_on_is_given_up() -> None:
    with pytest.raises(RuntimeError, match="nothing listens"):
        wait_for_temporal(f"127.0.0.1:{free_port()}", timeout=0.5)
