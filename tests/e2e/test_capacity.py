"""Capacity planning on the local stack: a small bounded capacity test, then a collection and the plan."""
import pytest

from tools.capacity_test import capacity_test

# Lambda figures (concurrency, invocations): the Lambda variant only.
pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("stack", ["lambda"], indirect=True)]


def test_the_capacity_test_records_the_highest_rate_that_held(stack):
    outcome = capacity_test(stack.base_url, stack.operator_token, scenario="health-live", ramp="5:5:15",
                            step_duration="1s", seed=3)
    result = outcome["result"]
    assert 1 <= len(result["steps"]) <= 3
    assert all(step["offered_rps"] <= 15 for step in result["steps"])
    recorded = outcome["recorded"]
    assert recorded["capacity_unit"] == "concurrent execution"
    if result["highest_holding_rps"] is not None:
        assert recorded["rps_per_unit"] == pytest.approx(result["highest_holding_rps"] / recorded["capacity_units"],
                                                         rel=1e-3)
    plan = stack.http.get(stack.url("/sre/capacity"), timeout=30).json()
    assert plan["saturation_point"]["concurrent execution"]["measured_at"] == recorded["measured_at"]


def test_a_collection_reads_the_stacks_own_lambda_figures(stack):
    for _ in range(5):
        assert stack.http.get(stack.url("/health/live"), timeout=10).status_code == 200
    stack.flush_metrics()
    response = stack.http.post(stack.url("/sre/capacity/collect"), headers=stack.operator_headers(), timeout=60)
    assert response.status_code == 200, response.text
    plan = stack.http.get(stack.url("/sre/capacity"), timeout=30).json()
    utilization = {item["series"]: item for item in plan["utilization"]}
    assert plan["data"]["local"] is True
    assert sum(point["value"] for point in utilization["lambda.invocations"]["hourly"]) >= 5
    assert max(point["value"] for point in utilization["lambda.concurrent_executions"]["hourly"]) >= 1
    assert utilization["lambda.throttles"] == {**utilization["lambda.throttles"], "available": False,
                                               "note": "not available locally"}
    assert utilization["dynamodb.users.read_units"]["available"] is False
