"""The simulated departments' systems: what each answers and records, over its own database.

The simulator's HTTP routes (``simulator.app``) call these. A person no department has heard of
is given plausible records the first time any system looks them up (``simulator.people``), so a
case for anyone with a valid ID number can run to its end; scenarios (``simulator.scenarios``)
replace those records for people a test or a demo needs in a particular state.

Idempotency. Every side effect is a row whose ``idempotency_key`` is unique. A call first looks
for a row with its key (a retry after a crash finds it and returns the first receipt with
``duplicate=True``); otherwise it inserts inside a savepoint, and when a concurrent call with the
same key won the race (``IntegrityError`` on the unique key) it reads that row back and answers
the same way. Where a method also changes a record (a fund account, a contribution record) it
first locks that record (``SELECT ... FOR UPDATE`` on PostgreSQL), and only then looks for its
key, so a call that waited for the lock sees the winner's row rather than the changed record.

Refusal reasons are shown to clerks and carry no personal data.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from contracts.departments import (
    ApprovalCommand,
    FundAccount,
    FundAccountStatus,
    FundReceipt,
    FundWithdrawal,
    HouseholdCheck,
    HouseholdResult,
    MedicalRecord,
    MedicalSwitch,
    PensionAward,
    PersonQuery,
    PrereviewPush,
    PushMessage,
    Receipt,
    RetireeSwitch,
    RewardNoticeRecord,
    SettleCommand,
    SmsMessage,
)
from contracts.people import Department
from contracts.workflow import ContributionProblem, ContributionStatus
from simulator import people
from simulator.models import (
    PAYMENT_SCHEDULED,
    ContributionRecord,
    ContributionSettlement,
    FundAccountRow,
    FundPayout,
    HouseholdRecord,
    HouseholdStatus,
    InsuredStatus,
    InsuredStatusChange,
    MedicalInsuranceRecord,
    MedicalStatusChange,
    PaymentSchedule,
    PensionAwardRow,
    PrereviewReceipt,
    PushRow,
    RetirementApproval,
    RewardNotice,
    ScriptedPerson,
    SmsRow,
)

# Refusal reasons (what the clerk's task says) and step names, for the workflow and its tests.
NO_CONTRIBUTION_RECORD = "no contribution record for this person"
UNKNOWN_PROBLEM = "the contribution record has no such problem"
PENSION_PARTS_DIFFER = "the pension parts do not add up to the monthly amount"
NO_MEDICAL_RECORD = "no medical insurance record for this person"
NO_FUND_ACCOUNT = "no provident fund account for this person"
FUND_FROZEN = "the account is frozen"
FUND_CLOSED = "the account is already closed"
NO_CARD = "no bank card is registered for the payout"

REFUSAL_CODES = {
    NO_CONTRIBUTION_RECORD: "no-record",
    NO_MEDICAL_RECORD: "no-record",
    NO_FUND_ACCOUNT: "no-record",
    UNKNOWN_PROBLEM: "unknown-problem",
    PENSION_PARTS_DIFFER: "parts-differ",
    FUND_FROZEN: "frozen",
    FUND_CLOSED: "closed",
    NO_CARD: "no-card",
}

HOUSEHOLD_NOT_FOUND = "no household record"
HOUSEHOLD_NAME_DIFFERS = "the name differs from the registry"
HOUSEHOLD_NOT_REGISTERED = "not registered in the household register"
HOUSEHOLD_DETAIL: dict[str, str] = {
    HouseholdStatus.DECEASED: "registered as deceased",
    HouseholdStatus.MOVED: "moved out of the registry",
}


class Refused(Exception):
    """The department says no for a business reason: the HTTP layer answers 422 with a
    ``contracts.platform.Refusal``, and the caller's clerk sees ``reason``."""

    def __init__(self, department: Department, step: str, reason: str) -> None:
        super().__init__(reason)
        self.department = department
        self.step = step
        self.reason = reason
        self.code = REFUSAL_CODES.get(reason, "refused")


class _Keyed(Protocol):
    idempotency_key: str


K = TypeVar("K", bound=_Keyed)


def _find(session: Session, model: type[K], key: str) -> K | None:
    column: Any = model.idempotency_key  # the mapped column on a model class
    return session.scalars(select(model).where(column == key)).one_or_none()


def _insert_once(session: Session, row: K) -> tuple[K, bool]:
    """Insert ``row`` unless a row with its idempotency key exists; ``(row, duplicate)``.

    The savepoint keeps the transaction usable when a concurrent call committed the same key
    first: its unique-key violation is rolled back alone and that call's row is returned.
    """
    model = type(row)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        existing = _find(session, model, row.idempotency_key)
        if existing is None:
            raise  # another constraint: a real error
        return existing, True
    return row, False


class _DatabaseSystem:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def _record(
        self,
        model: type[K],
        key: str,
        build: Callable[[Session], K],
        apply: Callable[[Session, K], None] | None = None,
        lock: Callable[[Session], object] | None = None,
    ) -> tuple[K, bool]:
        """The common shape of a side effect, in one transaction: ``lock`` the record it
        changes, return the row already recorded under ``key`` if any, else ``build`` the row
        (which may refuse), insert it once, and ``apply`` its effects."""
        with self._sessions.begin() as session:
            if lock is not None:
                lock(session)
            existing = _find(session, model, key)
            if existing is not None:
                return existing, True
            row, duplicate = _insert_once(session, build(session))
            if not duplicate and apply is not None:
                apply(session, row)
            return row, duplicate


R = TypeVar("R", HouseholdRecord, ContributionRecord, MedicalInsuranceRecord, FundAccountRow)


def known(
    session: Session,
    model: type[R],
    id_number: str,
    derive: Callable[[], R],
    *,
    lock: bool = False,
) -> R | None:
    """The person's record in ``model``; made up by ``derive`` the first time anyone asks,
    unless a scenario scripted this person (then a missing record stays missing)."""
    row = session.get(model, id_number, with_for_update=lock)
    if row is not None or session.get(ScriptedPerson, id_number) is not None:
        return row
    try:
        with session.begin_nested():
            session.add(derive())
    except IntegrityError:
        pass  # a concurrent first look derived it: read theirs
    return session.get(model, id_number, with_for_update=lock)


def _declared(session: Session, id_number: str) -> tuple[dict[str, Any] | None, int | None]:
    """The declaration HR pushed for the person at pre-review (the latest), and its year."""
    receipt = session.scalars(
        select(PrereviewReceipt)
        .where(PrereviewReceipt.id_number == id_number)
        .order_by(PrereviewReceipt.id.desc())
        .limit(1)
    ).one_or_none()
    if receipt is None:
        return None, None
    return receipt.declaration, int(receipt.retirement_month[:4])


def contribution_record(
    session: Session, id_number: str, *, lock: bool = False
) -> ContributionRecord | None:
    def derive() -> ContributionRecord:
        declaration, year = _declared(session, id_number)
        return people.contributions(id_number, declaration=declaration, retirement_year=year)

    return known(session, ContributionRecord, id_number, derive, lock=lock)


def medical_record(
    session: Session, id_number: str, *, lock: bool = False
) -> MedicalInsuranceRecord | None:
    return known(
        session,
        MedicalInsuranceRecord,
        id_number,
        lambda: people.medical(
            id_number, contribution_record(session, id_number), _declared(session, id_number)[1]
        ),
        lock=lock,
    )


def fund_account(session: Session, id_number: str, *, lock: bool = False) -> FundAccountRow | None:
    return known(
        session, FundAccountRow, id_number, lambda: people.fund_account(id_number), lock=lock
    )


def _receipt(row: Any, duplicate: bool) -> Receipt:
    return Receipt(reference=row.reference, duplicate=duplicate)


# ---- 公安 public security ------------------------------------------------------------------


class DatabaseHouseholdRegistry(_DatabaseSystem):
    def verify(self, check: HouseholdCheck) -> HouseholdResult:
        with self._sessions.begin() as session:
            record = known(
                session,
                HouseholdRecord,
                check.id_number,
                lambda: people.household(check.id_number, check.name, check.region_code),
            )
            if record is None:
                return HouseholdResult(matches=False, detail=HOUSEHOLD_NOT_FOUND)
            if record.status != HouseholdStatus.REGISTERED:
                detail = HOUSEHOLD_DETAIL.get(record.status, HOUSEHOLD_NOT_REGISTERED)
                return HouseholdResult(matches=False, detail=detail)
            if record.name.strip() != check.name.strip():
                return HouseholdResult(matches=False, detail=HOUSEHOLD_NAME_DIFFERS)
            return HouseholdResult(matches=True)


# ---- 人社 HR -------------------------------------------------------------------------------


class DatabaseHrSystem(_DatabaseSystem):
    def record_approval(self, command: ApprovalCommand) -> Receipt:
        def build(_session: Session) -> RetirementApproval:
            return RetirementApproval(
                idempotency_key=command.idempotency_key,
                case_id=command.case_id,
                id_number=command.id_number,
                retirement_month=str(command.retirement_month),
                approver_id=command.approver.id,
                approver_department=command.approver.department,
                approver_region=command.approver.region,
            )

        def number(session: Session, row: RetirementApproval) -> None:
            row.approval_no = row.reference
            session.flush()

        row, duplicate = self._record(
            RetirementApproval, command.idempotency_key, build, apply=number
        )
        return Receipt(reference=row.approval_no or row.reference, duplicate=duplicate)


# ---- 社保经办 social insurance -------------------------------------------------------------


def _problems(record: ContributionRecord) -> list[dict[str, Any]]:
    return [dict(p) for p in record.problems or []]


def _problem_model(problem: dict[str, Any]) -> ContributionProblem:
    return ContributionProblem.model_validate({k: v for k, v in problem.items() if k != "settled"})


class DatabaseSocialInsurance(_DatabaseSystem):
    _department = Department.SOCIAL_INSURANCE

    def _record_for(self, session: Session, id_number: str, step: str) -> ContributionRecord:
        record = contribution_record(session, id_number, lock=True)
        if record is None:
            raise Refused(self._department, step, NO_CONTRIBUTION_RECORD)
        return record

    def receive_prereview(self, push: PrereviewPush) -> Receipt:
        def build(_session: Session) -> PrereviewReceipt:
            return PrereviewReceipt(
                idempotency_key=push.idempotency_key,
                case_id=push.case_id,
                id_number=push.person.id_number,
                retirement_month=str(push.retirement_month),
                path=str(push.declaration.path),
                person=push.person.model_dump(mode="json"),
                declaration=push.declaration.model_dump(mode="json"),
            )

        def derive(session: Session, _row: PrereviewReceipt) -> None:
            # A person social insurance has not heard of gets the record the declaration
            # describes, now that it is known.
            session.flush()
            contribution_record(session, push.person.id_number)

        return _receipt(*self._record(PrereviewReceipt, push.idempotency_key, build, apply=derive))

    def contribution_status(self, query: PersonQuery) -> ContributionStatus:
        with self._sessions.begin() as session:
            record = contribution_record(session, query.id_number)
            if record is None:
                raise Refused(self._department, "contribution-status", NO_CONTRIBUTION_RECORD)
            return ContributionStatus(
                status=record.status,
                problems=[_problem_model(p) for p in _problems(record) if not p.get("settled")],
                contribution_index=record.contribution_index,
                actual_years=record.actual_years,
                deemed_years=record.deemed_years,
                account_balance=record.account_balance,
            )

    def settle(self, command: SettleCommand) -> Receipt:
        step = "settle"
        problem_id = command.problem.id

        def build(session: Session) -> ContributionSettlement:
            record = self._record_for(session, command.id_number, step)
            if not any(p.get("id") == problem_id for p in _problems(record)):
                raise Refused(self._department, step, UNKNOWN_PROBLEM)
            return ContributionSettlement(
                idempotency_key=command.idempotency_key,
                case_id=command.case_id,
                id_number=command.id_number,
                problem_id=problem_id,
                problem_kind=str(command.problem.kind),
                note=command.note,
                actor_id=command.actor.id,
            )

        def mark_settled(session: Session, _row: ContributionSettlement) -> None:
            record = self._record_for(session, command.id_number, step)
            record.problems = [
                {**p, "settled": True} if p.get("id") == problem_id else p
                for p in _problems(record)
            ]  # a new list: JSON columns do not track changes made in place
            session.flush()

        row, duplicate = self._record(
            ContributionSettlement,
            command.idempotency_key,
            build,
            apply=mark_settled,
            lock=lambda session: contribution_record(session, command.id_number, lock=True),
        )
        return _receipt(row, duplicate)

    def switch_to_retiree(self, command: RetireeSwitch) -> Receipt:
        step = "switch-to-retiree"

        def build(session: Session) -> InsuredStatusChange:
            record = self._record_for(session, command.id_number, step)
            return InsuredStatusChange(
                idempotency_key=command.idempotency_key,
                case_id=command.case_id,
                id_number=command.id_number,
                from_status=record.insured_status,
                to_status=InsuredStatus.RETIREE,
                effective_month=str(command.effective_month),
            )

        def switch(session: Session, _row: InsuredStatusChange) -> None:
            self._record_for(
                session, command.id_number, step
            ).insured_status = InsuredStatus.RETIREE
            session.flush()

        row, duplicate = self._record(
            InsuredStatusChange,
            command.idempotency_key,
            build,
            apply=switch,
            lock=lambda session: contribution_record(session, command.id_number, lock=True),
        )
        return _receipt(row, duplicate)

    def award_pension(self, command: PensionAward) -> Receipt:
        """The award and its payment schedule, in one transaction."""
        step = "award-pension"

        def build(session: Session) -> PensionAwardRow:
            self._record_for(session, command.id_number, step)
            parts = command.basic + command.personal_account + command.transitional
            if parts != command.monthly_amount:
                raise Refused(self._department, step, PENSION_PARTS_DIFFER)
            return PensionAwardRow(
                idempotency_key=command.idempotency_key,
                case_id=command.case_id,
                id_number=command.id_number,
                first_month=str(command.first_month),
                basic=command.basic,
                personal_account=command.personal_account,
                transitional=command.transitional,
                monthly_amount=command.monthly_amount,
                confirmed_by=command.confirmed_by.id,
            )

        def schedule(session: Session, award: PensionAwardRow) -> None:
            award.award_no = award.reference
            session.add(
                PaymentSchedule(
                    award_id=award.id,
                    start_month=award.first_month,
                    monthly_amount=award.monthly_amount,
                    status=PAYMENT_SCHEDULED,
                )
            )
            session.flush()

        row, duplicate = self._record(
            PensionAwardRow, command.idempotency_key, build, apply=schedule
        )
        return Receipt(reference=row.award_no or row.reference, duplicate=duplicate)


# ---- 医保 medical security -----------------------------------------------------------------


class DatabaseMedicalSystem(_DatabaseSystem):
    _department = Department.MEDICAL

    def _record_for(self, session: Session, id_number: str, step: str) -> MedicalInsuranceRecord:
        record = medical_record(session, id_number, lock=True)
        if record is None:
            raise Refused(self._department, step, NO_MEDICAL_RECORD)
        return record

    def medical_record(self, query: PersonQuery) -> MedicalRecord:
        with self._sessions.begin() as session:
            record = medical_record(session, query.id_number)
            if record is None:
                raise Refused(self._department, "medical-record", NO_MEDICAL_RECORD)
            return MedicalRecord(actual_years=record.actual_years, deemed_years=record.deemed_years)

    def settle_status(self, command: MedicalSwitch) -> Receipt:
        step = "settle-status"

        def build(session: Session) -> MedicalStatusChange:
            record = self._record_for(session, command.id_number, step)
            return MedicalStatusChange(
                idempotency_key=command.idempotency_key,
                case_id=command.case_id,
                id_number=command.id_number,
                from_status=record.status,
                outcome=str(command.outcome),
                total_years=command.total_years,
                shortfall_years=command.shortfall_years,
                effective_month=str(command.effective_month),
            )

        def apply(session: Session, _row: MedicalStatusChange) -> None:
            # MedicalOutcome's values are the record's statuses (retiree, shortfall).
            self._record_for(session, command.id_number, step).status = str(command.outcome)
            session.flush()

        row, duplicate = self._record(
            MedicalStatusChange,
            command.idempotency_key,
            build,
            apply=apply,
            lock=lambda session: medical_record(session, command.id_number, lock=True),
        )
        return _receipt(row, duplicate)


# ---- 公积金 provident fund ------------------------------------------------------------------


def _last4(card_number: str | None) -> str | None:
    return card_number[-4:] if card_number else None


class DatabaseProvidentFund(_DatabaseSystem):
    _department = Department.PROVIDENT_FUND

    def account(self, query: PersonQuery) -> FundAccount:
        with self._sessions.begin() as session:
            row = fund_account(session, query.id_number)
            if row is None:
                return FundAccount(found=False)
            return FundAccount(
                found=True,
                balance=row.balance,
                status=FundAccountStatus(row.status),
                card_last4=_last4(row.card_number),
            )

    def withdraw_and_close(self, command: FundWithdrawal) -> FundReceipt:
        """Seal the account, pay the whole balance to the card on file, close it: one
        transaction, one payout per idempotency key."""
        step = "withdraw-and-close"

        def account(session: Session) -> FundAccountRow:
            row = fund_account(session, command.id_number, lock=True)
            if row is None:
                raise Refused(self._department, step, NO_FUND_ACCOUNT)
            return row

        def build(session: Session) -> FundPayout:
            row = account(session)
            if row.status == FundAccountStatus.FROZEN:
                raise Refused(self._department, step, FUND_FROZEN)
            if row.status == FundAccountStatus.CLOSED:
                raise Refused(self._department, step, FUND_CLOSED)
            if not row.card_number:
                raise Refused(self._department, step, NO_CARD)
            return FundPayout(
                idempotency_key=command.idempotency_key,
                case_id=command.case_id,
                id_number=command.id_number,
                amount=row.balance,
                card_last4=_last4(row.card_number),
                approved_by=command.approved_by.id,
            )

        def pay(session: Session, payout: FundPayout) -> None:
            payout.payout_no = payout.reference
            # Sealed (封存), paid out and closed (销户) in this one transaction: no one ever sees
            # the sealed account, so only the end state is written.
            row = account(session)
            row.balance = Decimal("0.00")
            row.status = FundAccountStatus.CLOSED
            session.flush()

        payout, duplicate = self._record(
            FundPayout,
            command.idempotency_key,
            build,
            apply=pay,
            lock=lambda session: fund_account(session, command.id_number, lock=True),
        )
        return FundReceipt(
            payout_id=payout.payout_no or payout.reference,
            amount=payout.amount,
            card_last4=payout.card_last4,
            duplicate=duplicate,
        )


# ---- 卫健 health commission ----------------------------------------------------------------


class DatabaseHealthCommission(_DatabaseSystem):
    def record_reward_notice(self, command: RewardNoticeRecord) -> Receipt:
        def build(_session: Session) -> RewardNotice:
            return RewardNotice(
                idempotency_key=command.idempotency_key,
                case_id=command.case_id,
                id_number=command.id_number,
                concerns=command.concerns,
            )

        return _receipt(*self._record(RewardNotice, command.idempotency_key, build))


# ---- The channels that reach people -------------------------------------------------------


class DatabaseSms(_DatabaseSystem):
    """政务短信平台: keeps every text it sends in ``sms_messages``, once per key."""

    def send(self, message: SmsMessage) -> Receipt:
        def build(_session: Session) -> SmsRow:
            return SmsRow(
                idempotency_key=message.idempotency_key,
                case_id=message.case_id,
                mobile=message.mobile,
                text=message.text,
            )

        return _receipt(*self._record(SmsRow, message.idempotency_key, build))


class DatabasePush(_DatabaseSystem):
    """吉事办 push: keeps every notice it pushes in ``push_messages``, once per key."""

    def push(self, message: PushMessage) -> Receipt:
        def build(_session: Session) -> PushRow:
            return PushRow(
                idempotency_key=message.idempotency_key,
                case_id=message.case_id,
                user=message.user,
                title=message.title,
                text=message.text,
            )

        return _receipt(*self._record(PushRow, message.idempotency_key, build))
