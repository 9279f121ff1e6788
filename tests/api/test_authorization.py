"""Who may do what to a case: the authorization matrix, table-driven, and bearer-token checks.

The refusals all act on one case (an employer's, in pre-review, its pre-review task open) of a
module-wide app, so the table runs quickly; every refused *action* (an update or a decision) must
then be in the case's audit log as ``refused 403``. What the rules allow — a retiree acting on
their own case, supervisors above the county, a clerk at the offline counter — runs on cases of
its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from temporalio.testing import WorkflowEnvironment

from api.devauth import KEY_ID
from contracts.identity import person_key
from contracts.workflow import ContributionProblem, ContributionProblemKind
from harness.department_simulator import DepartmentSimulator
from tests.api.conftest import AUDIENCE, ISSUER, REGION, Api, serve
from tests.api.support import (
    Json,
    assert_no_id_number,
    assert_problem,
    audit_entry,
    audit_of,
    case_of,
    decide,
    declare_body,
    illness_declaration,
    inbox_task,
    open_task,
    wait_stage,
)
from tests.support.people import new_id_number

OWNER = "emp-authz-own"
FAR_REGION = "220202"  # 吉林市昌邑区: another city of the province


@dataclass
class World:
    api: Api
    case_id: str
    task_id: str
    id_number: str
    stranger_id: str  # someone else's ID number, for the retiree who is not this case's
    hr: dict[str, str]  # an HR clerk of the case's county, who reads the audit log


@pytest.fixture(scope="module")
async def world(
    api_env: WorkflowEnvironment,
    database_url: str,
    signing_key: tuple[Path, Path],
    departments: DepartmentSimulator,
) -> AsyncIterator[World]:
    async with serve(api_env, database_url, signing_key, departments) as api:
        id_number = new_id_number(1967, 1)
        api.departments.seed(id_number, "王建国")
        owner = api.as_(role="employer", organisation=OWNER)
        response = await api.http.post("/cases", json=declare_body(id_number), headers=owner)
        assert response.status_code == 201, response.text
        case_id = response.json()["case_id"]
        hr = api.as_(role="clerk", department="hr", region=REGION, sub="authz-hr-reader")
        task = await inbox_task(api.http, hr, case_id, "pre-review")
        yield World(api, case_id, task["task_id"], id_number, new_id_number(1960, 5), hr)


# Who tries (token claims, without ``sub``) ...
OTHER_EMPLOYER = {"role": "employer", "organisation": "emp-authz-other"}
OWN_EMPLOYER = {"role": "employer", "organisation": OWNER}
AGENCY = {"role": "agency", "organisation": "agy-authz"}
STRANGER = {"role": "individual"}  # id_number: someone else's (filled in per world)
HR_CLERK = {"role": "clerk", "department": "hr", "region": REGION}
MEDICAL_CLERK = {"role": "clerk", "department": "medical-security", "region": REGION}
SOCIAL_CLERK = {"role": "clerk", "department": "social-insurance", "region": REGION}
FAR_HR_CLERK = {"role": "clerk", "department": "hr", "region": FAR_REGION}
FAR_HR_SUPERVISOR = {"role": "supervisor", "department": "hr", "region": "220200"}
MEDICAL_SUPERVISOR = {"role": "supervisor", "department": "medical-security", "region": "220100"}
OTHER_PROVINCE_ADMIN = {"role": "admin", "region": "230000"}

# ... what (method, path, body, the action the audit log records; None: not an audited action)
DECLARATION = {"contribution_years": 30}
ENDPOINTS: dict[str, tuple[str, str, Json | None, str | None]] = {
    "view": ("GET", "/cases/{case}", None, None),
    "audit": ("GET", "/cases/{case}/audit", None, None),
    "resubmit": ("POST", "/cases/{case}/resubmission", {"declaration": DECLARATION}, "resubmit"),
    "settle": ("POST", "/cases/{case}/settlements", {"task_id": "settle-9"}, "settle"),
    "initiate": ("POST", "/cases/{case}/initiation", {}, "initiate"),
    "initiate-at-counter": ("POST", "/cases/{case}/initiation", {"at_counter": True}, "initiate"),
    "withdraw": ("POST", "/cases/{case}/withdrawal", {"reason": "no"}, "withdraw"),
    "cancel": ("POST", "/cases/{case}/cancellation", {"reason": "no"}, "cancel"),
    "correct": (
        "POST",
        "/cases/{case}/retirement-correction",
        {"reason": "no", "declaration": DECLARATION},
        "correct-retirement",
    ),
    # The audit log names an action as the workflow does: a decision by its task's kind.
    "decide": (
        "POST",
        "/cases/{case}/tasks/{task}/decision",
        {"outcome": "approve"},
        "decide-pre-review",
    ),
    "claim": ("POST", "/cases/{case}/tasks/{task}/claim", None, "claim"),
    "release": ("POST", "/cases/{case}/tasks/{task}/release", None, "release"),
    "assign": ("POST", "/cases/{case}/tasks/{task}/assignment", {"clerk_id": "hr-x"}, "assign"),
}

REFUSED: list[tuple[str, dict[str, str], str]] = [
    # An employer of another organisation: nothing on this case.
    *(
        ("other-employer", OTHER_EMPLOYER, e)
        for e in ("view", "resubmit", "settle", "initiate", "withdraw", "correct", "cancel")
    ),
    ("other-employer", OTHER_EMPLOYER, "decide"),
    # An archive agency on an employer's case.
    *(
        ("agency", AGENCY, e)
        for e in ("view", "resubmit", "settle", "initiate", "withdraw", "correct")
    ),
    # A retiree on someone else's case.
    *(
        ("stranger", STRANGER, e)
        for e in ("view", "resubmit", "settle", "initiate", "withdraw", "correct")
    ),
    # The case's own employer: not the staff's actions.
    *(("own-employer", OWN_EMPLOYER, e) for e in ("audit", "cancel", "decide", "claim")),
    # A clerk of the wrong department (the API's check, or the workflow's).
    *(("medical-clerk", MEDICAL_CLERK, e) for e in ("decide", "cancel", "claim", "release")),
    ("social-clerk", SOCIAL_CLERK, "decide"),
    ("medical-supervisor", MEDICAL_SUPERVISOR, "assign"),
    # The right department in another region.
    *(
        ("far-hr-clerk", FAR_HR_CLERK, e)
        for e in ("view", "audit", "decide", "cancel", "claim", "correct", "initiate-at-counter")
    ),
    *(("far-hr-supervisor", FAR_HR_SUPERVISOR, e) for e in ("view", "decide", "assign")),
    *(("other-province-admin", OTHER_PROVINCE_ADMIN, e) for e in ("view", "audit", "cancel")),
    # The right clerk, the wrong role for the action.
    *(("hr-clerk", HR_CLERK, e) for e in ("resubmit", "settle", "withdraw", "initiate", "assign")),
]


def _claims(world: World, who: dict[str, str], sub: str) -> dict[str, str]:
    claims = {**who, "sub": sub}
    if claims["role"] == "individual":
        claims["id_number"] = world.stranger_id
    return claims


def _actor_id(world: World, claims: dict[str, str]) -> str:
    if claims["role"] == "individual":
        return person_key(claims["id_number"], world.api.settings.case_secret)
    return claims["sub"]


@pytest.mark.parametrize(
    ("label", "who", "endpoint"),
    [pytest.param(*row, id=f"{row[0]}-{row[2]}") for row in REFUSED],
)
async def test_refused(world: World, label: str, who: dict[str, str], endpoint: str) -> None:
    method, template, body, action = ENDPOINTS[endpoint]
    claims = _claims(world, who, sub=f"authz-{label}-{endpoint}")
    path = template.format(case=world.case_id, task=world.task_id)
    response = await world.api.http.request(
        method, path, json=body, headers=world.api.as_(**claims)
    )
    assert_problem(response, 403)
    assert_no_id_number(response, world.id_number)
    if action is None:
        return
    entries = await audit_of(world.api.http, world.hr, world.case_id)
    actor = _actor_id(world, claims)  # a retiree is recorded by their pseudonym, not ``sub``
    mine = [e for e in entries if e["actor_id"] == actor and e["action"] == action]
    assert [e["result"] for e in mine] == ["refused 403"], entries
    assert mine[0]["actor_role"] == claims["role"]
    # The refusal as answered, after the task it targeted where it targeted one.
    detail = response.json()["detail"]
    assert mine[0]["detail"] == detail or mine[0]["detail"].endswith(f": {detail}"), mine


async def test_nothing_refused_changed_the_case(world: World) -> None:
    snapshot = await case_of(
        world.api.http, world.api.as_(role="employer", organisation=OWNER), world.case_id
    )
    assert snapshot["stage"] == "pre-review"
    assert [t["id"] for t in snapshot["tasks"] if t["status"] == "open"] == [world.task_id]


async def test_refused_claims_and_assignments_are_audited(world: World) -> None:
    api = world.api
    base = f"/cases/{world.case_id}/tasks/{world.task_id}"
    attempts = [
        ("claim", f"{base}/claim", MEDICAL_CLERK, None),
        ("release", f"{base}/release", FAR_HR_CLERK, None),
        ("assign", f"{base}/assignment", HR_CLERK, {"clerk_id": "hr-x"}),
    ]
    subs = []
    for name, path, who, body in attempts:
        sub = f"authz-audit-{name}"
        subs.append(sub)
        response = await api.http.post(path, json=body, headers=api.as_(**who, sub=sub))
        assert_problem(response, 403)
    entries = await audit_of(api.http, world.hr, world.case_id)
    audited = {e["actor_id"] for e in entries if e["result"] == "refused 403"}
    assert set(subs) <= audited


# ---- bearer tokens -----------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: Json, payload: Json) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"


def _payload(**changes: Any) -> Json:
    now = int(time.time())
    payload: Json = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 600,
        "sub": "token-tester",
        "role": "employer",
        "organisation": OWNER,
    }
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not None}


@pytest.fixture(scope="module")
def bad_tokens(signing_key: tuple[Path, Path]) -> dict[str, str | None]:
    """Authorization header values that must all be refused (401), by name."""
    private, jwks = signing_key
    foreign = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    trusted = serialization.load_pem_private_key(private.read_bytes(), password=None)

    def signed(payload: Json, key: Any = trusted, kid: str | None = KEY_ID) -> str:
        headers = {"kid": kid} if kid else {}
        return jwt.encode(payload, key, algorithm="RS256", headers=headers)

    public_jwk = json.loads(jwks.read_text())["keys"][0]
    public_pem = jwt.PyJWK(public_jwk).key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    none_header = {"alg": "none", "typ": "JWT", "kid": KEY_ID}
    hs_header = {"alg": "HS256", "typ": "JWT", "kid": KEY_ID}
    hs_input = _unsigned(hs_header, _payload())
    hs_signature = hmac.new(public_pem, hs_input.encode(), hashlib.sha256).digest()
    now = int(time.time())
    return {
        "no token": None,
        "empty bearer": "Bearer ",
        "basic scheme": "Basic dXNlcjpwYXNz",
        "malformed": "Bearer not.a.jwt",
        "garbage": "Bearer abc",
        "expired": f"Bearer {signed(_payload(iat=now - 7200, exp=now - 3600))}",
        "wrong audience": f"Bearer {signed(_payload(aud='someone-else'))}",
        "wrong issuer": f"Bearer {signed(_payload(iss='https://evil.example'))}",
        "alg none": f"Bearer {_unsigned(none_header, _payload())}.",
        "HS256 with the public key": f"Bearer {hs_input}.{_b64(hs_signature)}",
        "unknown kid": f"Bearer {signed(_payload(), key=foreign, kid='someone-elses-key')}",
        "known kid, other key": f"Bearer {signed(_payload(), key=foreign)}",
        "no exp": f"Bearer {signed(_payload(exp=None))}",
        "no sub": f"Bearer {signed(_payload(sub=None))}",
        "no role": f"Bearer {signed(_payload(role=None))}",
        "unknown role": f"Bearer {signed(_payload(role='superuser'))}",
        "system role": f"Bearer {signed(_payload(role='system'))}",
        "employer without organisation": f"Bearer {signed(_payload(organisation=None))}",
        "clerk without region": (
            f"Bearer {signed(_payload(role='clerk', department='hr', organisation=None))}"
        ),
        "clerk without department": (
            f"Bearer {signed(_payload(role='clerk', region=REGION, organisation=None))}"
        ),
        "individual without id_number": f"Bearer {signed(_payload(role='individual'))}",
        "individual with an invalid id_number": (
            f"Bearer {signed(_payload(role='individual', id_number='220102196701150010'))}"
        ),
        "region not a region": (
            f"Bearer {signed(_payload(role='admin', region='22', organisation=None))}"
        ),
    }


BAD_TOKENS = (
    "no token",
    "empty bearer",
    "basic scheme",
    "malformed",
    "garbage",
    "expired",
    "wrong audience",
    "wrong issuer",
    "alg none",
    "HS256 with the public key",
    "unknown kid",
    "known kid, other key",
    "no exp",
    "no sub",
    "no role",
    "unknown role",
    "system role",
    "employer without organisation",
    "clerk without region",
    "clerk without department",
    "individual without id_number",
    "individual with an invalid id_number",
    "region not a region",
)


@pytest.mark.parametrize("name", BAD_TOKENS)
async def test_bad_tokens_are_401(
    world: World, bad_tokens: dict[str, str | None], name: str
) -> None:
    assert set(bad_tokens) == set(BAD_TOKENS)
    header = bad_tokens[name]
    headers = {} if header is None else {"Authorization": header}
    for path in (f"/cases/{world.case_id}", "/cases", "/inbox"):
        response = await world.api.http.get(path, headers=headers)
        assert_problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
    declared = await world.api.http.post(
        "/cases", json=declare_body(new_id_number(1967, 1)), headers=headers
    )
    assert_problem(declared, 401)


async def test_the_trusted_token_passes(world: World, signing_key: tuple[Path, Path]) -> None:
    """The control for the table above: the same claims, properly signed, are accepted."""
    token = jwt.encode(
        _payload(), signing_key[0].read_bytes(), algorithm="RS256", headers={"kid": KEY_ID}
    )
    for scheme in ("Bearer", "bearer"):
        response = await world.api.http.get(
            f"/cases/{world.case_id}", headers={"Authorization": f"{scheme} {token}"}
        )
        assert response.status_code == 200, response.text


# ---- what the rules allow ----------------------------------------------------------------------


def _arrears() -> ContributionProblem:
    return ContributionProblem(
        id="arrears-1", kind=ContributionProblemKind.ARREARS, detail="2 months", amount_yuan=800
    )


def _accepted(action: str) -> Callable[[Json], bool]:
    return lambda entry: entry["action"] == action and entry["result"] == "accepted"


async def test_a_retiree_acts_on_their_own_case(api: Api) -> None:
    """Without an employer (an agency's case) the person settles and initiates; any person views
    and may withdraw their own case."""
    agency = api.as_(role="agency", organisation="agy-own-1")
    id_number = new_id_number(1980, 1, female=True)
    api.departments.seed(id_number, "孙桂兰", contribution_problems=[_arrears()])
    body = declare_body(
        id_number, name="孙桂兰", category="female-worker", declaration=illness_declaration()
    )
    created = await api.http.post("/cases", json=body, headers=agency)
    assert created.status_code == 201, created.text
    case_id = created.json()["case_id"]
    retiree = api.as_(role="individual", id_number=id_number)
    key = person_key(id_number, api.settings.case_secret)
    hr = api.as_(role="clerk", department="hr", region=REGION)

    viewed = await api.http.get(f"/cases/{case_id}", headers=retiree)
    assert viewed.status_code == 200, viewed.text
    assert_no_id_number(viewed, id_number)
    assert_problem(await api.http.get(f"/cases/{case_id}/audit", headers=retiree), 403)

    await decide(api.http, hr, case_id, "pre-review")
    task = await open_task(api.http, retiree, case_id, "settle-contributions")
    assert task["assignee"] == "individual"
    settled = await api.http.post(
        f"/cases/{case_id}/settlements",
        json={"task_id": task["id"], "note": "paid"},
        headers=retiree,
    )
    assert settled.status_code == 200, settled.text

    social = api.as_(role="clerk", department="social-insurance", region=REGION)
    await decide(api.http, social, case_id, "confirm-contributions")
    await wait_stage(api.http, retiree, case_id, "awaiting-initiation")
    by_agency = await api.http.post(f"/cases/{case_id}/initiation", headers=agency)
    assert_problem(by_agency, 403, detail="agency")
    initiated = await api.http.post(f"/cases/{case_id}/initiation", headers=retiree)
    assert initiated.status_code == 200, initiated.text
    assert initiated.json()["stage"] == "joint-handling"

    for action in ("settle", "initiate"):
        entry = await audit_entry(api.http, hr, case_id, _accepted(action))
        assert (entry["actor_role"], entry["actor_id"]) == ("individual", key)
    refused = await audit_entry(api.http, hr, case_id, lambda e: e["result"] == "refused 403")
    assert (refused["action"], refused["actor_role"]) == ("initiate", "agency")

    # Their own employer's case: they may view and withdraw it.
    employer = api.as_(role="employer", organisation="emp-own-2")
    other_id = new_id_number(1967, 1)
    api.departments.seed(other_id, "王建国")
    response = await api.http.post("/cases", json=declare_body(other_id), headers=employer)
    other_case = response.json()["case_id"]
    other = api.as_(role="individual", id_number=other_id)
    await wait_stage(api.http, other, other_case, "pre-review")
    assert_problem(await api.http.get(f"/cases/{case_id}", headers=other), 403)
    # Messages: a person reads their own only, as do an organisation and another region's clerk.
    for stranger in (other, employer, api.as_(role="clerk", department="hr", region="220103")):
        assert_problem(await api.http.get(f"/cases/{case_id}/messages", headers=stranger), 403)
    mine = await api.http.get(f"/cases/{case_id}/messages", headers=retiree)
    assert mine.status_code == 200, mine.text
    assert {m["to"] for m in mine.json()["items"]} <= {"individual"}
    withdrawn = await api.http.post(
        f"/cases/{other_case}/withdrawal", json={"reason": "I keep working"}, headers=other
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["stage"] == "withdrawn"


async def test_city_and_province_staff_cover_a_county(api: Api) -> None:
    employer = api.as_(role="employer", organisation="emp-cover-1")
    id_number = new_id_number(1967, 1)
    api.departments.seed(id_number, "王建国")
    response = await api.http.post("/cases", json=declare_body(id_number), headers=employer)
    case_id = response.json()["case_id"]
    city = api.as_(role="supervisor", department="hr", region="220100", sub="hr-sup-city")
    province = api.as_(role="supervisor", department="hr", region="220000", sub="hr-sup-prov")

    task = await inbox_task(api.http, city, case_id, "pre-review")  # 220102 is in its inbox
    assert (await api.http.get(f"/cases/{case_id}", headers=city)).status_code == 200
    assert (await api.http.get(f"/cases/{case_id}/audit", headers=city)).status_code == 200
    listed = await api.http.get("/cases", headers=city, params={"region": REGION, "limit": 200})
    assert case_id in [c["case_id"] for c in listed.json()["items"]]
    claimed = await api.http.post(f"/cases/{case_id}/tasks/{task['task_id']}/claim", headers=city)
    assert claimed.json()["claimed_by"] == "hr-sup-city"
    far = await api.http.get("/cases", headers=city, params={"region": FAR_REGION})
    assert_problem(far, 403, slug="wrong-region")

    await inbox_task(api.http, province, case_id, "pre-review")
    decided = await api.http.post(
        f"/cases/{case_id}/tasks/{task['task_id']}/decision",
        json={"outcome": "approve"},
        headers=province,
    )
    assert decided.status_code == 200, decided.text
    hr = api.as_(role="clerk", department="hr", region=REGION)
    entry = await audit_entry(api.http, hr, case_id, lambda e: e["action"] == "decide-pre-review")
    assert (entry["actor_id"], entry["actor_role"], entry["actor_region"]) == (
        "hr-sup-prov",
        "supervisor",
        "220000",
    )
    admin = api.as_(role="admin", region="220000")
    assert (await api.http.get(f"/cases/{case_id}", headers=admin)).status_code == 200


async def test_a_clerk_at_the_counter_initiates_for_the_employer(api: Api) -> None:
    employer = api.as_(role="employer", organisation="emp-counter-1")
    id_number = new_id_number(1980, 1, female=True)
    api.departments.seed(id_number, "李秀兰")
    body = declare_body(
        id_number, name="李秀兰", category="female-worker", declaration=illness_declaration()
    )
    response = await api.http.post("/cases", json=body, headers=employer)
    case_id = response.json()["case_id"]
    hr = api.as_(role="clerk", department="hr", region=REGION, sub="hr-counter")
    await decide(api.http, hr, case_id, "pre-review")
    social = api.as_(role="clerk", department="social-insurance", region=REGION, sub="si-counter")
    await decide(api.http, social, case_id, "confirm-contributions")
    await wait_stage(api.http, employer, case_id, "awaiting-initiation")

    not_at_counter = await api.http.post(f"/cases/{case_id}/initiation", json={}, headers=hr)
    assert_problem(not_at_counter, 403, detail="counter")
    wrong_counter = await api.http.post(
        f"/cases/{case_id}/initiation", json={"at_counter": True}, headers=social
    )
    assert_problem(wrong_counter, 403, slug="forbidden")
    at_counter = await api.http.post(
        f"/cases/{case_id}/initiation", json={"at_counter": True}, headers=hr
    )
    assert at_counter.status_code == 200, at_counter.text
    assert at_counter.json()["stage"] == "joint-handling"

    entry = await audit_entry(
        api.http, hr, case_id, lambda e: e["action"] == "initiate" and e["result"] == "accepted"
    )
    assert (entry["actor_id"], entry["actor_role"], entry["actor_department"]) == (
        "hr-counter",
        "clerk",
        "hr",
    )
    assert entry["at_counter"] is True
    refusals = [e for e in await audit_of(api.http, hr, case_id) if e["result"] == "refused 403"]
    assert sorted((e["actor_id"], e["at_counter"]) for e in refusals) == [
        ("hr-counter", False),
        ("si-counter", True),
    ]
    snapshot = await case_of(api.http, employer, case_id)
    closed = next(t for t in snapshot["tasks"] if t["kind"] == "initiate")
    assert closed["closed_by"]["at_counter"] is True
