"""The departments' systems as this deployment's settings locate them (``adapters``)."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from adapters.departments import Platform
from contracts.platform import System
from service.settings import Settings

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def connect_platform(settings: Settings) -> Platform:
    """The departments' systems as the settings locate them. The development secret is public,
    so it may sign only requests that stay on this machine (the simulator of ``make run``)."""
    endpoints = {system: settings.department_endpoint(system) for system in System}
    if settings.uses_dev_platform_secret:
        remote = [
            str(system)
            for system, endpoint in endpoints.items()
            if urlsplit(endpoint.base_url).hostname not in LOOPBACK
        ]
        if remote:
            raise RuntimeError(
                f"set PLATFORM_SECRET (or PLATFORM_SECRET_FILE): the development secret would "
                f"sign requests to {', '.join(remote)} off this machine"
            )
    timeout = httpx.Timeout(
        settings.department_timeout, connect=min(3.0, settings.department_timeout)
    )
    return Platform.connect(endpoints, timeout=timeout)
