"""Business refusals from a department system, and how they cross into Temporal."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from temporalio.exceptions import ApplicationError

from contracts.departments import DepartmentRefusalInfo
from contracts.people import Department

DEPARTMENT_REFUSAL = "DepartmentRefusal"

P = ParamSpec("P")
R = TypeVar("R")


class DepartmentRefusal(Exception):
    """The department's system says no (an account frozen, no record found): retrying will not
    help, a clerk must look. The reason is shown to that clerk, so it carries no personal data."""

    def __init__(self, department: Department, step: str, reason: str) -> None:
        super().__init__(reason)
        self.info = DepartmentRefusalInfo(department=department, step=step, reason=reason)


def refusals_are_final(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn a :class:`DepartmentRefusal` into a non-retryable ApplicationError with its details."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except DepartmentRefusal as refusal:
            raise ApplicationError(
                refusal.info.reason,
                refusal.info,
                type=DEPARTMENT_REFUSAL,
                non_retryable=True,
            ) from None

    return wrapper
