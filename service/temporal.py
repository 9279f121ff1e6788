"""Connecting to Temporal: one data converter (pydantic, encrypted) and one SDK runtime for
every client and worker of a process, and the rule that no client of the project queries a
running workflow."""

from __future__ import annotations

import dataclasses
import logging
from functools import lru_cache
from typing import Any

from temporalio.client import (
    Client,
    DescribeWorkflowInput,
    Interceptor,
    OutboundInterceptor,
    QueryWorkflowInput,
    TLSConfig,
    WorkflowExecutionStatus,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

from service.codec import EncryptionCodec, ensure_dev_keys, load_keys
from service.settings import DEV_PAYLOAD_KEYS, Settings, get_settings


def payload_codec(settings: Settings) -> EncryptionCodec:
    """The key ring from ``PAYLOAD_KEYS`` or ``PAYLOAD_KEYS_FILE`` (a development ring is made
    under var/ when neither is configured; a configured file that is missing is an error)."""
    if settings.payload_keys is not None:
        keys = load_keys(settings.payload_keys.get_secret_value())
    elif settings.payload_keys_file == DEV_PAYLOAD_KEYS:
        keys, _ = ensure_dev_keys(DEV_PAYLOAD_KEYS)
    else:
        keys = load_keys(settings.payload_keys_file.read_text(encoding="utf-8"))
    return EncryptionCodec(keys, settings.payload_key_id or sorted(keys)[-1])


def data_converter(settings: Settings) -> DataConverter:
    """Pydantic payloads, encrypted; failure messages and stack traces encrypted too (they can
    quote personal data)."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=payload_codec(settings),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


@lru_cache(maxsize=1)
def default_data_converter() -> DataConverter:
    return data_converter(get_settings())


def __getattr__(name: str) -> Any:
    # ``DATA_CONVERTER``: the converter of this process's settings, built on first use (it
    # reads the key ring), shared by every client, worker and test environment.
    if name == "DATA_CONVERTER":
        return default_data_converter()
    raise AttributeError(name)


_runtime: Runtime | None = None


def make_runtime(metrics_address: str | None = None) -> Runtime:
    """An SDK core runtime whose logs go to Python logging (stderr, JSON where
    ``service.logs`` is configured) rather than stdout, where they would corrupt the CLI's
    ``--json``; with ``metrics_address`` (``host:port``) it serves the SDK's metrics to
    Prometheus there."""
    return Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
            ),
            metrics=PrometheusConfig(bind_address=metrics_address) if metrics_address else None,
        )
    )


def configure_runtime(metrics_address: str | None = None) -> Runtime:
    """Set the process's runtime; call once, before the first client connects."""
    global _runtime
    _runtime = make_runtime(metrics_address)
    return _runtime


def runtime() -> Runtime:
    return _runtime or configure_runtime()


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


class RunningWorkflowQueryRefused(RuntimeError):
    """A query was about to reach a running workflow."""


class QueriesOnlyToClosedRuns(Interceptor):
    """Refuse every query to a running workflow, and pin the others to the closed run described.

    A query that reaches a worker while a dead worker's workflow task is pending can make the
    SDK apply that task's events outside any workflow task; an update landing next is then
    recorded in an order that replay cannot reproduce, and the case is stuck for good
    (docs/reliability.md). So the project reads running cases from the read model, and queries
    are for closed runs only (a finished case's whole state, for ``reconcile`` and the reliability
    runs' checks). Every client made by :func:`connect` carries this interceptor; the
    time-skipping test server, where no worker dies, is the only place tests query running
    cases."""

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _ClosedRunsOnly(next)


class _ClosedRunsOnly(OutboundInterceptor):
    async def query_workflow(self, input: QueryWorkflowInput) -> Any:
        described = await self.next.describe_workflow(
            DescribeWorkflowInput(
                id=input.id,
                run_id=input.run_id,
                rpc_metadata=input.rpc_metadata,
                rpc_timeout=input.rpc_timeout,
            )
        )
        if described.status is WorkflowExecutionStatus.RUNNING:
            raise RunningWorkflowQueryRefused(
                f"query {input.query!r} to the running workflow {input.id} refused: read the "
                "read model instead (docs/reliability.md)"
            )
        # The run just described is closed and stays so; a newer run (a reset) is not asked.
        return await self.next.query_workflow(dataclasses.replace(input, run_id=described.run_id))


async def connect(settings: Settings) -> Client:
    """A client for the configured cluster: local dev server, mTLS, or an API key."""
    api_key = settings.temporal_api_key
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        tls=_tls(settings),
        api_key=api_key.get_secret_value() if api_key else None,
        runtime=runtime(),
        interceptors=[QueriesOnlyToClosedRuns()],
    )
