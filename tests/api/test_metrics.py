"""``/metrics``: request counts by route template, decisions, and the read model's gauges."""

from __future__ import annotations

from tests.api.conftest import Api


async def test_metrics_count_requests_by_route_template(api: Api) -> None:
    await api.http.get("/rules/timeline", params={"retirement_month": "2027-08"})
    await api.http.get("/cases/retirement-unknown", headers=api.as_(role="admin", region="220000"))
    text = (await api.http.get("/metrics")).text
    assert (
        'retirement_api_requests_total{method="GET",route="/rules/timeline",status="200"}' in text
    )
    assert 'route="/cases/{case_id}"' in text  # a template: no case id in any label
    assert "retirement-unknown" not in text
    assert "retirement_api_request_duration_seconds_bucket" in text
    assert "# TYPE retirement_open_cases gauge" in text
    assert "# TYPE retirement_overdue_tasks gauge" in text


async def test_unknown_http_methods_do_not_grow_the_metrics(api: Api) -> None:
    for method in ("FOO1", "FOO2", "BAR3"):
        await api.http.request(method, "/health")
    text = (await api.http.get("/metrics")).text
    assert "FOO1" not in text
    assert 'method="OTHER"' in text
