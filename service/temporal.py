"""Connecting to Temporal: one data converter (pydantic) for every client and worker."""

from __future__ import annotations

import logging
from functools import lru_cache

from temporalio.client import Client, TLSConfig
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

from service.settings import Settings

DATA_CONVERTER = pydantic_data_converter


@lru_cache(maxsize=1)
def runtime() -> Runtime:
    """The SDK's core runtime, its logs forwarded to Python logging (stderr, as JSON where
    ``service.logs`` is configured) instead of written to stdout, where they would corrupt the
    CLI's ``--json`` output. One per process."""
    return Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
            )
        )
    )


def _tls(settings: Settings) -> TLSConfig | bool:
    if settings.temporal_tls_cert is None and settings.temporal_tls_ca is None:
        return settings.temporal_api_key is not None  # API keys need TLS
    return TLSConfig(
        server_root_ca_cert=settings.temporal_tls_ca.read_bytes()
        if settings.temporal_tls_ca
        else None,
        client_cert=settings.temporal_tls_cert.read_bytes() if settings.temporal_tls_cert else None,
        client_private_key=settings.temporal_tls_key.read_bytes()
        if settings.temporal_tls_key
        else None,
    )


async def connect(settings: Settings) -> Client:
    """A client for the configured cluster: local dev server, mTLS, or an API key."""
    api_key = settings.temporal_api_key
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=DATA_CONVERTER,
        tls=_tls(settings),
        api_key=api_key.get_secret_value() if api_key else None,
        runtime=runtime(),
    )
