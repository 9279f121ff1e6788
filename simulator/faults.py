"""Faults the simulator plays on request (``PUT /admin/faults``), so the adapters and the workflow
can be shown to survive a department in trouble: down (503), failing (500), slow (the answer
comes after the caller's timeout, the effect already applied) or answering garbage."""

from __future__ import annotations

import threading
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from contracts.base import Model
from contracts.platform import System


class FaultMode(StrEnum):
    DOWN = "down"  # 503 before anything is done
    ERROR = "error"  # 500 before anything is done
    SLOW = "slow"  # done, then the answer waits ``seconds``
    MALFORMED = "malformed"  # done, then a 200 whose body is not the contract's


class Fault(Model):
    system: System | None = Field(default=None, description="one system, or every one")
    mode: FaultMode
    count: Annotated[int, Field(ge=1, le=1_000_000)] | None = Field(
        default=None, description="requests it affects; none: until cleared"
    )
    seconds: Annotated[float, Field(ge=0, le=600)] = 0.0


class Faults:
    """The faults in play, consumed a request at a time (thread-safe: routes run on a pool)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def set(self, fault: Fault) -> None:
        with self._lock:
            self._faults = [f for f in self._faults if f.system != fault.system] + [fault]

    def clear(self) -> None:
        with self._lock:
            self._faults = []

    def take(self, system: System) -> Fault | None:
        """The fault this request meets, counting it down."""
        with self._lock:
            for position, fault in enumerate(self._faults):
                if fault.system not in (None, system):
                    continue
                if fault.count is not None:
                    left = fault.count - 1
                    if left:
                        self._faults[position] = fault.model_copy(update={"count": left})
                    else:
                        del self._faults[position]
                return fault
        return None
