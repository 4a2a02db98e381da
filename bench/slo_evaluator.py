"""SLO evaluator cost per run: rollups (the real evaluator) vs a naive one that recomputes every
window from minute buckets, for 1, 10 and 100 SLOs with 30 days of history, on moto in-process.

Run: ``python -m bench.slo_evaluator``. Counts every AWS call the run makes (CloudWatch calls,
DynamoDB items and bytes read and written; bytes are the wire JSON of items) and wall time.
History is seeded straight into moto's backend (not counted); each SLO has its own good-events
metric so CloudWatch batching is exercised. The run measured is a steady-state run: the
evaluator last ran a minute ago and re-reads its usual few minutes.
"""
from __future__ import annotations

import json
import sys
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator, Optional

import boto3
import botocore.client
from moto import mock_aws

from bench._figures import record
from chalicelib import wiring
from chalicelib.settings import Settings
from chalicelib.slo.config import DEFAULT_TIERS, BudgetPolicy, Indicator, SloDefinition, scaled_tiers
from chalicelib.slo.evaluation import Evaluator, slo_snapshot
from chalicelib.slo.paging import LoggingAlertSink
from chalicelib.slo.sources import AppCounters
from chalicelib.slo.store import EVALUATOR_KEY, partition_key
from chalicelib.slo.timeutil import DAY, HOUR, MINUTE, bucket_key, floor_day, floor_hour, iso, parse_bucket_key

END = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
PERIOD_DAYS = 30
# (SLOs, days of history). moto serializes ~2,000 items/s, so the naive run costs ~20 s per
# 43,200 minutes read: the 10- and 100-SLO rows get less history, and their naive figures are
# also projected to 30 days (its reads are linear in minutes stored; printed as such).
CASES = ((1, 30), (10, 3), (100, 0.5))


class CallMeter:
    """Counts every botocore call (boto3 and pynamodb both go through _make_api_call)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.items_read = self.items_written = self.bytes_read = self.bytes_written = 0

    def record(self, service: str, operation: str, params: dict[str, Any], response: dict[str, Any]) -> None:
        self.calls[f"{service}.{operation}"] += 1
        if service != "dynamodb":
            return
        if operation in ("Query", "Scan"):
            items = response.get("Items", [])
        elif operation == "GetItem":
            items = [response["Item"]] if "Item" in response else []
        elif operation == "BatchGetItem":
            items = [item for rows in response.get("Responses", {}).values() for item in rows]
        else:
            items = []
        self.items_read += len(items)
        self.bytes_read += sum(len(json.dumps(item, default=str)) for item in items)
        if operation == "PutItem":
            written = [params["Item"]]
        elif operation == "BatchWriteItem":
            written = [request["PutRequest"]["Item"] for rows in params["RequestItems"].values()
                       for request in rows if "PutRequest" in request]
        elif operation in ("UpdateItem", "DeleteItem"):
            written = [params["Key"]]
        else:
            written = []
        self.items_written += len(written)
        self.bytes_written += sum(len(json.dumps(item, default=str)) for item in written)

    @contextmanager
    def watching(self) -> Iterator["CallMeter"]:
        original = botocore.client.BaseClient._make_api_call
        meter = self

        def metered(client: Any, operation: str, params: dict[str, Any]) -> Any:
            response = original(client, operation, params)
            meter.record(client.meta.service_model.service_name, operation, params, response)
            return response

        botocore.client.BaseClient._make_api_call = metered
        try:
            yield self
        finally:
            botocore.client.BaseClient._make_api_call = original


class FlatMinutes:
    """The naive evaluator's view: every minute of the period in memory, windows summed from it."""

    def __init__(self, minutes: dict[datetime, dict[str, int]]) -> None:
        self.minutes = minutes

    def first_data(self, start: datetime, end: datetime) -> Optional[datetime]:
        return min((moment for moment, counts in self.minutes.items()
                    if start <= moment < end and counts.get("valid", 0) > 0), default=None)

    def window(self, start: datetime, end: datetime) -> dict[str, int]:
        total = {"good": 0, "valid": 0}
        for moment, counts in self.minutes.items():
            if start <= moment < end:
                total["good"] += counts.get("good", 0)
                total["valid"] += counts.get("valid", 0)
        return total


def flat_partition(slo_name: str) -> str:
    return f"naive#{slo_name}#m"


class NaiveEvaluator(Evaluator):
    """Same CloudWatch read and outputs, but keeps only minutes (one partition per SLO, read with
    paginated Queries) and recomputes every window from all of the period's minutes."""

    def _evaluate_slo(self, slo, sums, fetch_start, end, report):
        model = self.buckets.model
        with model.batch_write() as batch:
            for minute, values in sums.items():
                counts = slo.minute_counts(values)
                if counts is not None:
                    batch.save(model(flat_partition(slo.name), bucket_key(minute),
                                     counts={"good": counts[0], "valid": counts[1]}))
        start = end - timedelta(minutes=slo.period_minutes)
        minutes = {parse_bucket_key(item.start): {key: int(value) for key, value in item.counts.as_dict().items()}
                   for item in model.query(flat_partition(slo.name),
                                           model.start.between(bucket_key(start), bucket_key(end - MINUTE)))}
        snapshot = slo_snapshot(slo, FlatMinutes(minutes), end, self.min_history_minutes)
        open_ids, opened, resolved = self.alerts.process(slo, snapshot, end)
        report.alerts_opened += opened
        report.alerts_resolved += resolved
        return replace(snapshot, open_alerts=tuple(open_ids))


def bench_slos(count: int, settings: Settings) -> list[SloDefinition]:
    tiers = scaled_tiers(DEFAULT_TIERS, PERIOD_DAYS * 1440)
    return [SloDefinition(
        name=f"bench-{index:03d}", display_name=f"Bench {index}", description="", service="user-api",
        target=0.999, period_minutes=PERIOD_DAYS * 1440, budgeting_method="Occurrences",
        indicator=Indicator(name=f"bench-{index:03d}", good=AppCounters({"metric": f"bench_good_{index}"}, settings),
                            total=AppCounters({"metric": "valid_requests"}, settings)),
        tiers=tiers, min_events=100, policy=BudgetPolicy()) for index in range(count)]


def seed(slos: list[SloDefinition], history_days: int, settings: Settings, naive: bool) -> None:
    from moto.backends import get_backend

    reread_minutes = settings.slo.reread_minutes
    backend = get_backend("dynamodb")["123456789012"][settings.service.region]
    table = settings.slo.buckets_table
    history_start = END - timedelta(days=history_days)
    stored_until = END - timedelta(minutes=reread_minutes)  # the run re-reads the rest from CloudWatch

    def put(series: str, grain: str, start: datetime, good: int, valid: int) -> None:
        key = flat_partition(series) if naive else partition_key(series, grain, start)
        backend.put_item(table, {"series": {"S": key}, "start": {"S": bucket_key(start)},
                                 "counts": {"M": {"good": {"N": str(good)}, "valid": {"N": str(valid)}}},
                                 "expires_at": {"N": "1900000000"}})

    for slo in slos:
        minute = history_start
        while minute < stored_until:
            put(slo.name, "m", minute, 1000, 1000)
            minute += MINUTE
        if naive:  # the naive layout has minutes only
            continue
        hour = floor_hour(history_start)
        while hour < stored_until:
            minutes = int((min(hour + HOUR, stored_until) - max(hour, history_start)) / MINUTE)
            put(slo.name, "h", hour, 1000 * minutes, 1000 * minutes)
            hour += HOUR
        day = floor_day(history_start)
        while day < stored_until:
            minutes = int((min(day + DAY, stored_until) - max(day, history_start)) / MINUTE)
            put(slo.name, "d", day, 1000 * minutes, 1000 * minutes)
            day += DAY
    backend.put_item(settings.slo.status_table, {
        "slo": {"S": EVALUATOR_KEY}, "at": {"S": "run"},
        "data": {"S": json.dumps({"last_end": iso(END - MINUTE)})}})
    cloudwatch = boto3.client("cloudwatch", region_name=settings.service.region)
    dimensions = [{"Name": "service", "Value": settings.service.service_name}]
    names = ["valid_requests"] + [f"bench_good_{index}" for index in range(len(slos))]
    data = [{"MetricName": name, "Dimensions": dimensions, "Value": 1000.0, "Unit": "Count",
             "Timestamp": END - timedelta(minutes=back) + timedelta(seconds=5)}
            for back in range(1, reread_minutes + 1) for name in names]
    for offset in range(0, len(data), 1000):
        cloudwatch.put_metric_data(Namespace=settings.service.metrics_namespace, MetricData=data[offset:offset + 1000])


@contextmanager
def partitioned_moto_queries() -> Iterator[None]:
    """moto answers every Query by sorting the whole table; make it read the one partition instead.

    Only wall time changes (items, bytes and calls are the same): without it, a Query on a table
    holding 30 days of minutes costs ~0.4 s on moto, against milliseconds on DynamoDB.
    """
    from moto.dynamodb.models.table import Table

    original_query, original_all_items = Table.query, Table.all_items

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        self._bench_partition = hash_key if index_name is None else None
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            self._bench_partition = None

    def all_items(self: Any) -> Any:
        partition = getattr(self, "_bench_partition", None)
        if partition is not None and self.range_key_attr:
            return sorted(self.items.get(partition, {}).values(), key=lambda item: item.range_key)
        return original_all_items(self)

    Table.query, Table.all_items = query, all_items
    try:
        yield
    finally:
        Table.query, Table.all_items = original_query, original_all_items


def measure(evaluator_class: type, slo_count: int, history_days: int) -> dict[str, Any]:
    from devstack.provision import provision_tables

    wired = wiring.Wiring(Settings.from_env())  # fresh pynamodb models: each case has its own mock
    with mock_aws():
        provision_tables(boto3.client("dynamodb", region_name=wired.settings.service.region))
        slos = bench_slos(slo_count, wired.settings)
        seed(slos, history_days, wired.settings, naive=evaluator_class is NaiveEvaluator)
        wired.slos = tuple(slos)
        template = wired.slo_evaluator(sink=LoggingAlertSink(wired.logger), clock=lambda: END)
        evaluator = evaluator_class(
            template.slos, reader=template.reader, buckets=template.buckets, status=template.status,
            alerts=template.alerts, service_counters=template.service_sources, settings=template.settings,
            latency_thresholds_ms=template.latency_thresholds_ms, logger=template.logger, clock=template.clock)
        meter = CallMeter()
        with meter.watching():
            started = time.perf_counter()
            report = evaluator.run()
            wall = time.perf_counter() - started
        if report.errors:
            raise RuntimeError(report.errors)
    return {"wall_s": wall, "cloudwatch_calls": meter.calls["cloudwatch.GetMetricData"],
            "ddb_calls": sum(count for name, count in meter.calls.items() if name.startswith("dynamodb.")),
            "items_read": meter.items_read, "bytes_read": meter.bytes_read,
            "items_written": meter.items_written, "bytes_written": meter.bytes_written}


def main(argv: list[str]) -> int:
    import logging

    logging.disable(logging.WARNING)  # the log sink would print every seeded alert
    columns = ("wall_s", "cloudwatch_calls", "ddb_calls", "items_read", "bytes_read", "items_written",
               "bytes_written")
    print(f"SLO evaluator, one steady-state run, {PERIOD_DAYS}-day SLO period, moto in-process")
    print(f"{'SLOs':>4} {'history':>7} {'metric':>16} {'rollups':>12} {'naive':>12} {'naive/rollups':>14} "
          f"{'naive@30d*':>12} {'ratio@30d*':>11}")
    for slo_count, history_days in CASES:
        with partitioned_moto_queries():
            rollups = measure(Evaluator, slo_count, history_days)
            naive = measure(NaiveEvaluator, slo_count, history_days)
        scale = PERIOD_DAYS / history_days
        record("slo_evaluator", slos=slo_count, history_days=history_days,
               items_read_ratio=round(naive["items_read"] / max(1, rollups["items_read"]), 1),
               wall_ratio=round(naive["wall_s"] / rollups["wall_s"], 1) if rollups["wall_s"] else None)
        for column in columns:
            ratio = naive[column] / rollups[column] if rollups[column] else float("inf")
            fmt = "{:>12.3f}" if column == "wall_s" else "{:>12,}"
            line = (f"{slo_count:>4} {str(history_days) + 'd':>7} {column:>16} {fmt.format(rollups[column])} "
                    f"{fmt.format(naive[column])} {ratio:>13.1f}x")
            if scale > 1 and column in ("items_read", "bytes_read"):
                projected = naive[column] * scale
                # The rollup run would read one more day item per SLO per extra day of history.
                extra_items = (PERIOD_DAYS - history_days) * slo_count
                rollups_30d = rollups[column] + (extra_items if column == "items_read" else
                                                 extra_items * rollups["bytes_read"] / rollups["items_read"])
                line += f" {int(projected):>12,} {projected / rollups_30d:>10.1f}x"
            print(line)
        print()
        sys.stdout.flush()
    reduced = [f"{count} SLOs: {days} day{'s' if days > 1 else ''}" for count, days in CASES if days < PERIOD_DAYS]
    if reduced:
        print(f"History reduced for {', '.join(reduced)} (instead of {PERIOD_DAYS}) to keep the run to a few "
              f"minutes: moto serializes about 2,000 items/s.")
        print(f"* naive@30d: the naive run's reads scaled linearly to {PERIOD_DAYS} days of minutes (it reads "
              f"every minute of the period); ratio@30d compares them with the rollup run's reads plus one day "
              f"item per SLO per extra day.")
    print("moto's Query was narrowed to the queried partition (it sorts the whole table per Query); "
          "that changes wall time only.")
    return 0


if __name__ == "__main__":
    from bench._command import run_benchmark

    sys.exit(run_benchmark("bench.slo_evaluator", __doc__, main))
