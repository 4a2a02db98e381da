"""The capacity plan: utilization, forecasts, the measured saturation point and recommendations.

Every recommendation carries its reason and the figures behind it; where a figure it needs
was not measured (locally, or no capacity test yet) it says so instead of guessing.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Optional

from chalicelib.capacity.forecast import Forecast, forecast
from chalicelib.capacity.records import SaturationPoint, Series, UtilizationReport
from chalicelib.slo.timeutil import utc_now

Json = dict[str, Any]
CONCURRENT_EXECUTION = "concurrent execution"
# Provisioned concurrency is recommended when cold starts are at least this share of slow
# requests and spend at least this share of the latency SLO's error budget.
COLD_SHARE_OF_SLOW = 0.25
COLD_SHARE_OF_BUDGET = 0.1
TASK = "task"


def _recommendation(kind: str, resource: str, action: str, reason: str, **figures: Any) -> Json:
    return {"kind": kind, "resource": resource, "action": action, "reason": reason, "figures": figures}


def _lower_bound_note(point: SaturationPoint) -> str:
    """What a reason adds when its saturation point's ramp never broke: the rate it held is a floor."""
    if point.breaking_rps is not None:
        return ""
    return (f"; the saturation point is a lower bound (its ramp held up to {point.highest_holding_rps:g} req/s "
            "without breaking: a ramp that goes higher finds the real one), so this errs toward more capacity")


def _planned_peak(series: Series, result: Optional[Forecast], days: int) -> tuple[Optional[float], str]:
    """The upper band of the forecast ``days`` ahead (the plan covers the interval, not just the point);
    the latest peak when there is no trend to extend."""
    if result is not None and result.model is not None:
        from chalicelib.capacity.forecast import FITTERS

        fit = FITTERS[result.model]([value for _, value in series.daily_peaks])
        return round(fit.point(days) + fit.half_width(days), 4), f"{result.model} forecast, upper 95% band, {days} days ahead"
    if series.latest_peak is None:
        return None, "no data"
    return series.latest_peak, "latest daily peak (too little history for a trend)"


class CapacityPlanner:
    def __init__(self, settings: Any, store: Any, clock: Callable[[], Any] = utc_now,
                 latency_objective: Optional[float] = None) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.latency_objective = latency_objective

    def plan(self) -> Json:
        report = self.store.latest_report()
        saturation = {unit: self.store.latest_saturation(unit) for unit in (CONCURRENT_EXECUTION, TASK)}
        body: Json = {"computed_at": self.clock().isoformat(),
                      "saturation_point": {unit: None if point is None else point.to_json()
                                           for unit, point in saturation.items()}}
        if report is None:
            body.update(collected_at=None, data={"days_of_data": 0, "series": 0, "local": None,
                                                 "note": "no utilization collected yet"},
                        utilization=[], forecasts=[], recommendations=[])
            return body
        forecasts = {series.name: forecast(series.name, [value for _, value in series.daily_peaks],
                                           [limit.value for limit in series.limits],
                                           min_history_days=self.settings.min_history_days)
                     for series in report.series if series.available}
        body.update(
            collected_at=report.collected_at,
            data={"days_of_data": report.days_of_data, "series": len(report.series), "local": report.local,
                  "window_start": report.window_start, "window_end": report.window_end,
                  "errors": list(report.errors)},
            utilization=[self._utilization(series) for series in report.series],
            forecasts=[result.to_json() for result in forecasts.values()],
            recommendations=self.recommendations(report, forecasts, saturation))
        return body

    @staticmethod
    def _utilization(series: Series) -> Json:
        shares = series.utilization()
        return {"series": series.name, "description": series.description, "unit": series.unit,
                "daily_statistic": series.daily_statistic, "available": series.available, "note": series.note,
                "latest_peak": series.latest_peak, "days": len(series.daily_peaks),
                "hourly": [{"hour": hour, "value": value} for hour, value in series.hourly],
                "limits": [{**limit.to_json(), "utilization": shares[limit.name]} for limit in series.limits]}

    # -- recommendations -------------------------------------------------------------------------
    def recommendations(self, report: UtilizationReport, forecasts: dict[str, Forecast],
                        saturation: dict[str, Optional[SaturationPoint]]) -> list[Json]:
        found = [self._reserved_concurrency(report, forecasts, saturation.get(CONCURRENT_EXECUTION)),
                 self._provisioned_concurrency(report),
                 self._memory_size(report)]
        found += self._warm_throughput(report, forecasts)
        found.append(self._ecs_task_bounds(report, forecasts, saturation.get(TASK)))
        return found

    def _reserved_concurrency(self, report: UtilizationReport, forecasts: dict[str, Forecast],
                              point: Optional[SaturationPoint]) -> Json:
        function = report.configuration.get("lambda", {}).get("function_name", "api")
        series = report.get("lambda.concurrent_executions")
        if series is None or not series.available or series.latest_peak is None:
            return _recommendation("reserved_concurrency", function, "not assessed",
                                   "no concurrency figures were collected")
        days = self.settings.planning_days
        target = self.settings.target_utilization
        peak, basis = _planned_peak(series, forecasts.get(series.name), days)
        figures: Json = {"planned_peak_concurrency": peak, "basis": basis, "target_utilization": target}
        requests = report.get("requests")
        note = ""  # the saturation point's caveat, when it set the peak
        if point is not None and point.rps_per_unit and requests is not None and requests.latest_peak is not None:
            planned_requests, request_basis = _planned_peak(requests, forecasts.get("requests"), days)
            # The busiest hour's average rate: bursts within the hour need more; the target leaves room.
            needed = (planned_requests or 0) / 3600 / point.rps_per_unit
            figures.update(planned_peak_rps=round((planned_requests or 0) / 3600, 3),
                           saturation_rps_per_execution=point.rps_per_unit,
                           saturation_is_lower_bound=point.breaking_rps is None,
                           concurrency_needed_at_saturation=round(needed, 2), requests_basis=request_basis)
            if needed > (peak or 0):
                peak, note = needed, _lower_bound_note(point)
        limit = next((limit for limit in series.limits if limit.name == "reserved concurrency"), None)
        limit = limit or next((limit for limit in series.limits if limit.name == "account concurrency limit"), None)
        wanted = math.ceil((peak or 0) / target) if peak else 0
        figures["recommended_reserved_concurrency"] = wanted
        if limit is None:
            return _recommendation("reserved_concurrency", function, "not assessed",
                                   "the reserved concurrency and account limit are not known here "
                                   f"({series.note or 'the Lambda API did not answer'}); "
                                   f"at {target:.0%} utilization the planned peak needs {wanted}" + note, **figures)
        figures.update(limit=limit.name, limit_value=limit.value,
                       planned_utilization=round((peak or 0) / limit.value, 4) if limit.value else None)
        if (peak or 0) > target * limit.value:
            return _recommendation("reserved_concurrency", function, f"raise to {wanted}",
                                   f"the planned peak of {peak:.4g} concurrent executions is above {target:.0%} of "
                                   f"the {limit.name} ({limit.value:g})" + note, **figures)
        return _recommendation("reserved_concurrency", function, "no change",
                               f"the planned peak of {peak:.4g} stays within {target:.0%} of the {limit.name} "
                               f"({limit.value:g})", **figures)

    def _provisioned_concurrency(self, report: UtilizationReport) -> Json:
        function = report.configuration.get("lambda", {}).get("function_name", "api")
        needed = {name: report.get(name) for name in ("requests.slow_cold_starts", "requests.slow",
                                                       "requests.valid_requests", "lambda.concurrent_executions")}
        if any(series is None or not series.available for series in needed.values()):
            return _recommendation("provisioned_concurrency", function, "not assessed",
                                   "the cold-start share of slow requests was not collected")
        totals = {name: sum(value for _, value in series.hourly) for name, series in needed.items()
                  if name != "lambda.concurrent_executions"}
        hours = len(needed["requests.slow"].hourly)
        slow, cold_slow = totals["requests.slow"], totals["requests.slow_cold_starts"]
        figures: Json = {"hours": hours, "slow_requests": slow, "slow_cold_starts": cold_slow,
                         "valid_requests": totals["requests.valid_requests"],
                         "latency_objective": self.latency_objective}
        if not slow:
            return _recommendation("provisioned_concurrency", function, "no change",
                                   f"no slow requests in the last {hours} hours", **figures)
        share = cold_slow / slow
        budget = totals["requests.valid_requests"] * (1 - self.latency_objective) if self.latency_objective else 0
        budget_share = cold_slow / budget if budget else None
        figures.update(cold_start_share_of_slow=round(share, 4),
                       cold_start_share_of_latency_budget=None if budget_share is None else round(budget_share, 4))
        if share >= COLD_SHARE_OF_SLOW and (budget_share is None or budget_share >= COLD_SHARE_OF_BUDGET):
            busiest = max((value for _, value in needed["lambda.concurrent_executions"].hourly), default=0.0)
            floor = max(1, math.ceil(busiest))
            figures["recommended_provisioned_concurrency_min"] = floor
            return _recommendation(
                "provisioned_concurrency", function, f"keep at least {floor} provisioned on the alias",
                f"cold starts were {share:.0%} of slow requests in the last {hours} hours"
                + ("" if budget_share is None else f" and spent {budget_share:.0%} of the latency error budget")
                + f"; {floor} is the busiest hour's concurrency (api_provisioned_concurrency_min)", **figures)
        return _recommendation("provisioned_concurrency", function, "no change",
                               f"cold starts were {share:.0%} of slow requests in the last {hours} hours, under "
                               f"{COLD_SHARE_OF_SLOW:.0%}" + ("" if budget_share is None else
                                                              f" or {budget_share:.0%} of the latency budget"),
                               **figures)

    def _memory_size(self, report: UtilizationReport) -> Json:
        config = report.configuration.get("lambda", {})
        function = config.get("function_name", "api")
        longest = report.get("lambda.duration_max")
        average = report.get("lambda.duration_average")
        measured = {int(size): figures for size, figures in (config.get("duration_by_memory_mb") or {}).items()}
        figures: Json = {"memory_mb": config.get("memory_mb"), "timeout_seconds": config.get("timeout_seconds"),
                         "duration_max_ms": longest.latest_peak if longest else None,
                         "duration_average_ms": average.latest_peak if average else None,
                         "sizes_measured": sorted(measured)}
        timeout_ms = (config.get("timeout_seconds") or 0) * 1000
        if timeout_ms and figures["duration_max_ms"] and figures["duration_max_ms"] > 0.5 * timeout_ms:
            return _recommendation("memory_size", function, "raise memory or the timeout",
                                   f"the longest invocation ({figures['duration_max_ms']:.0f} ms) used more than "
                                   f"half the {config['timeout_seconds']} s timeout", **figures)
        if len(measured) < 2:
            at = f"{sorted(measured)[0]} MB" if measured else "no size (the memory size is not known here)"
            return _recommendation("memory_size", function, "not assessed",
                                   f"no measurement at other sizes: duration is measured at {at}; a size is "
                                   f"recommended once durations are measured at two or more", **figures)
        # Lambda bills memory x duration: the size with the least GB-seconds per invocation (a larger
        # size that runs proportionally faster costs no more; ties go to the faster one).
        cost = {size: size / 1024 * item["duration_average_ms"] / 1000 for size, item in measured.items()}
        cheapest = min(cost, key=lambda size: (cost[size], measured[size]["duration_average_ms"]))
        figures["by_size"] = [{"memory_mb": size, "duration_average_ms": measured[size]["duration_average_ms"],
                               "gb_seconds_per_invocation": round(cost[size], 6), "day": measured[size].get("day")}
                              for size in sorted(measured)]
        figures["recommended_memory_mb"] = cheapest
        durations = ", ".join(f"{size} MB: {measured[size]['duration_average_ms']:.4g} ms" for size in sorted(measured))
        if cheapest == config.get("memory_mb"):
            return _recommendation("memory_size", function, "no change",
                                   f"{cheapest} MB costs least per invocation of the sizes measured ({durations})",
                                   **figures)
        return _recommendation("memory_size", function, f"set memory to {cheapest} MB",
                               f"{cheapest} MB costs least per invocation ({cost[cheapest]:.4g} GB-s) of the sizes "
                               f"measured ({durations})", **figures)

    def _warm_throughput(self, report: UtilizationReport, forecasts: dict[str, Forecast]) -> list[Json]:
        found = []
        for series in report.series:
            if not series.name.startswith("dynamodb."):
                continue
            resource = series.description.split(":", 1)[0]
            if not series.available:
                found.append(_recommendation("dynamodb_warm_throughput", resource, "not assessed",
                                             f"{series.name}: {series.note}"))
                continue
            ceiling = next((limit for limit in series.limits if limit.name.startswith("on-demand instant")), None)
            if ceiling is None:
                continue
            days = self.settings.planning_days
            peak, basis = _planned_peak(series, forecasts.get(series.name), days)
            result = forecasts.get(series.name)
            crossing = next((limit for limit in (result.limits if result else ()) if limit.limit == ceiling.value),
                            None)
            figures = {"series": series.name, "planned_peak_units_per_second": peak, "basis": basis,
                       "instant_ceiling": ceiling.value,
                       "days_until_ceiling": crossing.to_json() if crossing else None}
            if peak is not None and peak > ceiling.value:
                found.append(_recommendation(
                    "dynamodb_warm_throughput", resource, f"pre-warm to {math.ceil(peak)} units per second",
                    f"the planned peak ({peak:.4g}/s) exceeds double the previous peak ({ceiling.value:.4g}/s), "
                    f"which on-demand serves at once; warm throughput set before the peak avoids throttling",
                    **figures))
            else:
                found.append(_recommendation("dynamodb_warm_throughput", resource, "no change",
                                             "the planned peak stays within double the previous peak", **figures))
        return found

    def _ecs_task_bounds(self, report: UtilizationReport, forecasts: dict[str, Forecast],
                         point: Optional[SaturationPoint]) -> Json:
        ecs = report.configuration.get("ecs", {})
        if not ecs.get("available"):
            return _recommendation("ecs_task_bounds", "ecs service", "not assessed", ecs.get("note", "no ECS data"))
        resource = f"{ecs.get('cluster')}/{ecs.get('service')}"
        requests = report.get("requests")
        if point is None or not point.rps_per_unit or requests is None or requests.latest_peak is None:
            return _recommendation("ecs_task_bounds", resource, "not assessed",
                                   "needs a measured saturation point per task and collected request figures",
                                   min_tasks=ecs.get("min_tasks"), max_tasks=ecs.get("max_tasks"))
        planned, basis = _planned_peak(requests, forecasts.get("requests"), self.settings.planning_days)
        target = self.settings.target_utilization
        needed = math.ceil((planned or 0) / 3600 / (point.rps_per_unit * target))
        figures = {"planned_peak_rps": round((planned or 0) / 3600, 3), "basis": basis,
                   "saturation_rps_per_task": point.rps_per_unit,
                   "saturation_is_lower_bound": point.breaking_rps is None, "tasks_needed": needed,
                   "min_tasks": ecs.get("min_tasks"), "max_tasks": ecs.get("max_tasks")}
        if ecs.get("max_tasks") is not None and needed > ecs["max_tasks"]:
            return _recommendation("ecs_task_bounds", resource, f"raise max tasks to {needed}",
                                   f"the planned peak needs {needed} tasks at {target:.0%} of the measured "
                                   f"saturation point; the scaling bound is {ecs['max_tasks']}"
                                   + _lower_bound_note(point), **figures)
        return _recommendation("ecs_task_bounds", resource, "no change",
                               f"the planned peak needs {needed} tasks, within the scaling bounds", **figures)
