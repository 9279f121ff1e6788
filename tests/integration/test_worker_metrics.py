"""The worker serves the Temporal SDK's metrics to Prometheus."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
from temporalio.testing import WorkflowEnvironment

from harness.binaries import temporal_test_server
from harness.ports import free_port
from service.temporal import DATA_CONVERTER, make_runtime
from tests.workflows.fakes import FakeDepartments
from worker import build_worker


async def test_worker_metrics_are_served() -> None:
    address = f"127.0.0.1:{free_port()}"
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER,
        test_server_existing_path=temporal_test_server(),
        runtime=make_runtime(address),
    )
    try:
        with ThreadPoolExecutor(max_workers=2) as executor:
            worker = build_worker(
                env.client, f"m-{uuid.uuid4().hex[:6]}", FakeDepartments().systems(), executor
            )
            async with worker, httpx.AsyncClient() as http:
                text = (await http.get(f"http://{address}/metrics")).text
    finally:
        await env.shutdown()
    assert "temporal_" in text
    assert "task_queue=" in text
