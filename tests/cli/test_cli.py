"""The ``retirement rules …`` command line contract that scripts depend on.

Most tests run the installed console script in a subprocess, exactly as a script would (exit
status, stdout, stderr); several birth months or ID numbers go into one call to keep the number
of processes small. Where the process boundary adds nothing, ``cli.main.run`` runs in process:
it returns the exit status, lets argparse's ``SystemExit(2)`` propagate for parse errors and
returns 2 for domain errors, which is what ``main`` turns into the process's status.

Expected figures come from rules.md (published rows) or are worked out by hand in comments, never
from the code under test.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import chinese_calendar
import httpx
import pytest
from fastapi import FastAPI

from api.problems import install_problem_handlers
from api.routes import rules as rules_routes
from cli.main import run
from policies import DEFAULT_POLICY_FILE, POLICY_FILE_ENV, load_policy
from tests.support.people import fixed_id_number

SCRIPT = Path(sys.executable).parent / "retirement"


@dataclass(frozen=True)
class Result:
    status: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """The JSON on stdout, with non-integral numbers read exactly as Decimals."""
        return json.loads(self.stdout, parse_float=Decimal)


def _environment() -> dict[str, str]:
    """The caller's environment without a policy override, and UTF-8 output."""
    env = {k: v for k, v in os.environ.items() if k != POLICY_FILE_ENV}
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def cli(*args: str) -> Result:
    """Run the installed ``retirement`` console script."""
    proc = subprocess.run(
        [str(SCRIPT), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=_environment(),
        timeout=60,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


InProcess = Callable[..., Result]


@pytest.fixture
def in_process(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> InProcess:
    """``cli.main.run`` with the exit status ``main`` would give and the captured streams."""
    monkeypatch.delenv(POLICY_FILE_ENV, raising=False)

    def call(*args: str) -> Result:
        out = io.StringIO()
        try:
            status = run(list(args), out=out)
        except SystemExit as exc:  # argparse's parse errors, exactly as main() handles them
            status = exc.code if isinstance(exc.code, int) else 2
        captured = capsys.readouterr()
        return Result(status, out.getvalue() + captured.out, captured.err)

    return call


def number(value: Any) -> Decimal:
    """A JSON number (int or exact decimal), never a string or a boolean, as a Decimal."""
    assert isinstance(value, int | Decimal), value
    assert not isinstance(value, bool), value
    return Decimal(value)


def assert_usage_error(result: Result, needle: str) -> None:
    """Bad arguments: one line on stderr that says why, status 2, no traceback, no stdout."""
    assert result.status == 2, result
    assert result.stdout == "", result
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.endswith("\n"), result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("retirement"), lines[0]
    assert needle in lines[0], lines[0]


# ---------------------------------------------------------------------------------------------
# retirement-date


# birth month → (original month, retirement month, age years, age months, delay, min years).
# Published rows (rules.md §1) plus the month before each cap month, and retirements in 2029,
# 2030 and 2038 for the minimum contribution years (15 until 2029, +0.5 a year from 2030, 20
# from 2039). Rule: M = months from 2025-01 (=1) to the original month; delay = (M-1)//step + 1.
MALE_ROWS: dict[str, tuple[str, str, int, int, int, Decimal]] = {
    "1964-02": ("2024-02", "2024-02", 60, 0, 0, Decimal(15)),  # published, before the reform
    "1965-01": ("2025-01", "2025-02", 60, 1, 1, Decimal(15)),  # published
    "1965-12": ("2025-12", "2026-03", 60, 3, 3, Decimal(15)),  # published
    # 1968-12: original 2028-12, M = 48, delay 47//4+1 = 12 → 2029-12, still 15 years
    "1968-12": ("2028-12", "2029-12", 61, 0, 12, Decimal(15)),
    # 1969-01: original 2029-01, M = 49, delay 48//4+1 = 13 → 2030-02, the first 15.5
    "1969-01": ("2029-01", "2030-02", 61, 1, 13, Decimal("15.5")),
    # 1975-06: original 2035-06, M = 126, delay 125//4+1 = 32 → 2038-02, 15 + 9 × 0.5 = 19.5
    "1975-06": ("2035-06", "2038-02", 62, 8, 32, Decimal("19.5")),
    # 1976-08: original 2036-08, M = 140, delay 139//4+1 = 35 → 2039-07: one short of the cap
    "1976-08": ("2036-08", "2039-07", 62, 11, 35, Decimal(20)),
    "1976-09": ("2036-09", "2039-09", 63, 0, 36, Decimal(20)),  # published: first at the cap
}
FEMALE_CADRE_ROWS: dict[str, tuple[str, str, int, int, int, Decimal]] = {
    "1971-04": ("2026-04", "2026-08", 55, 4, 4, Decimal(15)),  # published
    "1981-08": ("2036-08", "2039-07", 57, 11, 35, Decimal(20)),
    "1981-09": ("2036-09", "2039-09", 58, 0, 36, Decimal(20)),  # published: first at the cap
}
FEMALE_WORKER_ROWS: dict[str, tuple[str, str, int, int, int, Decimal]] = {
    "1995-12": ("2045-12", "2050-12", 55, 0, 60, Decimal(20)),  # published
    # 1984-10: original 2034-10, M = 118, delay 117//2+1 = 59 → 2039-09
    "1984-10": ("2034-10", "2039-09", 54, 11, 59, Decimal(20)),
    "1984-11": ("2034-11", "2039-11", 55, 0, 60, Decimal(20)),  # published: first at the cap
}


@pytest.mark.parametrize(
    ("category", "rows"),
    [
        ("male", MALE_ROWS),
        ("female-cadre", FEMALE_CADRE_ROWS),
        ("female-worker", FEMALE_WORKER_ROWS),
    ],
)
def test_retirement_date_json_rows(
    category: str, rows: dict[str, tuple[str, str, int, int, int, Decimal]]
) -> None:
    births = sorted(rows, reverse=True)  # not in date order: the output must follow the input
    result = cli("rules", "retirement-date", "--category", category, "--json", *births)
    assert result.status == 0, result
    assert result.stderr == ""
    answer = result.json()
    assert isinstance(answer, list)
    assert [row["birth_month"] for row in answer] == births
    for birth, row in zip(births, answer, strict=True):
        original, retirement, years, months, delay, min_years = rows[birth]
        assert row["category"] == category
        assert row["original_retirement_month"] == original, birth
        assert row["retirement_month"] == retirement, birth
        assert (row["retirement_age_years"], row["retirement_age_months"]) == (years, months)
        assert row["delay_months"] == delay, birth
        for field in ("retirement_age_years", "retirement_age_months", "delay_months"):
            assert type(row[field]) is int, (birth, field)
        assert number(row["min_contribution_years"]) == min_years, birth


def test_retirement_date_order_and_repeats_are_kept() -> None:
    births = ["1976-09", "1964-02", "1976-08", "1964-02", "1965-01"]
    result = cli("rules", "retirement-date", "--json", "--category", "male", *births)
    assert result.status == 0
    answer = result.json()
    assert [row["birth_month"] for row in answer] == births
    assert [row["retirement_month"] for row in answer] == [
        "2039-09",
        "2024-02",
        "2039-07",
        "2024-02",
        "2025-02",
    ]


def test_retirement_date_table(in_process: InProcess) -> None:
    result = in_process("rules", "retirement-date", "--category", "female-cadre", "1971-04")
    assert result.status == 0
    header, rule, row = result.stdout.splitlines()
    assert header.split() == [
        "birth",
        "category",
        "original",
        "retirement",
        "age",
        "delay",
        "min",
        "years",
    ]
    assert set(rule.replace(" ", "")) == {"-"}
    assert row.split() == ["1971-04", "female-cadre", "2026-04", "2026-08", "55y4m", "+4m", "15"]


# ---------------------------------------------------------------------------------------------
# check-id

# Born the day after 2025-06-01 (sequence 001: odd, so male), in Changchun (220102); its check
# character is computed by tests.support.people, independently of ``domain.idcard``.
BORN_2025_06_02 = fixed_id_number(date(2025, 6, 2), region="220102")


def test_check_id_valid_numbers() -> None:
    result = cli(
        "rules",
        "check-id",
        "--json",
        "--today",
        "2025-06-02",
        "11010519491231002X",
        "34052419800101001x",  # lowercase x is accepted
        "110105491231002",  # legacy 15 digits: 110105 + 19 + 491231 + 002 + check X
        BORN_2025_06_02,  # born on --today itself: not in the future
    )
    assert result.status == 0, result
    assert result.stderr == ""
    rows = result.json()
    assert [row["id"] for row in rows] == [
        "11010519491231002X",
        "34052419800101001x",
        "110105491231002",
        BORN_2025_06_02,
    ]
    picked = [
        (r["valid"], r["birth_date"], r["gender"], r["region_code"], r["error"]) for r in rows
    ]
    assert picked == [
        (True, "1949-12-31", "female", "110105", None),  # sequence 002: even, female
        (True, "1980-01-01", "male", "340524", None),  # sequence 001: odd, male
        (True, "1949-12-31", "female", "110105", None),
        (True, "2025-06-02", "male", "220102", None),
    ]


def test_check_id_invalid_numbers_each_say_why() -> None:
    wrong_check = "110105194912310021"  # the digits give X
    result = cli(
        "rules",
        "check-id",
        "--json",
        "--today",
        "2025-06-01",
        "11010519491231002X",
        wrong_check,
        "1101051949123100",  # 16 characters
        BORN_2025_06_02,  # the day after --today
        "34052419800101001X",
    )
    assert result.status == 1, result  # any invalid number: status 1, still a full answer
    assert result.stderr == ""
    rows = result.json()
    assert [row["valid"] for row in rows] == [True, False, False, False, True]
    for row in rows[1:4]:
        assert (row["birth_date"], row["gender"], row["region_code"]) == (None, None, None)
    errors = [row["error"] for row in rows]
    assert errors[0] is None
    assert errors[4] is None
    assert "check character" in errors[1]
    assert "X" in errors[1]  # what the digits give
    assert "18" in errors[2]
    assert "16" in errors[2]
    assert "2025-06-02" in errors[3]
    assert "future" in errors[3]
    assert len(set(errors[1:4])) == 3  # each its own reason


def test_check_id_exit_status_and_table(in_process: InProcess) -> None:
    valid = in_process("rules", "check-id", "11010519491231002X")
    assert valid.status == 0
    assert valid.stdout.splitlines()[0].split()[:3] == ["id", "valid", "birth"]
    assert "1949-12-31" in valid.stdout
    invalid = in_process("rules", "check-id", "--today", "2026-01-01", "11010519491231002")
    assert invalid.status == 1
    assert "not 17" in invalid.stdout
    assert invalid.stderr == ""


# ---------------------------------------------------------------------------------------------
# timeline


def test_timeline_json_for_retirement_month_2026_08() -> None:
    result = cli("rules", "timeline", "--json", "--retirement-month", "2026-08")
    assert result.status == 0, result
    tl = result.json()
    # 吉人社联〔2024〕56号: declaration by T-6, check feedback by T-2, initiation during T-1;
    # a stage due "by T-n" is due through the last day of that month.
    assert tl["retirement_month"] == "2026-08"
    assert tl["declaration_due"] == "2026-02-28"  # 2026 is not a leap year
    assert tl["contribution_check_due"] == "2026-06-30"
    assert tl["initiation_opens"] == "2026-07-01"
    assert tl["initiation_due"] == "2026-07-31"
    assert tl["retirement_effective"] == "2026-08-01"
    assert tl["first_pension_month"] == "2026-09"
    reminders = tl["reminders"]
    assert reminders
    on = [date.fromisoformat(r["on"]) for r in reminders]
    assert on == sorted(on)
    dues = {
        "declaration": tl["declaration_due"],
        "contribution-check": tl["contribution_check_due"],
        "initiation": tl["initiation_due"],
    }
    assert {r["milestone"] for r in reminders} == set(dues)
    for r in reminders:
        assert r["due"] == dues[r["milestone"]]
        assert isinstance(r["days_before"], int)
        assert r["days_before"] > 0
        assert date.fromisoformat(r["due"]) - date.fromisoformat(r["on"]) == timedelta(
            days=r["days_before"]
        )


def test_timeline_from_birth_month_matches_and_prints_a_table(in_process: InProcess) -> None:
    # A woman cadre born 1971-04 retires in 2026-08 (published row): the same timeline.
    derived = in_process(
        "rules", "timeline", "--json", "--birth-month", "1971-04", "--category", "female-cadre"
    )
    direct = in_process("rules", "timeline", "--json", "--retirement-month", "2026-08")
    assert derived.status == direct.status == 0
    assert derived.json() == direct.json()
    table = in_process("rules", "timeline", "--retirement-month", "2026-08")
    assert table.status == 0
    assert "retirement month (T): 2026-08" in table.stdout
    assert "milestone" in table.stdout
    assert "2026-02-28" in table.stdout


# ---------------------------------------------------------------------------------------------
# clerk-due


def test_clerk_due_across_national_day_2026() -> None:
    # The State Council's 2026 arrangement: Mid-Autumn Fri 09-25 … Sun 09-27 off; National Day
    # Thu 10-01 … Wed 10-07 off, with Sun 09-20 and Sat 10-10 worked in exchange.
    # Pre-review (10 working days) opened Mon 2026-09-28; the opening day does not count:
    #   09-29 Tue 1, 09-30 Wed 2, (10-01 … 10-07 off), 10-08 Thu 3, 10-09 Fri 4,
    #   10-10 Sat 5 (worked in exchange), (10-11 Sun off), 10-12 Mon 6, 10-13 Tue 7,
    #   10-14 Wed 8, 10-15 Thu 9, 10-16 Fri 10  → due 2026-10-16
    # (on plain weekdays it would have been 2026-10-12).
    result = cli("rules", "clerk-due", "--json", "--task", "pre-review", "--opened", "2026-09-28")
    assert result.status == 0, result
    assert result.json() == {
        "task": "pre-review",
        "opened": "2026-09-28",
        "working_days": 10,
        "due": "2026-10-16",
        "estimated": False,  # 2026's holidays are published
        "estimate_note": None,
    }
    # Double-check the hand count against the chinese_calendar package itself.
    days = [date(2026, 9, 28) + timedelta(days=n) for n in range(1, 19)]
    working = [d for d in days if chinese_calendar.is_workday(d)]
    assert working[9] == date(2026, 10, 16)
    assert date(2026, 10, 10) in working


def test_clerk_due_counts_the_swapped_saturday(in_process: InProcess) -> None:
    # Household check (3 working days) opened Wed 2026-09-30: 10-08 Thu 1, 10-09 Fri 2,
    # 10-10 Sat 3 (a working Saturday in exchange for National Day).
    result = in_process("rules", "clerk-due", "--task", "household-check", "--opened", "2026-09-30")
    assert result.status == 0
    assert "household-check" in result.stdout
    assert "due" in result.stdout
    assert "2026-10-10" in result.stdout
    assert "estimated: " not in result.stdout


# A year whose official holiday calendar the bundled chinesecalendar lacks (it knows 2004..2026).
UNPUBLISHED = 2027
MARKER = f"estimated: the official holiday calendar for {UNPUBLISHED} is not published yet"


async def api_get(path: str, params: dict[str, str] | None = None) -> httpx.Response:
    """``GET path`` from the API's rules routes on the bundled policy. They read nothing else (no
    Temporal, no database), so the router is mounted alone with the API's problem handlers."""
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(rules_routes.router)
    app.state.context = SimpleNamespace(policy=load_policy(DEFAULT_POLICY_FILE))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://rules") as http:
        return await http.get(path, params=params)


async def test_clerk_due_in_an_unpublished_year_is_estimated_the_same_by_cli_and_api(
    in_process: InProcess,
) -> None:
    with pytest.raises(NotImplementedError):  # else pick a later UNPUBLISHED year
        chinese_calendar.is_workday(date(UNPUBLISHED, 3, 2))
    # Pre-review (10 working days) opened Mon 2027-03-01, counted Monday to Friday without
    # holidays: 03-02 … 03-05 (4), 03-08 … 03-12 (9), 03-15 Mon (10). It is what the workflow
    # gives a task opened that day, so the CLI answers it too, marked, instead of refusing.
    expected = {
        "task": "pre-review",
        "opened": f"{UNPUBLISHED}-03-01",
        "working_days": 10,
        "due": f"{UNPUBLISHED}-03-15",
        "estimated": True,
    }
    args = ["rules", "clerk-due", "--task", "pre-review", "--opened", f"{UNPUBLISHED}-03-01"]
    by_cli = in_process(*args, "--json")
    assert by_cli.status == 0, by_cli
    cli_answer = by_cli.json()
    assert {k: cli_answer[k] for k in expected} == expected
    assert cli_answer["estimate_note"].startswith(MARKER)

    response = await api_get(
        "/rules/clerk-due", {"task": "pre-review", "opened": f"{UNPUBLISHED}-03-01"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == cli_answer

    table = in_process(*args)
    assert table.status == 0
    assert f"{UNPUBLISHED}-03-15" in table.stdout
    assert MARKER in table.stdout


async def test_clerk_due_in_a_published_year_is_not_marked_by_cli_or_api(
    in_process: InProcess,
) -> None:
    # Household check (3 working days) from Wed 2026-09-30: 10-08, 10-09, 10-10 (worked Sat).
    by_cli = in_process(
        "rules", "clerk-due", "--json", "--task", "household-check", "--opened", "2026-09-30"
    )
    assert by_cli.status == 0
    response = await api_get(
        "/rules/clerk-due", {"task": "household-check", "opened": "2026-09-30"}
    )
    assert response.status_code == 200
    assert response.json() == by_cli.json()
    assert (response.json()["due"], response.json()["estimated"]) == ("2026-10-10", False)
    assert response.json()["estimate_note"] is None


async def test_clerk_due_api_refuses_bad_input() -> None:
    for params in (
        {"task": "lunch", "opened": "2026-03-02"},
        {"task": "pre-review", "opened": "2026-02-30"},
        {"task": "pre-review", "opened": "9999-12-31"},  # would overflow a date when counted
        {"task": "pre-review"},
    ):
        response = await api_get("/rules/clerk-due", params)
        assert response.status_code == 422, (params, response.text)
        assert response.headers["content-type"] == "application/problem+json"


# ---------------------------------------------------------------------------------------------
# pension-estimate


def test_pension_estimate_worked_example() -> None:
    # A man born 1966-05: original month 2026-05, M = 17, delay 16//4+1 = 5 → retires 2026-10 at
    # 60y5m. No wage base is published for 2026-10, so the latest (2025-07..2026-06, province
    # 7322.08, 吉人社联〔2025〕97号) is used and the estimate is provisional. Divisor: whole years
    # of age, 60 → 139.
    #   indexed wage = 7322.08 × 1.0                            = 7322.08
    #   basic        = (7322.08 + 7322.08) / 2 × (30 + 5) × 1%  = 7322.08 × 0.35 = 2562.728
    #                                                                            → 2562.73
    #   personal     = 139000 / 139                             = 1000.00
    #   transitional = 7322.08 × 5 × 1.2%                       = 439.3248       → 439.32
    #   total        = 2562.73 + 1000.00 + 439.32               = 4002.05
    result = cli(
        "rules",
        "pension-estimate",
        "--json",
        "--birth-month",
        "1966-05",
        "--category",
        "male",
        "--index",
        "1.0",
        "--actual-years",
        "30",
        "--deemed-years",
        "5",
        "--balance",
        "139000",
    )
    assert result.status == 0, result
    est = result.json()
    assert est["retirement_month"] == "2026-10"
    assert (est["age_years"], est["age_months"]) == (60, 5)
    assert est["wage_area"] == "province"
    assert est["wage_base_period"] == "2025-07..2026-06"
    assert est["wage_base_provisional"] is True
    assert number(est["wage_base"]) == Decimal("7322.08")
    assert number(est["indexed_wage"]) == Decimal("7322.08")
    assert number(est["contribution_years"]) == Decimal(35)
    assert number(est["divisor_months"]) == Decimal(139)
    basic, personal, transitional = Decimal("2562.73"), Decimal("1000.00"), Decimal("439.32")
    assert number(est["basic"]) == basic
    assert number(est["personal_account"]) == personal
    assert number(est["transitional"]) == transitional
    assert number(est["total"]) == basic + personal + transitional == Decimal("4002.05")


def test_pension_estimate_rounds_half_up_and_prints_a_table(in_process: InProcess) -> None:
    # Same man retiring in his original month 2026-05 (age 60y0m, inside the published period),
    # in Changchun (7978.25 a month):
    #   basic    = (7978.25 + 7978.25) / 2 × 26 × 1% = 79.7825 × 26 = 2074.345 → 2074.35 (half
    #              up; half-even would give 2074.34)
    #   personal = 100000 / 139 = 719.4244… → 719.42
    #   total    = 2074.35 + 719.42 + 0 = 2793.77
    args = [
        "rules",
        "pension-estimate",
        "--birth-month",
        "1966-05",
        "--category",
        "male",
        "--retirement-month",
        "2026-05",
        "--index",
        "1",
        "--actual-years",
        "26",
        "--balance",
        "100000",
        "--area",
        "changchun",
    ]
    est = in_process(*args, "--json")
    assert est.status == 0
    data = est.json()
    assert data["wage_base_provisional"] is False
    assert number(data["wage_base"]) == Decimal("7978.25")
    assert number(data["basic"]) == Decimal("2074.35")
    assert number(data["personal_account"]) == Decimal("719.42")
    assert number(data["transitional"]) == 0
    assert number(data["total"]) == Decimal("2793.77")
    table = in_process(*args)
    assert table.status == 0
    assert "total" in table.stdout
    assert "2793.77" in table.stdout
    assert "note:" not in table.stdout  # the provisional note is for unpublished periods only


# ---------------------------------------------------------------------------------------------
# flexible and early

# A man born 1966-05: statutory 2026-10, original 2026-05. Early: never before 2026-05 (the
# original month is later than 2026-10 - 36), notice 3 months ahead. Delay: up to 2029-10.
FLEXIBLE = ["rules", "flexible", "--birth-month", "1966-05", "--category", "male"]


def test_flexible_accepted_and_refused() -> None:
    accepted = cli(
        *FLEXIBLE,
        "--json",
        "--requested",
        "2026-06",
        "--notice-month",
        "2026-03",  # exactly 3 months ahead
        "--contribution-years",
        "20",
    )
    assert accepted.status == 0, accepted
    ok = accepted.json()
    assert ok["accepted"] is True
    assert ok["kind"] == "early"
    assert (ok["statutory_month"], ok["earliest_month"], ok["latest_month"]) == (
        "2026-10",
        "2026-05",
        "2029-10",
    )
    assert ok["retirement_month"] == "2026-06"
    assert ok["refusals"] == []

    refused = cli(
        *FLEXIBLE,
        "--json",
        "--requested",
        "2026-04",  # before the original month
        "--notice-month",
        "2026-03",  # 1 month ahead
        "--contribution-years",
        "10",  # 15 needed for a 2026 retirement
    )
    assert refused.status == 1, refused
    assert refused.stderr == ""
    no = refused.json()
    assert no["accepted"] is False
    assert no["retirement_month"] == "2026-10"  # the statutory month still applies
    assert [r["rule"] for r in no["refusals"]] == [
        "flexible.early.too-early",
        "flexible.early.min-contribution",
        "flexible.early.notice",
    ]
    assert all(r["reason"] for r in no["refusals"])


def test_flexible_delay_and_table(in_process: InProcess) -> None:
    delay = in_process(
        *FLEXIBLE,
        "--json",
        "--requested",
        "2027-10",
        "--notice-month",
        "2026-09",
        "--contribution-years",
        "30",
        "--employer-agreed",
    )
    assert delay.status == 0
    assert delay.json()["kind"] == "delay"
    assert delay.json()["retirement_month"] == "2027-10"

    refused = in_process(
        *FLEXIBLE,
        "--requested",
        "2030-01",
        "--notice-month",
        "2026-10",
        "--contribution-years",
        "30",
        "--agreed-delay-month",
        "2027-01",
    )
    assert refused.status == 1
    assert "accepted" in refused.stdout
    for rule in ("too-late", "agreement", "confirmation", "extension"):
        assert f"refused: flexible.delay.{rule}: " in refused.stdout


def test_early_special_job_and_illness() -> None:
    # Man born 1970-03: statutory 2031-07 (original 2030-03, M = 63, delay 62//4+1 = 16);
    # special-job age 55 → 2025-03. Harmful 5 + underground 4 = 9 years, measured against the
    # most demanding kind held (underground/high-temperature, 9 years): eligible.
    special = cli(
        "rules",
        "early",
        "--json",
        "--birth-month",
        "1970-03",
        "--category",
        "male",
        "--special-job",
        "harmful=5",
        "--special-job",
        "underground-high-temperature=4",
    )
    assert special.status == 0, special
    s = special.json()
    assert (s["path"], s["eligible"], s["qualifying_kind"]) == (
        "special-job",
        True,
        "underground-high-temperature",
    )
    assert (s["statutory_month"], s["earliest_month"]) == ("2031-07", "2025-03")
    assert number(s["required_years"]) == number(s["held_years"]) == 9
    assert s["refusals"] == []

    # Woman worker born 1978-03: statutory 2029-11 (original 2028-03, M = 39, delay
    # 38//2+1 = 20); illness age 45 → 2023-03. Partial loss and 12 years: two refusals.
    illness = cli(
        "rules",
        "early",
        "--json",
        "--birth-month",
        "1978-03",
        "--category",
        "female-worker",
        "--appraisal",
        "partial-loss",
        "--contribution-years",
        "12",
    )
    assert illness.status == 1, illness
    i = illness.json()
    assert (i["path"], i["eligible"]) == ("illness", False)
    assert (i["statutory_month"], i["earliest_month"]) == ("2029-11", "2023-03")
    assert [r["rule"] for r in i["refusals"]] == [
        "early.illness.appraisal",
        "early.illness.contribution",
    ]


@pytest.mark.parametrize(
    ("month", "needed"),
    [
        ("2029-12", "15"),
        ("2030-01", "15.5"),
        ("2035-06", "18"),
        ("2039-01", "20"),
        ("2040-06", "20"),
    ],
)
def test_early_illness_years_by_retirement_year(
    in_process: InProcess, month: str, needed: str
) -> None:
    # A man born 1978-01 (illness age 50 → 2028-01, statutory 2041-01) with 15.5 years: the
    # years needed rise from 2030 like the national minimum (15 until 2029, 20 from 2039).
    args = ["rules", "early", "--json", "--birth-month", "1978-01", "--category", "male"]
    result = in_process(
        *args, "--appraisal", "complete-loss", "--contribution-years", "15.5",
        "--retirement-month", month,
    )  # fmt: skip
    data = result.json()
    assert number(data["required_years"]) == Decimal(needed)
    eligible = Decimal("15.5") >= Decimal(needed)
    assert (result.status, data["eligible"]) == (0 if eligible else 1, eligible)
    assert ("early.illness.contribution" in [r["rule"] for r in data["refusals"]]) is not eligible


def test_early_illness_eligible_and_table(in_process: InProcess) -> None:
    args = ["rules", "early", "--birth-month", "1978-03", "--category", "female-worker"]
    eligible = in_process(*args, "--appraisal", "complete-loss", "--contribution-years", "15")
    assert eligible.status == 0
    assert "eligible" in eligible.stdout
    assert "refused" not in eligible.stdout
    short = in_process(*args, "--special-job", "harmful=7")
    assert short.status == 1
    assert "refused: early.special-job.years: " in short.stdout


# ---------------------------------------------------------------------------------------------
# medical and policy


def test_medical_shortfall() -> None:
    # Placeholder default thresholds: men 25 years in all, at least 10 actual.
    result = cli(
        "rules",
        "medical",
        "--json",
        "--gender",
        "male",
        "--actual-years",
        "18",
        "--deemed-years",
        "4",
    )
    assert result.status == 0, result
    m = result.json()
    assert m["threshold_region"] == "default"
    assert number(m["total_years"]) == 22
    assert m["meets_threshold"] is False
    assert number(m["shortfall_years"]) == 3
    assert m["needs_clerk_confirmation"] is True  # the medical section is unverified


def test_medical_actual_years_minimum_and_table(in_process: InProcess) -> None:
    # Women 20 years in all: 8 + 15 = 23 reaches it, but 8 actual years are 2 short of 10.
    short = in_process(
        "rules",
        "medical",
        "--json",
        "--gender",
        "female",
        "--actual-years",
        "8",
        "--deemed-years",
        "15",
        "--region",
        "220100",
    )
    assert short.status == 0
    data = short.json()
    assert data["threshold_region"] == "default"  # no threshold of its own for 220100
    assert data["meets_threshold"] is False
    assert number(data["shortfall_years"]) == 2
    met = in_process(
        "rules", "medical", "--gender", "female", "--actual-years", "12.5", "--deemed-years", "8"
    )
    assert met.status == 0
    assert "meets_threshold" in met.stdout
    assert "20.5" in met.stdout


async def test_policy_lists_unverified_figures() -> None:
    result = cli("rules", "policy", "--json")
    assert result.status == 0, result
    p = result.json()
    assert (p["id"], p["version"]) == ("jilin-2025", "2025.2")
    where = [u["where"] for u in p["unverified"]]
    for unverified in (
        "early.special_jobs",
        "early.illness",
        "clerk_sla",
        "medical",
        "pension.divisor.months_by_age.47",
        "pension.wage_bases[0]",
        "pension.transitional",
    ):
        assert unverified in where
    for verified in ("statutory_age", "min_contribution", "flexible", "timeline"):
        assert verified not in where
    assert all(u["why"] for u in p["unverified"])
    # GET /rules/policy answers the same.
    response = await api_get("/rules/policy")
    assert response.status_code == 200
    assert response.json() == p


def test_policy_table(in_process: InProcess) -> None:
    result = in_process("rules", "policy")
    assert result.status == 0
    assert result.stdout.startswith("jilin-2025 version 2025.2")
    assert "unverified:" in result.stdout
    assert "pension.divisor.months_by_age.47" in result.stdout


def test_policy_file_option_is_used(tmp_path: Path) -> None:
    text = DEFAULT_POLICY_FILE.read_text(encoding="utf-8")
    edited = text.replace('version = "2025.2"', 'version = "2025.2-test"').replace(
        "pre-review = 10", "pre-review = 5"
    )
    assert edited.count("2025.2-test") == 1
    assert "pre-review = 5" in edited
    file = tmp_path / "policy.toml"
    file.write_text(edited, encoding="utf-8")
    # 5 working days from Mon 2026-09-28: 09-29, 09-30, 10-08, 10-09, 10-10 (worked Saturday)
    result = cli(
        "rules",
        "--policy",
        str(file),
        "clerk-due",
        "--json",
        "--task",
        "pre-review",
        "--opened",
        "2026-09-28",
    )
    assert result.status == 0, result
    assert result.json()["due"] == "2026-10-10"


# ---------------------------------------------------------------------------------------------
# bad arguments: one line on stderr, status 2, nothing on stdout, never a traceback

PENSION = [
    "rules",
    "pension-estimate",
    "--birth-month",
    "1966-05",
    "--category",
    "male",
    "--actual-years",
    "30",
    "--balance",
    "1000",
]
EARLY = ["rules", "early", "--birth-month", "1970-03", "--category", "male"]

BAD_ARGUMENTS: list[tuple[list[str], str]] = [
    (["rules", "retirement-date", "--category", "alien", "1965-01"], "'alien'"),
    (["rules", "retirement-date", "--category", "male", "1965-13"], "1965-13"),
    (["rules", "retirement-date", "--category", "male", "1965-12", "1965-13"], "1965-13"),
    (["rules", "retirement-date", "--category", "male", "1965-1"], "1965-1"),
    (["rules", "retirement-date", "--category", "male"], "BIRTH_MONTH"),
    (["rules", "retirement-date", "1965-01"], "--category"),
    (["rules", "bogus"], "bogus"),
    (["bogus"], "bogus"),
    ([], "required"),
    (["rules"], "required"),
    (["rules", "check-id"], "ID"),
    (["rules", "check-id", "--today", "2025-02-30", "11010519491231002X"], "2025-02-30"),
    (["rules", "medical", "--gender", "male", "--actual-years", "-3"], "between 0"),
    (["rules", "medical", "--gender", "male", "--actual-years=-3"], "between 0"),
    (["rules", "medical", "--gender", "other", "--actual-years", "3"], "'other'"),
    ([*PENSION, "--index", "abc"], "'abc'"),
    ([*PENSION, "--index", "nan"], "'nan'"),
    ([*PENSION, "--index", "0"], "index"),
    ([*PENSION, "--index", "1", "--deemed-years", "-1"], "between 0"),
    ([*PENSION, "--index", "1", "--area", "atlantis"], "atlantis"),
    (["rules", "pension-estimate", "--birth-month", "1966-05", "--category", "male"], "required"),
    (["rules", "timeline", "--retirement-month", "2026-08", "--category", "male"], "--category"),
    (["rules", "timeline", "--birth-month", "1966-05"], "--category"),
    (["rules", "timeline"], "--retirement-month"),
    (["rules", "timeline", "--retirement-month", "2026-08", "--birth-month", "1966-05"], "not"),
    ([*EARLY], "--special-job"),
    ([*EARLY, "--special-job", "harmful=9", "--appraisal", "complete-loss"], "--special-job"),
    ([*EARLY, "--special-job", "mining=9"], "mining=9"),
    ([*EARLY, "--special-job", "harmful"], "KIND=YEARS"),
    ([*EARLY, "--appraisal", "maybe"], "'maybe'"),
    (["rules", "flexible", "--birth-month", "1966-05", "--category", "male"], "required"),
    (["rules", "--policy", "/nonexistent/policy.toml", "policy"], "/nonexistent/policy.toml"),
    (["rules", "clerk-due", "--task", "pre-review", "--opened", "9999-12-30"], "out of range"),
    ([*EARLY, "--special-job", "harmful=9", "--retirement-month", "2030-01"], "--appraisal"),
    ([*EARLY, "--appraisal", "none", "--retirement-month", "2030-13"], "2030-13"),
    (["rules", "clerk-due", "--task", "lunch", "--opened", "2026-03-02"], "'lunch'"),
    (["rules", "policy", "--verbose"], "--verbose"),
]


@pytest.mark.parametrize(
    ("argv", "needle"), BAD_ARGUMENTS, ids=[" ".join(a[1:4]) or "-" for a, _ in BAD_ARGUMENTS]
)
def test_bad_arguments_in_process(in_process: InProcess, argv: list[str], needle: str) -> None:
    assert_usage_error(in_process(*argv), needle)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["rules", "retirement-date", "--category", "alien", "1965-01"], "'alien'"),  # choices
        (["rules", "retirement-date", "--category", "male", "1965-12", "1965-13"], "1965-13"),
        (["rules", "nope"], "nope"),  # unknown subcommand
        ([*PENSION, "--index", "abc"], "'abc'"),  # argument type
        (["rules", "timeline", "--retirement-month", "2026-08", "--category", "male"], "--cat"),
        ([*EARLY], "--special-job"),  # UsageError after parsing
        (["rules", "--policy", "/nonexistent/policy.toml", "policy"], "/nonexistent"),
        (["rules", "clerk-due", "--task", "pre-review", "--opened", "9999-12-30"], "range"),
        ([*PENSION, "--index", "0"], "index"),  # PensionInputError
    ],
)
def test_bad_arguments_from_the_console_script(argv: list[str], needle: str) -> None:
    assert_usage_error(cli(*argv), needle)


def test_policy_file_that_does_not_validate(tmp_path: Path) -> None:
    text = DEFAULT_POLICY_FILE.read_text(encoding="utf-8")
    broken = text.replace("step_months = 2", "step_months = 0")
    assert broken != text
    file = tmp_path / "broken.toml"
    file.write_text(broken, encoding="utf-8")
    result = cli("rules", "--policy", str(file), "retirement-date", "--category", "male", "1966-05")
    assert_usage_error(result, "step_months")
    assert str(file) in result.stderr

    not_toml = tmp_path / "not.toml"
    not_toml.write_text("this is = = not toml\n", encoding="utf-8")
    assert_usage_error(cli("rules", "--policy", str(not_toml), "policy"), "TOML")


# ---------------------------------------------------------------------------------------------
# Inputs that once ended in a traceback: now one line on stderr, or a clean "invalid".


@pytest.mark.parametrize(
    "argv",
    [
        # a month past year 9999 or before year 1 on the way: YearMonth raises ValueError
        ["rules", "retirement-date", "--category", "male", "9990-01"],
        ["rules", "timeline", "--retirement-month", "9999-12"],
        ["rules", "timeline", "--retirement-month", "0001-03"],
        # amounts too large for Decimal's 28 digits once rounded to the fen: InvalidOperation
        [*PENSION, "--index", "1", "--balance", "1e30"],
        [*PENSION, "--index", "1e30"],
        # beyond Decimal's exponent range when added up: decimal.Overflow
        ["rules", "medical", "--gender", "male", "--actual-years", "1e1000000"],
    ],
)
def test_out_of_range_arguments(in_process: InProcess, argv: list[str]) -> None:
    assert_usage_error(in_process(*argv), "")


@pytest.mark.parametrize(
    "text",
    [
        "1101051949123100²X",  # superscript two: ValueError in check_character, a traceback
        "110105１９４９１２３１００２X",  # full-width digits: reported valid, status 0
    ],
)
def test_non_ascii_digits_in_id_number(in_process: InProcess, text: str) -> None:
    result = in_process("rules", "check-id", "--json", text)
    assert result.status == 1
    assert result.json()[0]["valid"] is False


def test_policy_file_not_utf8(in_process: InProcess, tmp_path: Path) -> None:
    file = tmp_path / "latin1.toml"
    file.write_bytes("title = 'caf\u00e9'\n".encode("latin-1"))
    assert_usage_error(in_process("rules", "--policy", str(file), "policy"), str(file))
