"""Breaker overhead on a closed breaker: one DynamoDB GetItem (moto in-process) per call.

Run: `python -m bench.breakers [calls]` (default 1000 per variant per round, 5 rounds).

Variants, interleaved in short blocks so load drift hits each alike:
- unprotected: the pynamodb ``get`` alone;
- ours: through ``FleetCircuitBreaker`` on ``DynamoDBCircuitStorage`` (read cache on);
- powertools: through ``aws_lambda_powertools.utilities.circuit_breaker`` with its
  DynamoDB persistence (same cache age), when the installed Powertools ships it.

Then the same call while the breaker table itself hangs and fails (fault hook on the
storage clients only): what each breaker costs per call during a storage outage.

Prints the median per-call time, the median block ratio to unprotected and breaker-table reads per
1,000 calls, against the bound of one read per started cache period (target: <= 1.05x and
at most one storage read per cache period per process).
"""
from __future__ import annotations

import math
import os
import statistics
import sys
import time
from typing import Any, Callable

from bench._figures import record

CACHE_SECONDS = 2
ROUNDS = 5
BLOCK = 20


def _env() -> None:
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
                       "AWS_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true"})
    os.environ.pop("AWS_ENDPOINT_URL", None)


def _create_table(client: Any, name: str, key: str) -> None:
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}])


def _noop() -> None:
    return None


def _timed(fn: Callable[[], Any], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - started) / calls


def _powertools_variant(get_item: Callable[[], Any], client: Any) -> tuple[Callable[[], Any], dict, Any] | None:
    try:
        from aws_lambda_powertools.utilities.circuit_breaker import CircuitBreakerConfig, circuit_breaker
        from aws_lambda_powertools.utilities.circuit_breaker.persistence import CircuitBreakerDynamoDBPersistence
    except ImportError:
        return None
    _create_table(client, "powertools-breakers", "id")
    reads = {"n": 0}
    import boto3

    pt_client = boto3.client("dynamodb", region_name="us-east-1")
    pt_client.meta.events.register("before-call.dynamodb.GetItem", lambda **_: reads.__setitem__("n", reads["n"] + 1))
    persistence = CircuitBreakerDynamoDBPersistence(table_name="powertools-breakers", boto3_client=pt_client)
    protected = circuit_breaker(name="database", persistence_store=persistence,
                                config=CircuitBreakerConfig(local_cache_max_age=CACHE_SECONDS))(get_item)
    return protected, reads, persistence


OUTAGE_HANG_SECONDS = 0.02
OUTAGE_CALLS = 200


def _storage_outage(variants: dict[str, Callable[[], Any]], storage: Any,
                    powertools: Any) -> dict[str, tuple[float, int]]:
    """Per-call cost and storage attempts while the breaker table hangs and fails (fault hook)."""
    from chalicelib.resilience.faults import Fault, FaultInjector, FaultSwitch

    switch = FaultSwitch()
    injector = FaultInjector(switch)
    injector.attach_to_model(storage.model)
    if powertools is not None:
        injector.attach(powertools[2].client)
        with powertools[2]._lock:  # start both from an expired state cache (bench only: private)
            powertools[2]._cache.clear()
    switch.activate(Fault(service="dynamodb", operations=frozenset({"GetItem", "UpdateItem", "PutItem"}),
                          hang_seconds=OUTAGE_HANG_SECONDS))
    storage.forget_cache()
    results = {}
    for name in ("ours", "powertools"):
        if name not in variants:
            continue
        before = injector.injected
        results[name] = (_timed(variants[name], OUTAGE_CALLS), injector.injected - before)
    switch.clear()
    return results


def main(argv: list[str]) -> int:
    calls = int(argv[0]) if argv else 1000
    _env()
    from moto import mock_aws

    with mock_aws():
        import boto3

        from chalicelib.resilience import FleetCircuitBreaker
        from chalicelib.resilience.storage import DynamoDBCircuitStorage, breaker_model

        client = boto3.client("dynamodb", region_name="us-east-1")
        _create_table(client, "bench-users", "pk")
        _create_table(client, "serverless-sre-breakers", "name")
        client.put_item(TableName="bench-users", Item={"pk": {"S": "USER#1"}, "name": {"S": "Ada"}})

        from pynamodb.attributes import UnicodeAttribute
        from pynamodb.models import Model

        class BenchUser(Model):
            class Meta:
                table_name = "bench-users"
                region = "us-east-1"

            pk = UnicodeAttribute(hash_key=True)
            name = UnicodeAttribute()

        def get_item() -> Any:
            return BenchUser.get("USER#1")

        storage = DynamoDBCircuitStorage("database", model=breaker_model("serverless-sre-breakers", "us-east-1", 1),
                                         cache_seconds=CACHE_SECONDS)
        ours = FleetCircuitBreaker("database", fail_max=5, reset_timeout=30, state_storage=storage)
        variants: dict[str, Callable[[], Any]] = {"unprotected": get_item, "ours": lambda: ours.call(get_item)}
        powertools = _powertools_variant(get_item, client)
        if powertools is not None:
            variants["powertools"] = powertools[0]
        for fn in variants.values():  # warm up clients, caches and moto
            _timed(fn, 200)

        # Short blocks in rotating order, compared pairwise with the unprotected block next to
        # them: machine load drifts over seconds, so block-pair ratios cancel most of it.
        samples: dict[str, list[float]] = {name: [] for name in variants}
        ratios: dict[str, list[float]] = {name: [] for name in variants}
        reads_before = {"ours": storage.reads, "powertools": powertools[1]["n"] if powertools else 0}
        names = list(variants)
        started = time.perf_counter()
        for block in range(calls * ROUNDS // BLOCK):
            order = names[block % len(names):] + names[:block % len(names)]
            times = {name: _timed(variants[name], BLOCK) for name in order}
            for name in names:
                samples[name].append(times[name])
                ratios[name].append(times[name] / times["unprotected"])
        wall = time.perf_counter() - started
        reads = {"ours": storage.reads - reads_before["ours"]}
        if powertools:
            reads["powertools"] = powertools[1]["n"] - reads_before["powertools"]
        overhead = _timed(lambda: ours.call(_noop), 20000) - _timed(_noop, 20000)
        outage = _storage_outage(variants, storage, powertools)

    total_calls = calls * ROUNDS
    bound = math.ceil(wall / CACHE_SECONDS)  # cache periods the run spans: at most one read each
    print(f"closed breaker, one moto in-process GetItem per call, {total_calls} calls per variant in blocks of "
          f"{BLOCK}, state cache {CACHE_SECONDS}s, run {wall:.1f}s")
    print(f"{'variant':<12} {'us/call':>9} {'ratio':>7} {'reads/1000 calls':>17} {'reads':>6} "
          f"{'bound (1 per period)':>21}")
    for name in variants:
        median = statistics.median(samples[name])
        if name == "unprotected":
            print(f"{name:<12} {median * 1e6:9.1f} {1.0:7.3f} {'-':>17} {'-':>6} {'-':>21}")
            continue
        print(f"{name:<12} {median * 1e6:9.1f} {statistics.median(ratios[name]):7.3f} "
              f"{reads[name] * 1000 / total_calls:17.2f} {reads[name]:>6} {bound:>21}")
    print(f"ours, breaker alone around a no-op: {overhead * 1e6:.2f} us/call")
    record("breakers", ratio=round(statistics.median(ratios["ours"]), 3), breaker_alone_us=round(overhead * 1e6, 2),
           reads_per_1000_calls=round(reads["ours"] * 1000 / total_calls, 2))
    print(f"\nbreaker table unreachable (each storage call hangs {OUTAGE_HANG_SECONDS * 1000:.0f} ms, then fails), "
          f"dependency healthy, {OUTAGE_CALLS} calls:")
    for name, (per_call, storage_calls) in outage.items():
        print(f"{name:<12} {per_call * 1e3:9.2f} ms/call  storage attempts: {storage_calls}")
    if powertools is None:
        print("powertools: aws_lambda_powertools.utilities.circuit_breaker is not in the installed Powertools")
    return 0


if __name__ == "__main__":
    from bench._command import run_benchmark

    sys.exit(run_benchmark("bench.breakers", __doc__, main, count='calls per variant per round (default 1000)'))
