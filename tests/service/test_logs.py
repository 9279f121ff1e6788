"""Logs are JSON lines on stderr, carrying Temporal's workflow ids, never personal data."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from service.logs import configure_logging


def test_json_lines_with_bound_and_extra_fields(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO")
    try:
        structlog.contextvars.bind_contextvars(workflow_id="retirement-abc", run_id="r-1")
        structlog.get_logger("worker").info("step done", activity="hr.record_approval")
        logging.getLogger("temporalio.workflow").info(
            "stage", extra={"temporal_workflow": {"workflow_id": "retirement-abc"}}
        )
    finally:
        structlog.contextvars.clear_contextvars()
        logging.getLogger().handlers.clear()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    first, second = lines
    assert first["event"] == "step done"
    assert first["workflow_id"] == "retirement-abc"
    assert first["run_id"] == "r-1"
    assert first["level"] == "info"
    assert second["temporal_workflow"] == {"workflow_id": "retirement-abc"}
