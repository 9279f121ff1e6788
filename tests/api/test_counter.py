"""The offline counter (线下综窗): an HR clerk of the person's region does on their behalf what the
person or the employer can — declare, resubmit, settle, initiate, withdraw — by sending
``at_counter: true`` with the action, and each is recorded as done at the counter (the audit
entry's ``at_counter``, the case's story "… at the counter").
"""

from __future__ import annotations

from decimal import Decimal

from contracts.workflow import ContributionProblem, ContributionProblemKind
from tests.api.conftest import REGION, Api
from tests.api.support import (
    Json,
    assert_problem,
    audit_entry,
    case_of,
    decide,
    declare_body,
    illness_declaration,
    normal_declaration,
    open_task,
    wait_stage,
)
from tests.support.people import new_id_number

AGENCY = "agency-counter-1"
EMPLOYER = "emp-counter-2"
ARREARS = ContributionProblem(
    id="arrears-1",
    kind=ContributionProblemKind.ARREARS,
    detail="three months unpaid in 2019",
    amount_yuan=Decimal("1260.00"),
)


def _counter(api: Api, sub: str = "hr-counter-1", department: str = "hr") -> dict[str, str]:
    return api.as_(role="clerk", department=department, region=REGION, sub=sub)


def _at_the_counter(sub: str) -> Json:
    """What the API answers an accepted action by ``sub`` at the counter with, in the audit."""
    return {"actor_id": sub, "actor_role": "clerk", "actor_department": "hr", "at_counter": True}


async def _recorded_at_the_counter(api: Api, case_id: str, action: str, sub: str) -> None:
    """The action is in the audit log, accepted, as done at the counter by ``sub``, and the
    case's story names it so."""
    hr = _counter(api, "hr-reader")
    entry = await audit_entry(
        api.http,
        hr,
        case_id,
        lambda e: e["action"] == action and e["result"] == "accepted",
        what=f"accepted {action}",
    )
    assert {k: entry[k] for k in _at_the_counter(sub)} == _at_the_counter(sub), entry
    story = (await case_of(api.http, hr, case_id))["events"]
    told = [e for e in story if e["event"].startswith(f"{action}: ")]
    assert told, [e["event"] for e in story]
    assert told[-1]["actor"] == f"clerk:{sub}@hr at the counter"


async def test_a_person_without_an_employer_is_served_at_the_counter_throughout(
    api: Api,
) -> None:
    """Declared, corrected, settled and initiated at the counter: the person never logs in."""
    id_number = new_id_number(1980, 1, female=True)
    api.departments.seed(id_number, "李秀兰", contribution_problems=[ARREARS])
    counter = _counter(api)
    body = {
        **declare_body(
            id_number,
            name="李秀兰",
            category="female-worker",
            declaration=illness_declaration(),
        ),
        "at_counter": True,
        "agency_id": AGENCY,
    }
    declared = await api.http.post("/cases", json=body, headers=counter)
    assert declared.status_code == 201, declared.text
    case_id = declared.json()["case_id"]
    await _recorded_at_the_counter(api, case_id, "declare", "hr-counter-1")
    # The case is the agency's, as if it had declared: it sees the case.
    agency = api.as_(role="agency", organisation=AGENCY)
    assert (await case_of(api.http, agency, case_id))["organisation"] == AGENCY

    # Pre-review returns it; the counter corrects and resubmits.
    hr = _counter(api, "hr-reviewer")
    await decide(api.http, hr, case_id, "pre-review", "return", reason="archive pages missing")
    await open_task(api.http, counter, case_id, "correct")
    resubmitted = await api.http.post(
        f"/cases/{case_id}/resubmission",
        json={"declaration": illness_declaration(archive_refs=["A-12"]), "at_counter": True},
        headers=counter,
    )
    assert resubmitted.status_code == 200, resubmitted.text
    await _recorded_at_the_counter(api, case_id, "resubmit", "hr-counter-1")

    # Approved; the arrears are the person's to settle, paid at the counter.
    await decide(api.http, hr, case_id, "pre-review")
    settle = await open_task(api.http, counter, case_id, "settle-contributions")
    settled = await api.http.post(
        f"/cases/{case_id}/settlements",
        json={"task_id": settle["id"], "note": "paid at the counter", "at_counter": True},
        headers=counter,
    )
    assert settled.status_code == 200, settled.text
    await _recorded_at_the_counter(api, case_id, "settle", "hr-counter-1")

    social = api.as_(role="clerk", department="social-insurance", region=REGION)
    await decide(api.http, social, case_id, "confirm-contributions")
    await wait_stage(api.http, counter, case_id, "awaiting-initiation")
    initiated = await api.http.post(
        f"/cases/{case_id}/initiation", json={"at_counter": True}, headers=counter
    )
    assert initiated.status_code == 200, initiated.text
    assert initiated.json()["stage"] == "joint-handling"
    await _recorded_at_the_counter(api, case_id, "initiate", "hr-counter-1")

    snapshot = await case_of(api.http, counter, case_id)
    by_counter = {
        t["kind"]: t["closed_by"]
        for t in snapshot["tasks"]
        if t["kind"] in ("correct", "settle-contributions", "initiate")
    }
    assert set(by_counter) == {"correct", "settle-contributions", "initiate"}
    assert all(c["id"] == "hr-counter-1" and c["at_counter"] for c in by_counter.values())


async def test_a_clerk_withdraws_at_the_counter_for_the_employer(api: Api) -> None:
    employer = api.as_(role="employer", organisation=EMPLOYER)
    id_number = new_id_number(1967, 1)
    api.departments.seed(id_number, "赵刚")
    declared = await api.http.post(
        "/cases", json=declare_body(id_number, name="赵刚"), headers=employer
    )
    assert declared.status_code == 201, declared.text
    case_id = declared.json()["case_id"]

    counter = _counter(api, "hr-counter-2")
    not_at_counter = await api.http.post(
        f"/cases/{case_id}/withdrawal", json={"reason": "moving abroad"}, headers=counter
    )
    assert_problem(not_at_counter, 403, detail="only at the counter")
    withdrawn = await api.http.post(
        f"/cases/{case_id}/withdrawal",
        json={"reason": "moving abroad", "at_counter": True},
        headers=counter,
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["stage"] == "withdrawn"
    await _recorded_at_the_counter(api, case_id, "withdraw", "hr-counter-2")


async def test_who_may_act_at_the_counter(api: Api) -> None:
    """Only an HR clerk of the person's region, saying so, for the organisation it names."""
    id_number = new_id_number(1967, 1)
    api.departments.seed(id_number, "孙桂兰")
    plain = declare_body(id_number, name="孙桂兰", declaration=normal_declaration())
    at_counter = {**plain, "at_counter": True, "employer_id": EMPLOYER}

    # A clerk who does not say they are at the counter; another department's; another region's.
    for body, headers, status, detail in (
        ({**plain, "employer_id": EMPLOYER}, _counter(api), 403, "only at the counter"),
        (at_counter, _counter(api, department="social-insurance"), 403, "only HR clerks"),
        (
            at_counter,
            api.as_(role="clerk", department="hr", region="220202", sub="far"),
            403,
            "not the clerk's",
        ),
        # At the counter, the person's organisation must be named: one of the two.
        ({**plain, "at_counter": True}, _counter(api), 422, "employer_id"),
        (
            {**at_counter, "agency_id": AGENCY},
            _counter(api),
            422,
            "employer_id or, without an employer, agency_id",
        ),
        # An employer declares for itself: it names no organisation.
        (
            {**plain, "employer_id": "emp-someone-else"},
            api.as_(role="employer", organisation=EMPLOYER),
            422,
            "only at the counter",
        ),
    ):
        response = await api.http.post("/cases", json=body, headers=headers)
        assert_problem(response, status, detail=detail)

    # The person's open case belongs to another organisation than the one the clerk names.
    employer = api.as_(role="employer", organisation=EMPLOYER)
    created = await api.http.post("/cases", json=plain, headers=employer)
    assert created.status_code == 201, created.text
    case_id = created.json()["case_id"]
    elsewhere = {**at_counter, "employer_id": "emp-counter-other"}
    refused = await api.http.post("/cases", json=elsewhere, headers=_counter(api))
    assert_problem(refused, 403, slug="wrong-organisation")

    # A social insurance clerk saying they are at the counter is refused by the case itself.
    social = _counter(api, "si-counter", department="social-insurance")
    for path, body in (
        ("withdrawal", {"reason": "x", "at_counter": True}),
        ("initiation", {"at_counter": True}),
    ):
        response = await api.http.post(f"/cases/{case_id}/{path}", json=body, headers=social)
        assert_problem(response, 403, detail="only an HR clerk")
    # The case is still the employer's, in pre-review.
    assert (await case_of(api.http, employer, case_id))["stage"] in ("declaration", "pre-review")
