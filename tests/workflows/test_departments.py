"""Department systems that fail: outages are retried until they pass, a business refusal goes to
that department's clerk, and one department's trouble does not hold up the others.

A man whose statutory month T is about nine months after the test starts (the initiation window
opens on the first day of T-1) with a provident fund account of 52,000.00 yuan. Department
retries back off 1, 2, 4... seconds; the tests skip that time on the test server's clock rather
than wait for it.
"""

from __future__ import annotations

from datetime import timedelta

from contracts.departments import FundAccountStatus
from contracts.people import Department
from contracts.workflow import Initiate, ItemKey, ItemStatus, Outcome, Stage, TaskKind
from tests.workflows.conftest import (
    EMPLOYER_ACTOR,
    Harness,
    open_task,
    request_id,
    snapshot,
    wait_for,
)
from tests.workflows.fakes import Fund
from tests.workflows.helpers import NORMAL, Case, approve, china, decide, to_joint_handling
from tests.workflows.people import Retiree, retiree_from_now
from workflows import issues
from workflows.case import RetirementCase


async def ride_out_retries(harness: Harness) -> None:
    """A minute on the server's clock: every retry back-off above falls inside it."""
    await harness.env.sleep(timedelta(minutes=1))


async def test_outages_are_retried_until_the_department_answers(harness: Harness) -> None:
    man = await retiree_from_now(harness)
    retiree = man.person
    harness.fakes.add_person(retiree.id_number, retiree.name, fund=Fund())
    outages = {
        "verify": 1,  # public security, at the declaration
        "receive_prereview": 2,
        "contribution_status": 3,
        "medical_record": 1,
        "award_pension": 2,
        "withdraw_and_close": 1,
        "record": 2,  # the notification service: the window-opens notice
    }
    harness.fakes.outages.update(outages)
    handle = await harness.start(retiree, NORMAL)
    await ride_out_retries(harness)
    await approve(handle, TaskKind.PRE_REVIEW, Department.HR)
    await ride_out_retries(harness)
    await approve(handle, TaskKind.CONFIRM_CONTRIBUTIONS, Department.SOCIAL_INSURANCE)
    # At 10:00 on the first day of T-1 the window is open; its notice went out, retried.
    await harness.sleep_until(china(man.timeline.initiation_opens, 10))
    await handle.execute_update(
        RetirementCase.initiate, Initiate(request_id=request_id(), actor=EMPLOYER_ACTOR)
    )
    await approve(handle, TaskKind.FORMAL_APPROVAL, Department.HR)
    await ride_out_retries(harness)
    await approve(handle, TaskKind.CONFIRM_PENSION, Department.SOCIAL_INSURANCE)
    await approve(handle, TaskKind.CONFIRM_MEDICAL_YEARS, Department.MEDICAL)
    await approve(handle, TaskKind.FUND_WITHDRAWAL, Department.PROVIDENT_FUND)
    outcome = await handle.result()
    assert outcome.stage is Stage.COMPLETED

    # Each outage cost that many failed calls before the one that worked:
    calls = harness.fakes.calls
    assert calls["verify"] == 1 + 3  # 1 failure; then declaration, pre-review, approval
    assert calls["receive_prereview"] == 2 + 1
    assert calls["contribution_status"] == 3 + 2  # 3 failures; the check, then the pension
    assert calls["medical_record"] == 1 + 1
    assert calls["award_pension"] == 2 + 1
    assert calls["withdraw_and_close"] == 1 + 1
    assert calls["record"] == 2 + 3  # window-opens, rights-notice, case-completed
    assert all(harness.fakes.outages[name] == 0 for name in outages)
    # ...and nothing was done twice or turned into a clerk's problem.
    assert harness.fakes.count("pension-award") == 1
    assert harness.fakes.count("fund-payout") == 1
    kinds = [n.kind for n in harness.fakes.notifications]
    assert sorted(kinds) == ["case-completed", "rights-notice", "window-opens"]
    snap = await snapshot(handle)
    assert all(t.kind is not TaskKind.DEPARTMENT_ISSUE for t in snap.tasks)
    assert snap.escalations == []
    assert snap.fund is not None
    assert str(snap.fund.amount) == "52000.00"


async def frozen_fund_case(harness: Harness) -> tuple[Retiree, Case]:
    """Joint handling with a frozen fund account: the fund clerk approves the withdrawal, the
    centre's system refuses it (frozen by a court), and a DEPARTMENT_ISSUE task is opened."""
    man = await retiree_from_now(harness)
    retiree = man.person
    harness.fakes.add_person(
        retiree.id_number, retiree.name, fund=Fund(status=FundAccountStatus.FROZEN)
    )
    handle = await harness.start(retiree, NORMAL)
    await to_joint_handling(harness, handle, window_opens=man.timeline.initiation_opens)
    await approve(handle, TaskKind.FORMAL_APPROVAL, Department.HR)
    await approve(handle, TaskKind.FUND_WITHDRAWAL, Department.PROVIDENT_FUND)
    return man, handle


async def test_a_frozen_fund_account_goes_to_the_fund_clerk_and_is_paid_once(
    harness: Harness,
) -> None:
    man, handle = await frozen_fund_case(harness)
    issue = await open_task(handle, TaskKind.DEPARTMENT_ISSUE)
    assert issue.department is Department.PROVIDENT_FUND
    assert issue.step == "withdraw and close"
    assert issue.detail == "the account is frozen"
    assert harness.fakes.calls["withdraw_and_close"] == 1  # a refusal is not retried

    # The other departments carry on meanwhile.
    await approve(handle, TaskKind.CONFIRM_PENSION, Department.SOCIAL_INSURANCE)
    await approve(handle, TaskKind.CONFIRM_MEDICAL_YEARS, Department.MEDICAL)
    snap = await wait_for(
        handle,
        lambda s: (
            s.item(ItemKey.PENSION_PAYMENT).status is ItemStatus.DONE
            and s.item(ItemKey.MEDICAL_DEEMED_YEARS).status is ItemStatus.DONE
        ),
    )
    assert snap.stage is Stage.JOINT_HANDLING
    assert snap.item(ItemKey.PROVIDENT_FUND).status is ItemStatus.WAITING
    assert [t.id for t in snap.open_tasks()] == [issue.id]

    # The court lifts the freeze; the clerk approves and the step runs again: paid once.
    harness.fakes.funds[man.person.id_number].status = FundAccountStatus.ACTIVE
    await decide(handle, issue, evidence=["court order (2027) 吉0102执恢123号"])
    outcome = await handle.result()
    assert outcome.stage is Stage.COMPLETED
    assert harness.fakes.calls["withdraw_and_close"] == 2
    assert harness.fakes.count("fund-payout") == 1
    snap = await snapshot(handle)
    assert snap.item(ItemKey.PROVIDENT_FUND).status is ItemStatus.DONE
    assert snap.fund is not None
    assert (str(snap.fund.amount), snap.fund.card_last4) == ("52000.00", "3445")


async def test_a_fund_refusal_the_clerk_rejects_fails_the_item_not_the_case(
    harness: Harness,
) -> None:
    _, handle = await frozen_fund_case(harness)
    issue = await open_task(handle, TaskKind.DEPARTMENT_ISSUE)
    # The task told the clerk what a rejection does before they decided (and it does that).
    assert issue.if_rejected == issues.FUND_WITHDRAWAL.text
    assert "the other departments go on" in issue.if_rejected
    await decide(handle, issue, Outcome.REJECT, reason="frozen indefinitely by the court")
    await approve(handle, TaskKind.CONFIRM_PENSION, Department.SOCIAL_INSURANCE)
    await approve(handle, TaskKind.CONFIRM_MEDICAL_YEARS, Department.MEDICAL)

    # Every department has reported: the case completes with item 7 failed.
    outcome = await handle.result()
    assert outcome.stage is Stage.COMPLETED
    assert outcome.closed_reason == "every department has reported"
    snap = await snapshot(handle)
    fund = snap.item(ItemKey.PROVIDENT_FUND)
    assert fund.status is ItemStatus.FAILED
    assert fund.detail == "the withdrawal was refused"
    assert harness.fakes.count("fund-payout") == 0
    assert snap.fund is None
    for key in (
        ItemKey.PENSION_ELIGIBILITY,
        ItemKey.PENSION_DEEMED_YEARS,
        ItemKey.PENSION_PAYMENT,
        ItemKey.MEDICAL_DEEMED_YEARS,
        ItemKey.HOUSEHOLD,
    ):
        assert snap.item(key).status is ItemStatus.DONE, key
    assert snap.pension is not None
    assert snap.open_tasks() == []
    # The person is told the outcome of every item, the failed one included.
    [completed] = [n for n in harness.fakes.notifications if n.kind == "case-completed"]
    assert "provident-fund-withdrawal: failed the withdrawal was refused" in completed.body
