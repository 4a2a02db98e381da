"""The user API under load, side by side: in-memory ceiling, the local stack, a Flask+SQLite peer.

At 8 concurrent clients (closed model, keep-alive), each target serves ``GET /api/users``
with 100 users stored and then the create/read/update/delete mix, each for a fixed time.
Targets: the local stack at least 0.5x the in-memory ceiling, and its p95 under 200 ms in
both workloads. ``python -m bench.user_api_load [--seconds 15] [--clients 8]``.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any

from bench._targets import Target, flask_peer, in_memory_app, local_stack
from tools.loadgen import LoadProfile, load_scenario, run_load

WORKLOADS = ("users-list", "crud-mix")
MIN_RATIO_TO_CEILING = 0.5
MAX_P95_MS = 200.0


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
    parser.add_argument("--seconds", type=float, default=15.0, help="per target and workload (default 15)")
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args(argv)
    print(f"{args.clients} clients, {args.seconds:g} s per workload and target", flush=True)
    results = {label: measure(factory(), args.seconds, args.clients)
               for label, factory in (("memory", in_memory_app), ("stack", local_stack), ("flask", flask_peer))}

    print(f"\n{'workload':<11} {'target':<18} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    names = {"memory": "1 in-memory app", "stack": "2 local stack", "flask": "3 Flask+SQLite"}
    failures = []
    for workload in WORKLOADS:
        for key in ("memory", "stack", "flask"):
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
    for failure in failures:
        print(f"TARGET MISSED {failure}")
    if not failures:
        print(f"targets met: stack >= {MIN_RATIO_TO_CEILING}x in-memory, p95 < {MAX_P95_MS:g} ms, both workloads")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
