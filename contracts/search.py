"""Custom search attributes: what administrators filter cases by in the Temporal UI.

None of them carries personal data (search attributes are not encrypted).
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

STAGE = SearchAttributeKey.for_keyword("RetirementStage")
REGION = SearchAttributeKey.for_keyword("RetirementRegion")
PENDING_DEPARTMENTS = SearchAttributeKey.for_keyword_list("RetirementPendingDepartments")
RETIREMENT_MONTH = SearchAttributeKey.for_keyword("RetirementMonth")
OVERDUE = SearchAttributeKey.for_bool("RetirementOverdue")
NEXT_DEADLINE = SearchAttributeKey.for_datetime("RetirementNextDeadline")

ALL = (STAGE, REGION, PENDING_DEPARTMENTS, RETIREMENT_MONTH, OVERDUE, NEXT_DEADLINE)

_TYPE_NAMES = {
    "KEYWORD": "Keyword",
    "KEYWORD_LIST": "KeywordList",
    "BOOL": "Bool",
    "DATETIME": "Datetime",
}


def dev_server_args() -> list[str]:
    """``--search-attribute Name=Type`` flags registering them on ``temporal server start-dev``."""
    args: list[str] = []
    for key in ALL:
        args += ["--search-attribute", f"{key.name}={_TYPE_NAMES[key.indexed_value_type.name]}"]
    return args
