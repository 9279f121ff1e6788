"""``retirement rules …``: the rules calculators, for people (tables) and scripts (``--json``).

Contract relied on by scripts: ``retirement-date`` and ``check-id`` print one JSON array with one
object per argument, in order. Exit status: 0 for an answer, 1 when the answer is "no" (an invalid
ID number, a refused request, not eligible), 2 for bad arguments with one line on stderr.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import IO, Any, TypeVar

from cli.output import print_json, print_pairs, print_table
from contracts.rules import Pension, RetirementDate, Timeline
from domain.early import (
    Appraisal,
    EarlyAssessment,
    SpecialJobPeriod,
    illness_early_retirement,
    special_job_early_retirement,
)
from domain.flexible import flexible_retirement
from domain.idcard import InvalidIdNumber, parse_id_number
from domain.medical import medical_retiree_check
from domain.months import YearMonth
from domain.pension import MAX_BALANCE, MAX_INDEX, MAX_YEARS, estimate_pension
from domain.policy import Category, ClerkTask, Gender, Policy, SpecialJobKind
from domain.statutory import category_gender, statutory_retirement
from domain.timeline import CHINA_TZ, case_timeline, clerk_deadline, working_calendar
from domain.workdays import Deadline
from policies import load_policy

T = TypeVar("T")


def _typed(parse: Callable[[str], T], what: str) -> Callable[[str], T]:
    """An argparse type whose error message is the parser's own reason, not a repr."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except (ValueError, InvalidOperation) as exc:
            reason = str(exc) if isinstance(exc, ValueError) else ""
            if not reason or isinstance(exc, InvalidOperation):
                reason = f"{text!r} is not {what}"
            elif repr(text) not in reason:
                reason = f"{text!r}: {reason}"
            raise argparse.ArgumentTypeError(reason) from None

    return convert


def _decimal(text: str) -> Decimal:
    value = Decimal(text)
    if not value.is_finite():
        raise ValueError("not a finite number")
    return value


def _bounded(upper: Decimal) -> Callable[[str], Decimal]:
    def parse(text: str) -> Decimal:
        value = _decimal(text)
        if not 0 <= value <= upper:
            raise ValueError(f"must be between 0 and {upper:f}")
        return value

    return parse


_years = _bounded(MAX_YEARS)


def _special_job(text: str) -> SpecialJobPeriod:
    kind, sep, years = text.partition("=")
    if not sep:
        raise ValueError("use KIND=YEARS")
    try:
        job = SpecialJobKind(kind)
    except ValueError:
        raise ValueError(f"kinds are {', '.join(k.value for k in SpecialJobKind)}") from None
    return SpecialJobPeriod(job, _years(years))


MONTH = _typed(YearMonth.parse, "a month YYYY-MM")
DAY = _typed(date.fromisoformat, "a date YYYY-MM-DD")
YEARS = _typed(_years, "a number of years")
AMOUNT = _typed(_bounded(MAX_BALANCE), "an amount")
INDEX = _typed(_bounded(MAX_INDEX), "a contribution index")
SPECIAL_JOB = _typed(_special_job, "KIND=YEARS")


def china_today() -> date:
    return datetime.now(CHINA_TZ).date()


@dataclass(frozen=True)
class Context:
    args: argparse.Namespace
    policy: Policy
    out: IO[str]

    @property
    def json(self) -> bool:
        return bool(self.args.json)


def add_rules_commands(sub: Any) -> None:
    """Register ``retirement rules`` and its subcommands on the top-level subparsers."""
    rules = sub.add_parser("rules", help="retirement rules calculators")
    rules.add_argument("--policy", metavar="FILE", help="policy file (default: bundled Jilin)")
    cmds = rules.add_subparsers(dest="rules_command", required=True, metavar="COMMAND")

    def command(name: str, handler: Callable[[Context], int], help_: str) -> Any:
        parser = cmds.add_parser(name, help=help_, description=help_)
        parser.add_argument("--json", action="store_true", help="print JSON for scripts")
        parser.set_defaults(handler=handler)
        return parser

    categories = [c.value for c in Category]
    p = command("retirement-date", _retirement_date, "statutory retirement month (2024 reform)")
    p.add_argument("--category", required=True, choices=categories)
    p.add_argument("birth_months", nargs="+", type=MONTH, metavar="BIRTH_MONTH")

    p = command("check-id", _check_id, "validate resident ID numbers (GB 11643-1999)")
    p.add_argument("--today", type=DAY, help="date that bounds birth dates (default: today)")
    p.add_argument("ids", nargs="+", metavar="ID")

    p = command("timeline", _timeline, "a case's deadlines and reminders from month T")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--retirement-month", type=MONTH, help="the month T itself")
    who.add_argument("--birth-month", type=MONTH, help="with --category, derive T")
    p.add_argument("--category", choices=categories)

    p = command(
        "clerk-due",
        _clerk_due,
        "a clerk task's deadline in working days (estimated, and marked "
        "so, when the official holiday calendar of a year it reaches is not published yet)",
    )
    p.add_argument("--task", required=True, choices=[t.value for t in ClerkTask])
    p.add_argument("--opened", required=True, type=DAY, help="the day the task was opened")

    p = command("pension-estimate", _pension_estimate, "monthly pension estimate at retirement")
    p.add_argument("--birth-month", required=True, type=MONTH)
    p.add_argument("--category", required=True, choices=categories)
    p.add_argument("--retirement-month", type=MONTH, help="default: the statutory month")
    p.add_argument("--index", required=True, type=INDEX, help="average contribution index")
    p.add_argument("--actual-years", required=True, type=YEARS)
    p.add_argument("--deemed-years", default=Decimal(0), type=YEARS)
    p.add_argument("--balance", required=True, type=AMOUNT, help="personal account, yuan")
    p.add_argument("--area", help="wage area (default: the policy's)")

    p = command("flexible", _flexible, "check a flexible (early or delayed) retirement month")
    p.add_argument("--birth-month", required=True, type=MONTH)
    p.add_argument("--category", required=True, choices=categories)
    p.add_argument("--requested", required=True, type=MONTH)
    p.add_argument("--notice-month", required=True, type=MONTH,
                   help="month of the written notice (early) or confirmation (delay)")  # fmt: skip
    p.add_argument("--contribution-years", required=True, type=YEARS)
    p.add_argument("--employer-agreed", action="store_true")
    p.add_argument("--agreed-delay-month", type=MONTH, help="a delay already set")

    p = command("early", _early, "early retirement eligibility (special job or illness)")
    p.add_argument("--birth-month", required=True, type=MONTH)
    p.add_argument("--category", required=True, choices=categories)
    p.add_argument("--special-job", action="append", type=SPECIAL_JOB, default=[],
                   metavar="KIND=YEARS", help="years in a special job (repeatable)")  # fmt: skip
    p.add_argument("--appraisal", choices=[a.value for a in Appraisal],
                   help="labour-capacity appraisal conclusion (illness path)")  # fmt: skip
    p.add_argument("--contribution-years", type=YEARS, default=Decimal(0))
    p.add_argument("--retirement-month", type=MONTH,
                   help="illness path: the month of the early retirement, whose year sets the "
                        "contribution years required (default: the earliest month)")  # fmt: skip

    p = command("medical", _medical, "retiree medical cover threshold check")
    p.add_argument("--gender", required=True, choices=[g.value for g in Gender])
    p.add_argument("--actual-years", required=True, type=YEARS)
    p.add_argument("--deemed-years", default=Decimal(0), type=YEARS)
    p.add_argument("--region", default="default", help="region code (default: the default)")

    command("policy", _policy, "the policy in force and every unverified figure")


def run_rules(args: argparse.Namespace, out: IO[str]) -> int:
    policy = load_policy(args.policy)
    handler: Callable[[Context], int] = args.handler
    return handler(Context(args, policy, out))


def _retirement_date(ctx: Context) -> int:
    category = Category(ctx.args.category)
    results = [statutory_retirement(b, category, ctx.policy) for b in ctx.args.birth_months]
    if ctx.json:
        print_json([RetirementDate.of(r).model_dump(mode="json") for r in results], ctx.out)
        return 0
    print_table(
        ["birth", "category", "original", "retirement", "age", "delay", "min years"],
        [
            [
                r.birth_month,
                r.category,
                r.original_retirement_month,
                r.retirement_month,
                f"{r.age_years}y{r.age_extra_months}m",
                f"+{r.delay_months}m",
                r.min_contribution_years,
            ]
            for r in results
        ],
        ctx.out,
    )
    return 0


def _check_id(ctx: Context) -> int:
    today = ctx.args.today or china_today()
    rows: list[dict[str, Any]] = []
    for text in ctx.args.ids:
        try:
            parsed = parse_id_number(text, today)
        except InvalidIdNumber as exc:
            rows.append({"id": text, "valid": False, "id18": None, "birth_date": None,
                         "gender": None, "region_code": None, "error": str(exc)})  # fmt: skip
            continue
        rows.append({"id": text, "valid": True, "id18": parsed.number,
                     "birth_date": parsed.birth_date, "gender": parsed.gender,
                     "region_code": parsed.region_code, "error": None})  # fmt: skip
    if ctx.json:
        print_json(rows, ctx.out)
    else:
        print_table(
            ["id", "valid", "birth date", "gender", "region", "error"],
            [
                [r["id"], r["valid"], r["birth_date"], r["gender"], r["region_code"], r["error"]]
                for r in rows
            ],
            ctx.out,
        )
    return 0 if all(r["valid"] for r in rows) else 1


def _timeline(ctx: Context) -> int:
    args = ctx.args
    if args.retirement_month is not None:
        if args.category is not None:
            raise UsageError("--category goes with --birth-month, not --retirement-month")
        month: YearMonth = args.retirement_month
    else:
        if args.category is None:
            raise UsageError("--birth-month needs --category")
        statutory = statutory_retirement(args.birth_month, Category(args.category), ctx.policy)
        month = statutory.retirement_month
    tl = case_timeline(month, ctx.policy)
    milestones = [
        ("declaration due (申报)", tl.declaration_due),
        ("contribution check feedback due (核查)", tl.contribution_check_due),
        ("initiation window opens (发起)", tl.initiation_opens),
        ("initiation due", tl.initiation_due),
        ("retirement effective", tl.retirement_effective),
        ("first pension month", tl.first_pension_month),
    ]
    if ctx.json:
        print_json(Timeline.of(tl).model_dump(mode="json"), ctx.out)
        return 0
    ctx.out.write(f"retirement month (T): {tl.retirement_month}\n\n")
    print_table(["milestone", "date"], milestones, ctx.out)
    ctx.out.write("\n")
    print_table(
        ["reminder on", "for", "days before", "due"],
        [[r.on, r.milestone, r.days_before, r.due] for r in tl.reminders],
        ctx.out,
    )
    return 0


def _clerk_due(ctx: Context) -> int:
    task = ClerkTask(ctx.args.task)
    # The workflow's own function, so the date printed is the one a task opened that day gets,
    # estimated (and marked) when the count reaches a year whose holidays are not published.
    deadline = clerk_deadline(task, ctx.args.opened, ctx.policy, working_calendar(ctx.policy))
    result = _clerk_due_view(task, ctx.args.opened, deadline, ctx.policy)
    if ctx.json:
        print_json(result, ctx.out)
        return 0
    print_pairs([(k, v) for k, v in result.items() if k != "estimate_note"], ctx.out)
    if deadline.estimate_note:
        ctx.out.write(f"\n{deadline.estimate_note}\n")
    return 0


def _clerk_due_view(
    task: ClerkTask, opened: date, deadline: Deadline, policy: Policy
) -> dict[str, Any]:
    """``clerk-due --json``, field for field what ``GET /rules/clerk-due`` answers."""
    return {
        "task": task,
        "opened": opened,
        "working_days": policy.clerk_sla.working_days[task],
        "due": deadline.due,
        "estimated": deadline.estimated,
        "estimate_note": deadline.estimate_note,
    }


def _pension_estimate(ctx: Context) -> int:
    a = ctx.args
    statutory = statutory_retirement(a.birth_month, Category(a.category), ctx.policy)
    month: YearMonth = a.retirement_month or statutory.retirement_month
    est = estimate_pension(
        birth_month=a.birth_month,
        retirement_month=month,
        contribution_index=a.index,
        actual_years=a.actual_years,
        deemed_years=a.deemed_years,
        account_balance=a.balance,
        wage_area=a.area,
        policy=ctx.policy,
    )
    result = Pension.of(est).model_dump(mode="json")
    if ctx.json:
        print_json(result, ctx.out)
        return 0
    print_pairs(list(result.items()), ctx.out)
    if est.wage_base_provisional:
        ctx.out.write(
            f"\nnote: no wage base is published for {month}; the {est.wage_base_period} "
            "figure is used, so the estimate is provisional\n"
        )
    return 0


def _flexible(ctx: Context) -> int:
    a = ctx.args
    statutory = statutory_retirement(a.birth_month, Category(a.category), ctx.policy)
    outcome = flexible_retirement(
        statutory,
        a.requested,
        notice_month=a.notice_month,
        contribution_years=a.contribution_years,
        employer_agreed=a.employer_agreed,
        agreed_delay_month=a.agreed_delay_month,
        policy=ctx.policy,
    )
    result = {
        "statutory_month": statutory.retirement_month,
        "requested_month": outcome.requested_month,
        "kind": outcome.kind,
        "earliest_month": outcome.earliest_month,
        "latest_month": outcome.latest_month,
        "accepted": outcome.accepted,
        "retirement_month": outcome.retirement_month,
        "refusals": [{"rule": r.rule, "reason": r.reason} for r in outcome.refusals],
    }
    _print_decision(ctx, result, [str(r) for r in outcome.refusals])
    return 0 if outcome.accepted else 1


def _early(ctx: Context) -> int:
    a = ctx.args
    if bool(a.special_job) == bool(a.appraisal):
        raise UsageError("give --special-job KIND=YEARS (special-job path) or --appraisal")
    category = Category(a.category)
    statutory = statutory_retirement(a.birth_month, category, ctx.policy)
    gender = category_gender(category, ctx.policy)
    assessment: EarlyAssessment
    if a.special_job and a.retirement_month is not None:
        # The special-job path has no year-dependent condition: a month given would be ignored.
        raise UsageError("--retirement-month goes with --appraisal (the illness path)")
    if a.special_job:
        assessment = special_job_early_retirement(
            a.birth_month, gender, a.special_job, statutory.retirement_month, ctx.policy
        )
    else:
        assessment = illness_early_retirement(
            a.birth_month, gender, Appraisal(a.appraisal), a.contribution_years,
            statutory.retirement_month, ctx.policy, retirement_month=a.retirement_month,
        )  # fmt: skip
    result = {
        "path": assessment.path,
        "statutory_month": statutory.retirement_month,
        "earliest_month": assessment.earliest_month,
        "eligible": assessment.eligible,
        "qualifying_kind": assessment.qualifying_kind,
        "required_years": assessment.required_years,
        "held_years": assessment.held_years,
        "refusals": [{"rule": r.rule, "reason": r.reason} for r in assessment.refusals],
    }
    _print_decision(ctx, result, [str(r) for r in assessment.refusals])
    return 0 if assessment.eligible else 1


def _medical(ctx: Context) -> int:
    a = ctx.args
    check = medical_retiree_check(
        Gender(a.gender), a.actual_years, a.deemed_years, a.region, ctx.policy
    )
    result = {
        "threshold_region": check.threshold_region,
        "required_total_years": check.required_total_years,
        "required_actual_years": check.required_actual_years,
        "total_years": check.total_years,
        "meets_threshold": check.meets_threshold,
        "shortfall_years": check.shortfall_years,
        "needs_clerk_confirmation": check.needs_clerk_confirmation,
    }
    if ctx.json:
        print_json(result, ctx.out)
    else:
        print_pairs(list(result.items()), ctx.out)
    return 0


def _policy(ctx: Context) -> int:
    p = ctx.policy
    unverified = [{"where": where, "why": why} for where, why in p.unverified()]
    if ctx.json:
        print_json({"id": p.meta.id, "version": p.meta.version, "unverified": unverified}, ctx.out)
        return 0
    ctx.out.write(f"{p.meta.id} version {p.meta.version}: {p.meta.title}\n\nunverified:\n")
    print_table(["where", "why"], [[u["where"], u["why"]] for u in unverified], ctx.out)
    return 0


def _print_decision(ctx: Context, result: dict[str, Any], refusals: list[str]) -> None:
    if ctx.json:
        print_json(result, ctx.out)
        return
    print_pairs([(k, v) for k, v in result.items() if k != "refusals"], ctx.out)
    for line in refusals:
        ctx.out.write(f"refused: {line}\n")


class UsageError(Exception):
    """Arguments that parse but do not fit together; reported like an argparse error."""
