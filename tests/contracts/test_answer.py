"""An Update's answer (``contracts.read_model.Answer``) reads an answer recorded before it
carried a projection: the API then waits for the workflow's projection, as it did."""

from __future__ import annotations

from contracts.read_model import Answer
from contracts.workflow import CaseStatus, Stage
from domain.months import YearMonth


def test_an_answer_recorded_as_a_bare_status_reads_without_a_projection() -> None:
    recorded = CaseStatus(
        case_id="retirement-0123456789abcdef01234567",
        stage=Stage.PRE_REVIEW,
        version=7,
        retirement_month=YearMonth(2027, 3),
        open_tasks=[],
        items=[],
    ).model_dump(mode="json")
    answer = Answer.model_validate(recorded)
    assert answer.projection is None
    assert answer.version == 7 and answer.stage is Stage.PRE_REVIEW
