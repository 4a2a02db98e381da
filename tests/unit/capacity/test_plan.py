"""The capacity plan: forecasts, recommendations and their figures, from stored records."""
import random
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.capacity.plan import CapacityPlanner
from chalicelib.capacity.records import Limit, SaturationPoint, Series, UtilizationReport
from chalicelib.capacity.store import MemoryCapacityStore
from chalicelib.settings import CapacitySettings
from tests.support.golden import golden

NOW = datetime(2026, 3, 9, 1, tzinfo=timezone.utc)


def days(values):
    start = date(2026, 3, 9) - timedelta(days=len(values))
    return tuple(((start + timedelta(days=index)).isoformat(), value) for index, value in enumerate(values))


def growing(count, start, slope, seed=1):
    rng = random.Random(seed)
    return [round(start + slope * day + rng.gauss(0, slope / 2), 3) for day in range(count)]


def series(name, values, *limits, available=True, note=""):
    return Series(name, name, "units", "peak", available, note, daily_peaks=days(values), limits=tuple(limits))


def report(*all_series, configuration=None):
    return UtilizationReport(NOW.isoformat(), "2026-02-09T00:00:00+00:00", "2026-03-09T00:00:00+00:00", False,
                             tuple(all_series), configuration or {"lambda": {"function_name": "api"},
                                                                  "ecs": {"available": False, "note": "n/a"}})


def planner(stored, *points):
    store = MemoryCapacityStore()
    store.put_report(stored)
    for point in points:
        store.put_saturation(point)
    return CapacityPlanner(CapacitySettings(), store, clock=lambda: NOW)


def saturation(rps, units, unit="concurrent execution"):
    return SaturationPoint(NOW.isoformat(), "http://127.0.0.1:8000", "users-list", rps, rps * 1.5, "latency p99",
                           unit, units, ())


def by_kind(plan, kind):
    return [item for item in plan["recommendations"] if item["kind"] == kind]


def test_without_a_collection_the_plan_says_so():
    plan = CapacityPlanner(CapacitySettings(), MemoryCapacityStore(), clock=lambda: NOW).plan()
    assert plan["collected_at"] is None and plan["data"]["note"] == "no utilization collected yet"
    assert plan["computed_at"] == NOW.isoformat()


def test_the_golden_report_has_too_little_history_for_a_trend():
    plan = planner(UtilizationReport.from_json(golden("capacity_utilization_report"))).plan()
    assert plan["data"]["days_of_data"] == 7
    assert {item["series"]: item["insufficient_history"] for item in plan["forecasts"]}["requests"] is True


def test_concurrency_forecast_above_the_target_asks_for_more_reserved_concurrency():
    concurrency = series("lambda.concurrent_executions", growing(28, 40, 1.5),
                         Limit("reserved concurrency", 100, "GetFunctionConcurrency"))
    (item,) = by_kind(planner(report(concurrency)).plan(), "reserved_concurrency")
    figures = item["figures"]
    assert figures["planned_peak_concurrency"] > 70
    assert item["action"] == f"raise to {figures['recommended_reserved_concurrency']}"
    assert figures["recommended_reserved_concurrency"] == -(-figures["planned_peak_concurrency"] // 0.7)
    assert "above 70% of the reserved concurrency (100)" in item["reason"]


def test_a_measured_saturation_point_turns_request_forecasts_into_concurrency():
    requests = series("requests", growing(28, 360_000, 3600))  # 100 rps rising by 1 rps a day
    concurrency = series("lambda.concurrent_executions", [5.0] * 28,
                         Limit("reserved concurrency", 1000, "GetFunctionConcurrency"))
    (item,) = by_kind(planner(report(requests, concurrency), saturation(40, 2)).plan(), "reserved_concurrency")
    figures = item["figures"]
    assert figures["saturation_rps_per_execution"] == 20
    assert figures["concurrency_needed_at_saturation"] == pytest.approx(figures["planned_peak_rps"] / 20, abs=0.01)
    assert item["action"] == "no change"


def test_a_saturation_point_whose_ramp_never_broke_is_a_lower_bound_and_the_raise_says_so():
    requests = series("requests", [3600.0 * 90] * 20)  # 90 rps every day
    concurrency = series("lambda.concurrent_executions", [1.0] * 20,
                         Limit("reserved concurrency", 10, "GetFunctionConcurrency"))
    unbroken = replace(saturation(30, 3), breaking_rps=None, breaking_reason="held at every step: above the ramp")
    (item,) = by_kind(planner(report(requests, concurrency), unbroken).plan(), "reserved_concurrency")
    assert item["action"] == "raise to 13"  # 90 rps at 10 rps per execution, at 70%: ceil(9 / 0.7)
    assert item["figures"]["saturation_is_lower_bound"] is True
    assert "the saturation point is a lower bound (its ramp held up to 30 req/s without breaking" in item["reason"]


def test_a_raise_from_a_saturation_point_that_broke_has_no_lower_bound_caveat():
    requests = series("requests", [3600.0 * 90] * 20)
    concurrency = series("lambda.concurrent_executions", [1.0] * 20,
                         Limit("reserved concurrency", 10, "GetFunctionConcurrency"))
    (item,) = by_kind(planner(report(requests, concurrency), saturation(30, 3)).plan(), "reserved_concurrency")
    assert item["action"] == "raise to 13" and item["figures"]["saturation_is_lower_bound"] is False
    assert "lower bound" not in item["reason"]


def test_on_demand_reads_forecast_past_double_the_previous_peak_ask_for_warm_throughput():
    reads = series("dynamodb.users.read_units", growing(28, 100, 8),
                   Limit("on-demand instant ceiling (double the previous peak)", 300, "previous daily peak x 2"))
    reads = Series(reads.name, "serverless-sre-users: consumed read units", reads.unit, reads.daily_statistic, True,
                   daily_peaks=reads.daily_peaks, limits=reads.limits)
    (item,) = by_kind(planner(report(reads)).plan(), "dynamodb_warm_throughput")
    assert item["resource"] == "serverless-sre-users"
    assert item["action"].startswith("pre-warm to ")
    assert item["figures"]["days_until_ceiling"]["days"] is not None


def test_locally_unmeasurable_figures_are_not_assessed():
    reads = Series("dynamodb.users.read_units", "serverless-sre-users: consumed read units", "units", "peak", False,
                   "not available locally")
    plan = planner(report(reads)).plan()
    (item,) = by_kind(plan, "dynamodb_warm_throughput")
    assert item["action"] == "not assessed" and "not available locally" in item["reason"]
    assert by_kind(plan, "ecs_task_bounds")[0]["action"] == "not assessed"


def test_ecs_task_bounds_come_from_the_saturation_point_per_task():
    requests = series("requests", [3600.0 * 90] * 20)  # 90 rps every day
    ecs = {"available": True, "cluster": "c", "service": "s", "min_tasks": 1, "max_tasks": 2}
    stored = report(requests, configuration={"lambda": {}, "ecs": ecs})
    (item,) = by_kind(planner(stored, saturation(30, 1, unit="task")).plan(), "ecs_task_bounds")
    # 90 rps at 70% of 30 rps per task: ceil(90 / 21) = 5 tasks.
    assert item["figures"]["tasks_needed"] == 5
    assert item["action"] == "raise max tasks to 5"


def test_ecs_task_bounds_from_a_ramp_that_never_broke_say_the_rate_is_a_lower_bound():
    requests = series("requests", [3600.0 * 90] * 20)
    ecs = {"available": True, "cluster": "c", "service": "s", "min_tasks": 1, "max_tasks": 2}
    stored = report(requests, configuration={"lambda": {}, "ecs": ecs})
    unbroken = replace(saturation(30, 1, unit="task"), breaking_rps=None, breaking_reason="above the ramp")
    (item,) = by_kind(planner(stored, unbroken).plan(), "ecs_task_bounds")
    assert item["action"] == "raise max tasks to 5" and item["figures"]["saturation_is_lower_bound"] is True
    assert "errs toward more capacity" in item["reason"]


def test_a_longest_invocation_over_half_the_timeout_asks_for_memory_or_timeout():
    longest = series("lambda.duration_max", [16_000.0] * 20)
    stored = report(longest, configuration={"lambda": {"function_name": "api", "timeout_seconds": 30,
                                                       "memory_mb": 512}, "ecs": {}})
    (item,) = by_kind(planner(stored).plan(), "memory_size")
    assert item["action"] == "raise memory or the timeout"


def hourly_series(name, values):
    return Series(name, name, "per hour", "peak", True,
                  hourly=tuple((f"2026-03-08T{hour:02d}:00:00+00:00", value) for hour, value in enumerate(values)))


def cold_start_report(slow, cold_slow, valid, concurrency):
    return report(hourly_series("requests.slow", [slow] * 24), hourly_series("requests.slow_cold_starts", [cold_slow] * 24),
                  hourly_series("requests.valid_requests", [valid] * 24),
                  hourly_series("lambda.concurrent_executions", [concurrency] * 23 + [concurrency + 2.5]))


def test_cold_starts_behind_slow_requests_ask_for_provisioned_concurrency():
    stored = cold_start_report(slow=10, cold_slow=6, valid=1000, concurrency=4)
    store = MemoryCapacityStore()
    store.put_report(stored)
    plan = CapacityPlanner(CapacitySettings(), store, clock=lambda: NOW, latency_objective=0.95).plan()
    (item,) = by_kind(plan, "provisioned_concurrency")
    # 60% of the slow requests were cold starts: 144 of the 1200 requests the 95% objective lets be slow.
    assert item["figures"]["cold_start_share_of_slow"] == 0.6
    assert item["figures"]["cold_start_share_of_latency_budget"] == 0.12
    assert item["action"] == "keep at least 7 provisioned on the alias"


def test_rare_cold_starts_do_not_ask_for_provisioned_concurrency():
    stored = cold_start_report(slow=100, cold_slow=1, valid=10000, concurrency=4)
    store = MemoryCapacityStore()
    store.put_report(stored)
    (item,) = by_kind(CapacityPlanner(CapacitySettings(), store, clock=lambda: NOW, latency_objective=0.95).plan(),
                      "provisioned_concurrency")
    assert item["action"] == "no change"
    assert item["figures"]["cold_start_share_of_slow"] == 0.01


def memory_report(memory_mb, durations):
    return report(configuration={"lambda": {"function_name": "api", "timeout_seconds": 30, "memory_mb": memory_mb,
                                            "duration_by_memory_mb": {str(size): {"duration_average_ms": ms,
                                                                                  "day": "2026-03-08"}
                                                                      for size, ms in durations.items()}},
                                 "ecs": {}})


def test_memory_measured_at_one_size_is_not_assessed_and_says_why():
    (item,) = by_kind(planner(memory_report(512, {512: 80.0})).plan(), "memory_size")
    assert item["action"] == "not assessed"
    assert item["reason"].startswith("no measurement at other sizes: duration is measured at 512 MB")


def test_the_size_that_costs_least_per_invocation_is_recommended():
    # 512 MB x 80 ms = 0.04 GB-s; 1024 MB x 30 ms = 0.03 GB-s (faster and cheaper); 2048 MB x 20 ms = 0.04.
    (item,) = by_kind(planner(memory_report(512, {512: 80.0, 1024: 30.0, 2048: 20.0})).plan(), "memory_size")
    assert item["action"] == "set memory to 1024 MB"
    assert [size["gb_seconds_per_invocation"] for size in item["figures"]["by_size"]] == [0.04, 0.03, 0.04]


def test_the_current_size_stays_when_it_costs_least():
    (item,) = by_kind(planner(memory_report(1024, {512: 80.0, 1024: 30.0})).plan(), "memory_size")
    assert item["action"] == "no change" and item["figures"]["recommended_memory_mb"] == 1024
