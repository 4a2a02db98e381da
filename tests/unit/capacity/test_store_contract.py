"""One contract for every capacity store: the in-memory fake and DynamoDB."""
import pytest

from chalicelib.capacity.records import Limit, SaturationPoint, Series, UtilizationReport
from chalicelib.capacity.store import DynamoDBCapacityStore, MemoryCapacityStore, capacity_model


@pytest.fixture(params=["memory", "dynamodb"])
def store(request):
    if request.param == "memory":
        yield MemoryCapacityStore()
        return
    request.getfixturevalue("capacity_tables")
    yield DynamoDBCapacityStore(capacity_model("serverless-sre-capacity", "us-east-1"))


def report(at: str, peak: float) -> UtilizationReport:
    series = Series("lambda.concurrent_executions", "API function concurrent executions", "executions",
                    "highest hourly Maximum", True, hourly=(("2026-03-08T23:00:00+00:00", peak),),
                    daily_peaks=(("2026-03-08", peak),), limits=(Limit("reserved concurrency", 100, "test"),))
    return UtilizationReport(at, "2026-02-09T00:00:00+00:00", "2026-03-09T00:00:00+00:00", False, (series,),
                             {"lambda": {"reserved_concurrency": 100}})


def point(at: str, unit: str, rps: float) -> SaturationPoint:
    return SaturationPoint(at, "http://127.0.0.1:8000", "users-list", rps, rps + 10, "latency", unit, 4,
                           ({"offered_rps": rps, "held": True},))


def test_no_report_before_the_first_collection(store):
    assert store.latest_report() is None


def test_the_latest_report_is_the_most_recently_collected(store):
    store.put_report(report("2026-03-09T01:00:00+00:00", 10))
    store.put_report(report("2026-03-10T01:00:00+00:00", 20))
    assert store.latest_report() == report("2026-03-10T01:00:00+00:00", 20)


def test_saturation_points_are_kept_per_capacity_unit(store):
    store.put_saturation(point("2026-03-09T01:00:00+00:00", "concurrent execution", 40))
    store.put_saturation(point("2026-03-09T02:00:00+00:00", "concurrent execution", 60))
    store.put_saturation(point("2026-03-09T03:00:00+00:00", "task", 300))
    assert store.latest_saturation("concurrent execution").highest_holding_rps == 60
    assert store.latest_saturation("task").highest_holding_rps == 300
    assert store.latest_saturation("other") is None
