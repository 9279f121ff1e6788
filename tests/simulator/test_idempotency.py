"""One record per idempotency key: retries and concurrent duplicates change nothing.

Temporal retries an activity whose worker crashed after the department acted, so every side
effect may be asked for twice (or, with two workers, at the same time). The second call must
write nothing and answer with the first receipt, marked ``duplicate``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from contracts.departments import FundReceipt, Receipt
from simulator import storage as d
from simulator.models import (
    ContributionRecord,
    ContributionSettlement,
    FundAccountRow,
    FundPayout,
    InsuredStatusChange,
    MedicalInsuranceRecord,
    MedicalStatusChange,
    PaymentSchedule,
    PensionAwardRow,
    PrereviewReceipt,
    PushRow,
    RetirementApproval,
    RewardNotice,
    SmsRow,
)
from tests.db import factories as f
from tests.simulator.conftest import seed

ID = f.id_number(1)
AnyReceipt = Receipt | FundReceipt


@dataclass(frozen=True)
class Effect:
    """One side-effecting department call, and the tables it writes one row to."""

    call: Callable[[sessionmaker[Session]], AnyReceipt]
    tables: tuple[type[object], ...]


EFFECTS = {
    "prereview": Effect(
        lambda s: d.DatabaseSocialInsurance(s).receive_prereview(f.prereview(ID)),
        (PrereviewReceipt,),
    ),
    "settlement": Effect(
        lambda s: d.DatabaseSocialInsurance(s).settle(f.settle(ID)), (ContributionSettlement,)
    ),
    "retiree-switch": Effect(
        lambda s: d.DatabaseSocialInsurance(s).switch_to_retiree(f.retiree_switch(ID)),
        (InsuredStatusChange,),
    ),
    "pension-award": Effect(
        lambda s: d.DatabaseSocialInsurance(s).award_pension(f.award(ID)),
        (PensionAwardRow, PaymentSchedule),
    ),
    "approval": Effect(
        lambda s: d.DatabaseHrSystem(s).record_approval(f.approval(ID)), (RetirementApproval,)
    ),
    "medical-change": Effect(
        lambda s: d.DatabaseMedicalSystem(s).settle_status(f.medical_switch(ID)),
        (MedicalStatusChange,),
    ),
    "fund-payout": Effect(
        lambda s: d.DatabaseProvidentFund(s).withdraw_and_close(f.withdrawal(ID)), (FundPayout,)
    ),
    "reward-notice": Effect(
        lambda s: d.DatabaseHealthCommission(s).record_reward_notice(f.reward_notice(ID)),
        (RewardNotice,),
    ),
    "sms": Effect(lambda s: d.DatabaseSms(s).send(f.sms()), (SmsRow,)),
    "push": Effect(lambda s: d.DatabasePush(s).push(f.push()), (PushRow,)),
}


def _seed(sessions: sessionmaker[Session]) -> None:
    seed(
        sessions,
        ID,
        "张三",
        contribution_problems=[f.problem("p1")],
        fund_balance=Decimal("500.25"),
    )


def _count(sessions: sessionmaker[Session], model: type[object]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _reference(receipt: AnyReceipt) -> str:
    return receipt.payout_id if isinstance(receipt, FundReceipt) else receipt.reference


@pytest.mark.parametrize("name", list(EFFECTS))
def test_the_same_key_twice_writes_one_record(sessions: sessionmaker[Session], name: str) -> None:
    _seed(sessions)
    effect = EFFECTS[name]
    first = effect.call(sessions)
    second = effect.call(sessions)
    assert not first.duplicate
    assert second.duplicate
    assert second == first.model_copy(update={"duplicate": True})
    for table in effect.tables:
        assert _count(sessions, table) == 1, table.__name__


def test_a_repeated_payout_pays_the_balance_once(sessions: sessionmaker[Session]) -> None:
    _seed(sessions)
    fund = d.DatabaseProvidentFund(sessions)
    first = fund.withdraw_and_close(f.withdrawal(ID))
    again = fund.withdraw_and_close(f.withdrawal(ID))
    assert (first.amount, again.amount) == (Decimal("500.25"), Decimal("500.25"))
    assert again.payout_id == first.payout_id
    with sessions() as session:
        assert session.scalars(select(func.sum(FundPayout.amount))).one() == Decimal("500.25")
        assert session.get_one(FundAccountRow, ID).balance == Decimal("0.00")


def test_a_repeated_settlement_or_switch_changes_nothing_more(
    sessions: sessionmaker[Session],
) -> None:
    _seed(sessions)
    social = d.DatabaseSocialInsurance(sessions)
    medical = d.DatabaseMedicalSystem(sessions)
    social.settle(f.settle(ID))
    social.switch_to_retiree(f.retiree_switch(ID))
    medical.settle_status(f.medical_switch(ID))
    # Someone corrects the records meanwhile; a late retry must not undo that.
    with sessions.begin() as session:
        session.get_one(ContributionRecord, ID).insured_status = "contributor"
        session.get_one(MedicalInsuranceRecord, ID).status = "contributor"
    assert social.switch_to_retiree(f.retiree_switch(ID)).duplicate
    assert medical.settle_status(f.medical_switch(ID)).duplicate
    with sessions() as session:
        assert session.get_one(ContributionRecord, ID).insured_status == "contributor"
        assert session.get_one(MedicalInsuranceRecord, ID).status == "contributor"


def test_different_keys_are_different_effects(sessions: sessionmaker[Session]) -> None:
    sms = d.DatabaseSms(sessions)
    first = sms.send(f.sms("a" * 64))
    second = sms.send(f.sms("b" * 64))
    assert first.reference != second.reference
    assert not second.duplicate
    assert _count(sessions, SmsRow) == 2


# ---- Concurrency ---------------------------------------------------------------------------

THREADS = 4


@pytest.mark.parametrize("name", ["pension-award", "fund-payout", "settlement", "sms"])
def test_concurrent_duplicates_write_one_record(sessions: sessionmaker[Session], name: str) -> None:
    _seed(sessions)
    effect = EFFECTS[name]
    start = threading.Barrier(THREADS)

    def call() -> AnyReceipt:
        start.wait(timeout=10)
        return effect.call(sessions)

    with ThreadPoolExecutor(THREADS) as pool:
        receipts = [
            future.result(timeout=30) for future in [pool.submit(call) for _ in range(THREADS)]
        ]
    assert sorted(r.duplicate for r in receipts) == [False] + [True] * (THREADS - 1)
    assert len({_reference(r) for r in receipts}) == 1
    for table in effect.tables:
        assert _count(sessions, table) == 1, table.__name__


@dataclass
class _Reached:
    """Set when another connection is about to run the statement the test waits for."""

    event: threading.Event
    backend_pid: int | None = None


@contextmanager
def _about_to_run(engine: Engine, beginning: str) -> Iterator[_Reached]:
    """Announces when a connection of ``engine`` is about to run a statement that begins with
    ``beginning``: the test waits for that rather than for a while."""
    reached = _Reached(threading.Event())

    def before(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(beginning.upper()) and not reached.event.is_set():
            if connection.dialect.name == "postgresql":
                reached.backend_pid = connection.connection.dbapi_connection.info.backend_pid
            reached.event.set()

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield reached
    finally:
        event.remove(engine, "before_cursor_execute", before)


def _wait_until_blocked(sessions: sessionmaker[Session], backend_pid: int) -> None:
    """On PostgreSQL, until that connection waits on a lock (the winner's uncommitted key)."""
    deadline = time.monotonic() + 10
    with sessions() as observer:
        while time.monotonic() < deadline:
            waiting = observer.scalar(
                text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"),
                {"pid": backend_pid},
            )
            observer.rollback()
            if waiting == "Lock":
                return
            time.sleep(0.02)  # polling the server's own view of the wait, not a guess
    pytest.fail("the concurrent call never waited on the idempotency key")


@pytest.mark.parametrize("name", ["fund-payout", "sms"])
def test_losing_the_race_on_the_key_returns_the_winners_receipt(
    sessions: sessionmaker[Session], backend: str, name: str
) -> None:
    """The winner has inserted its row but not committed when the loser looks for the key.

    PostgreSQL: the loser's insert waits on the unique index, fails when the winner commits,
    and the loser reads the winner's row back (the savepoint path). SQLite: the loser's
    transaction (``BEGIN IMMEDIATE``) waits for the winner's to end, then finds its key."""
    _seed(sessions)
    winner_row: FundPayout | SmsRow
    if name == "fund-payout":
        winner_row = FundPayout(
            idempotency_key=f.withdrawal(ID).idempotency_key,
            case_id="case-1",
            id_number=ID,
            payout_no="FP-999999",
            amount=Decimal("500.25"),
            card_last4="3445",
            approved_by="clerk-9",
        )
    else:
        n = f.sms()
        winner_row = SmsRow(
            idempotency_key=n.idempotency_key, case_id=n.case_id, mobile=n.mobile, text=n.text
        )
    # The statement the loser blocks on, once it has looked for the key and found none.
    blocking = f"INSERT INTO {type(winner_row).__tablename__}"
    if backend != "postgresql":
        blocking = "BEGIN IMMEDIATE"
    engine: Engine = sessions.kw["bind"]
    with ThreadPoolExecutor(1) as pool, sessions() as winner:
        winner.add(winner_row)
        winner.flush()
        with _about_to_run(engine, blocking) as reached:
            loser = pool.submit(EFFECTS[name].call, sessions)
            assert reached.event.wait(timeout=10), f"the loser never ran {blocking}"
        if reached.backend_pid is not None:
            _wait_until_blocked(sessions, reached.backend_pid)
        winner.commit()
        receipt = loser.result(timeout=30)
    assert receipt.duplicate
    expected = winner_row.payout_no if isinstance(winner_row, FundPayout) else winner_row.reference
    assert _reference(receipt) == expected
    assert _count(sessions, type(winner_row)) == 1
    if name == "fund-payout":
        with sessions() as session:  # the loser paid nothing and left the account alone
            account = session.get_one(FundAccountRow, ID)
            assert (account.balance, account.status) == (Decimal("500.25"), "active")
