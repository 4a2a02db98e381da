"""functions/capacity_collector.py: the daily collection reads the deployed limits each figure is
measured against (the API function's, each table's, the ECS service's) and stores the report."""

from functions.capacity_collector import handler
from tests.support.ecs import create_scaled_service
from tests.support.lambdas import create_function

NOW = "2026-03-09T01:00:00+00:00"
CLUSTER = SERVICE = "serverless-sre-prod"


def stored_report(wired):
    report = wired.capacity_store.latest_report()
    assert report is not None and report.collected_at == NOW
    return report


def test_the_collection_stores_the_api_functions_and_each_tables_limits(tables, wired):
    create_function("serverless-sre-api", timeout_seconds=29, memory_mb=1024, reserved_concurrency=50)
    handler({"now": NOW}, None)
    # moto does not implement GetAccountSettings (the collection says so and goes on): no account limit here.
    configuration = stored_report(wired).configuration
    assert {key: configuration["lambda"].get(key) for key in ("timeout_seconds", "memory_mb", "reserved_concurrency")} \
        == {"timeout_seconds": 29, "memory_mb": 1024, "reserved_concurrency": 50}
    assert {mode["billing_mode"] for mode in configuration["dynamodb"].values()} == {"PAY_PER_REQUEST"}
    assert set(configuration["dynamodb"]) == {"serverless-sre-users", "serverless-sre-breakers",
                                              "serverless-sre-webhook-outbox"}


def test_the_collection_on_the_ecs_stack_stores_the_services_tasks_and_scaling_bounds(tables, monkeypatch):
    monkeypatch.setenv("ECS_CLUSTER_NAME", CLUSTER)
    monkeypatch.setenv("ECS_SERVICE_NAME", SERVICE)
    create_scaled_service(CLUSTER, SERVICE, desired=3, minimum=2, maximum=6)
    from chalicelib import wiring

    handler({"now": NOW}, None)
    assert stored_report(wiring.current()).configuration["ecs"] == {
        "available": True, "cluster": CLUSTER, "service": SERVICE, "desired_tasks": 3, "running_tasks": 0,
        "min_tasks": 2, "max_tasks": 6}
