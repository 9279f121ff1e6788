"""Worker A of ``tests/integration/test_split_task.py``: the project's worker in a process of its
own, so that the test can SIGKILL it, with two test-only differences:

- its sticky schedule-to-start timeout is 20 s, not ``worker.STICKY_TIMEOUT`` (3 s), so the
  window in which a workflow task waits on its dead sticky queue is wide enough to act in without
  timing luck;
- its household registry *holds* the check at declaration: it computes the real answer, writes
  it with the activity's task token to ``$SPLIT_HOLD_FILE`` and completes asynchronously, so the
  test decides when the department answers (after the worker is dead).

Configuration comes from the environment, as for ``python -m worker``. Prints ``ready`` once
polling.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from temporalio import activity

import worker
from activities.public_security import HouseholdRegistry
from contracts.departments import HouseholdCheck, HouseholdResult, HouseholdStep
from db.session import make_engine, make_sessionmaker
from service.departments import connect_platform
from service.settings import get_settings
from service.temporal import connect

HOLD_FILE_ENV = "SPLIT_HOLD_FILE"
STICKY_TIMEOUT = timedelta(seconds=20)


class HeldRegistry:
    """The department's registry (over HTTP), except that the check at declaration is answered
    later, by the test, through the activity's task token."""

    def __init__(self, real: HouseholdRegistry, hold_file: Path) -> None:
        self._real = real
        self._hold_file = hold_file

    def verify(self, check: HouseholdCheck) -> HouseholdResult:
        answer = self._real.verify(check)
        if check.step is not HouseholdStep.DECLARATION or self._hold_file.exists():
            return answer
        info = activity.info()
        held = {
            "task_token": base64.b64encode(info.task_token).decode(),
            "activity_id": info.activity_id,
            "result": answer.model_dump(mode="json"),
        }
        partial = self._hold_file.with_suffix(".partial")
        partial.write_text(json.dumps(held), encoding="utf-8")
        partial.rename(self._hold_file)
        activity.raise_complete_async()


async def main() -> None:
    settings = get_settings()
    hold_file = Path(os.environ[HOLD_FILE_ENV])
    # build_worker reads the module's constant when called: only this process sees 20 s.
    worker.STICKY_TIMEOUT = STICKY_TIMEOUT
    client = await connect(settings)
    engine = make_engine(settings.database_url, pool_size=4)
    sessions = make_sessionmaker(engine)
    platform = connect_platform(settings)
    systems = dataclasses.replace(
        worker.DepartmentSystems.over(platform, sessions),
        household=HeldRegistry(platform.household, hold_file),
    )
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with worker.build_worker(client, settings.temporal_task_queue, systems, executor):
            print("ready", flush=True)
            await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
