"""Local ports for the processes the project starts itself (dev server, worker, API)."""

from __future__ import annotations

import socket
import subprocess
import time

from harness.binaries import temporal_cli


def free_port() -> int:
    """A port nothing listens on now, for a server of our own (tests, chaos runs)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def in_use(host: str, port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((host, port)) == 0


def wait_for_port(
    host: str,
    port: int,
    process: subprocess.Popen[bytes] | None = None,
    timeout: float = 60,
) -> None:
    """Until something listens on ``host:port``; fails early if ``process`` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        if in_use(host, port):
            return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {host}:{port} after {timeout:.0f} s")


def wait_for_temporal(
    address: str, process: subprocess.Popen[bytes] | None = None, timeout: float = 60
) -> None:
    """Until the Temporal dev server at ``host:port`` answers as healthy. Its port opens before
    its frontend is ready, and a client connecting then is refused ("Frontend is not healthy
    yet"); fails early if ``process`` exits first."""
    host, _, port = address.rpartition(":")
    deadline = time.monotonic() + timeout
    wait_for_port(host, int(port), process, timeout)
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        health = subprocess.run(  # noqa: S603 - the CLI asks the server's own health check
            [temporal_cli(), "operator", "cluster", "health", "--address", address],
            capture_output=True,
            text=True,
            check=False,
        )
        if health.returncode == 0 and "SERVING" in health.stdout:
            return
        time.sleep(0.2)
    raise RuntimeError(f"the Temporal server at {address} is not healthy after {timeout:.0f} s")
