"""The user API under load, side by side: in-memory ceiling, the local stack (both variants), a Flask+SQLite peer.

At 8 concurrent clients (closed model, keep-alive), each target serves ``GET /api/users``
with 100 users stored and then the create/read/update/delete mix, each for a fixed time.
Targets: the local stack at least 0.5x the in-memory ceiling, and its p95 under 200 ms in
both workloads; the ECS variant (the container's gunicorn on PostgreSQL, ``ECS_WORKERS``
processes) at least 1.5x the Flask+SQLite peer's requests/s with a lower p95, in both.
``python -m bench.user_api_load [--seconds 15] [--clients 8]``.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any

from functools import partial

from bench._command import interruptible, positive_count
from bench._figures import record
from bench._targets import Target, flask_peer, in_memory_app, local_stack
from tools.loadgen import LoadProfile, load_scenario, run_load

WORKLOADS = ("users-list", "crud-mix")
MIN_RATIO_TO_CEILING = 0.5
MAX_P95_MS = 200.0
MIN_ECS_RATIO_TO_PEER = 1.5
# gunicorn workers of the ECS variant: one per core of this 2-core machine.
ECS_WORKERS = 2
TARGETS = (("memory", "1 in-memory app", in_memory_app), ("stack", "2 local stack", local_stack),
           ("flask", "3 Flask+SQLite", flask_peer),
           ("ecs", "4 local stack (ECS)", partial(local_stack, variant="ecs", workers=ECS_WORKERS)))


def measure(target: Target, seconds: float, clients: int) -> dict[str, dict[str, Any]]:
    results = {}
    with target:
        for workload in WORKLOADS:
            report = run_load(target.base_url, load_scenario(workload),
                              LoadProfile.concurrency(clients, seconds, max_requests=1_000_000), slos=[])
            results[workload] = report
            unexpected = report["requests"]["unexpected"]
            print(f"  {target.label:<18} {workload:<11} {report['rate']['achieved_rps']:8.1f} req/s"
                  + (f"  ({unexpected} unexpected answers: {report['error_samples'][:1]})" if unexpected else ""),
                  flush=True)
    return results


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.user_api_load", description=__doc__)
    parser.add_argument("--seconds", type=positive_count, default=15, help="per target and workload (default 15)")
    parser.add_argument("--clients", type=positive_count, default=8)
    args = parser.parse_args(argv)
    return interruptible(parser.prog, lambda: compare(args))


def compare(args: argparse.Namespace) -> int:
    print(f"{args.clients} clients, {args.seconds:g} s per workload and target", flush=True)
    results = {key: measure(factory(), args.seconds, args.clients) for key, _, factory in TARGETS}

    print(f"\n{'workload':<11} {'target':<18} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    names = {key: name for key, name, _ in TARGETS}
    failures = []
    for workload in WORKLOADS:
        for key in names:
            report = results[key][workload]
            latency = report["latency_ms"]
            print(f"{workload:<11} {names[key]:<18} {report['rate']['achieved_rps']:8.1f} {latency['p50_ms']:8.1f} "
                  f"{latency['p95_ms']:8.1f} {latency['p99_ms']:8.1f} {report['requests']['unexpected']:7d}")
        rate = {key: results[key][workload]["rate"]["achieved_rps"] for key in results}
        ratio_ceiling = rate["stack"] / rate["memory"] if rate["memory"] else 0.0
        ratio_peer = rate["stack"] / rate["flask"] if rate["flask"] else 0.0
        p95 = results["stack"][workload]["latency_ms"]["p95_ms"]
        print(f"{workload:<11} ratio 2/1 (stack / in-memory) {ratio_ceiling:.2f}   "
              f"ratio 2/3 (stack / Flask+SQLite) {ratio_peer:.2f}   stack p95 {p95:.1f} ms\n")
        if ratio_ceiling < MIN_RATIO_TO_CEILING:
            failures.append(f"{workload}: stack at {ratio_ceiling:.2f}x the in-memory ceiling "
                            f"(target >= {MIN_RATIO_TO_CEILING})")
        if p95 >= MAX_P95_MS:
            failures.append(f"{workload}: stack p95 {p95:.1f} ms (target < {MAX_P95_MS:g} ms)")
        if results["stack"][workload]["requests"]["unexpected"]:
            failures.append(f"{workload}: the stack gave unexpected answers")
        ratio_ecs = rate["ecs"] / rate["flask"] if rate["flask"] else 0.0
        ecs_p95, peer_p95 = (results[key][workload]["latency_ms"]["p95_ms"] for key in ("ecs", "flask"))
        print(f"{workload:<11} ratio 4/3 (ECS variant / Flask+SQLite) {ratio_ecs:.2f}   "
              f"p95 {ecs_p95:.1f} ms vs {peer_p95:.1f} ms\n")
        record("user_api_load", workload=workload,
               rps={key: round(value, 1) for key, value in rate.items()},
               p95_ms={key: results[key][workload]["latency_ms"]["p95_ms"] for key in results},
               stack_to_ceiling=round(ratio_ceiling, 2), stack_to_peer=round(ratio_peer, 2),
               ecs_to_ceiling=round(rate["ecs"] / rate["memory"], 2) if rate["memory"] else None,
               ecs_to_peer=round(ratio_ecs, 2))
        if ratio_ecs < MIN_ECS_RATIO_TO_PEER:
            failures.append(f"{workload}: ECS variant at {ratio_ecs:.2f}x the Flask+SQLite peer "
                            f"(target >= {MIN_ECS_RATIO_TO_PEER})")
        if ecs_p95 >= peer_p95:
            failures.append(f"{workload}: ECS variant p95 {ecs_p95:.1f} ms, not below the peer's {peer_p95:.1f} ms")
        if results["ecs"][workload]["requests"]["unexpected"]:
            failures.append(f"{workload}: the ECS variant gave unexpected answers")
    for failure in failures:
        print(f"TARGET MISSED {failure}")
    if not failures:
        print(f"targets met: stack >= {MIN_RATIO_TO_CEILING}x in-memory, p95 < {MAX_P95_MS:g} ms; ECS variant >= "
              f"{MIN_ECS_RATIO_TO_PEER}x the peer with a lower p95; both workloads")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
