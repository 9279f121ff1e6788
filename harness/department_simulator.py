"""The department simulator (``simulator/``) as a process the harnesses start, seed, break and
kill: ``make run``, the demo, the chaos, load and benchmark runs and the tests.

Only harness code imports this; the worker knows the simulator solely as the URL and the secret
in its settings, as it knows the real departments in production.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from adapters.departments import Platform
from adapters.platform import Endpoint
from contracts.platform import System
from harness.ports import free_port
from simulator.faults import Fault, FaultMode
from simulator.scenarios import PersonScenario, person


class SimulatorFailed(RuntimeError):
    """The simulator exited or never answered; the message ends with its log."""


class DepartmentSimulator:
    """One simulator process on a free port with its own SQLite database in ``folder``."""

    def __init__(
        self,
        folder: Path,
        *,
        port: int | None = None,
        app_id: str = "retirement-service",
        secret: SecretStr | None = None,
        admin_token: str | None = None,
        log_name: str = "simulator.log",
    ) -> None:
        """A fresh secret and admin token for the run unless given (``make run`` gives the
        development ones, which the worker's and the README's defaults match)."""
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = f"sqlite:///{folder / 'departments.db'}"
        self.app_id = app_id
        self.secret = secret or SecretStr(uuid.uuid4().hex)
        self.admin_token = admin_token or uuid.uuid4().hex
        self.log_path = folder / log_name
        self.process: subprocess.Popen[bytes] | None = None
        self._admin = httpx.Client(
            base_url=f"{self.url}/admin",
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=30,
            # A pooled connection is dropped well before the server closes an idle one (its
            # keep-alive timeout): reusing one the server is closing that instant fails the
            # request with "Server disconnected without sending a response".
            limits=httpx.Limits(keepalive_expiry=1.0),
        )

    # ---- the process ------------------------------------------------------------------------

    def start(self, *, timeout: float = 30) -> None:
        log = self.log_path.open("ab")
        env = {
            **os.environ,
            "SIMULATOR_DATABASE_URL": self.database_url,
            "SIMULATOR_CLIENTS": json.dumps({self.app_id: self.secret.get_secret_value()}),
            "SIMULATOR_ADMIN_TOKEN": self.admin_token,
        }
        self.process = subprocess.Popen(  # noqa: S603 - our own module and fixed arguments
            [sys.executable, "-m", "simulator", "serve", "--port", str(self.port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise SimulatorFailed(
                    f"the simulator exited ({self.process.returncode})\n{self.log_tail()}"
                )
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise SimulatorFailed(f"the simulator did not answer in {timeout} s\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: the departments' systems are gone until :meth:`start`."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._admin.close()

    def log_tail(self, lines: int = 20) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    # ---- what the worker needs ---------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """The worker's settings that point it at this simulator (``service.settings``)."""
        return {
            "DEPARTMENTS_URL": self.url,
            "PLATFORM_APP_ID": self.app_id,
            "PLATFORM_SECRET": self.secret.get_secret_value(),
        }

    def endpoints(self) -> Mapping[System, Endpoint]:
        return {
            system: Endpoint(
                base_url=f"{self.url}/{system}", app_id=self.app_id, secret=self.secret
            )
            for system in System
        }

    def platform(self, *, timeout: httpx.Timeout | None = None) -> Platform:
        """Adapters signed as the worker's are (close it when done)."""
        if timeout is None:
            return Platform.connect(self.endpoints())
        return Platform.connect(self.endpoints(), timeout=timeout)

    # ---- the admin API -----------------------------------------------------------------------

    def seed(self, id_number: str, name: str, **records: Any) -> None:
        """Set the person's records (``simulator.scenarios.person``'s keywords); a person never
        seeded gets derived records the first time a department is asked."""
        self.put_person(id_number, person(name, **records))

    def put_person(self, id_number: str, scenario: PersonScenario) -> None:
        response = self._admin.put(
            f"/people/{id_number}", content=scenario.model_dump_json(), headers=_JSON
        )
        _raise_for(response)

    def load_csv(self, text: str) -> int:
        response = self._admin.post("/scenarios", content=text.encode(), headers=_CSV)
        _raise_for(response)
        return int(response.json()["applied"])

    def fault(
        self,
        mode: FaultMode,
        *,
        system: System | None = None,
        count: int | None = None,
        seconds: float = 0.0,
    ) -> None:
        fault = Fault(system=system, mode=mode, count=count, seconds=seconds)
        _raise_for(self._admin.put("/faults", content=fault.model_dump_json(), headers=_JSON))

    # ---- the identity platform (simulator/identity.py) ------------------------------------

    @property
    def identity_url(self) -> str:
        """The identity platform's issuer (its discovery document is under it)."""
        return f"{self.url}/identity"

    def register_client(self, client_id: str, redirect_uris: list[str], audience: str) -> None:
        body = {"redirect_uris": redirect_uris, "audience": audience}
        url = f"{self.identity_url}/admin/clients/{client_id}"
        _raise_for(self._admin.put(url, json=body))

    def register_account(self, username: str, password: str, claims: dict[str, Any]) -> None:
        url = f"{self.identity_url}/admin/accounts/{username}"
        _raise_for(self._admin.put(url, json={"password": password, "claims": claims}))

    def identity_jwks(self) -> dict[str, Any]:
        """The platform's public keys, as a service's ``AUTH_JWKS_FILE`` holds them."""
        response = self._admin.get(f"{self.identity_url}/jwks")
        _raise_for(response)
        keys: dict[str, Any] = response.json()
        return keys

    def clear_faults(self) -> None:
        _raise_for(self._admin.delete("/faults"))


_JSON = {"Content-Type": "application/json"}
_CSV = {"Content-Type": "text/csv"}


def _raise_for(response: httpx.Response) -> None:
    if response.status_code >= 300:
        raise SimulatorFailed(
            f"admin {response.request.url.path}: {response.status_code} {response.text[:300]}"
        )
