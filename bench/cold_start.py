"""Cold start: import cost of the app against a bare Chalice app that imports boto3.

Run: `python -m bench.cold_start [runs]` (default 7). Each run is a fresh interpreter
with `-X importtime`; the figure is the sum of top-level imports' cumulative time.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

from bench._figures import record

ROOT = Path(__file__).resolve().parent.parent
BARE_APP = "import boto3\nfrom chalice import Chalice\napp = Chalice(app_name='bare')\n"


def parse_line(line: str) -> tuple[int, str]:
    _, cumulative, name = line.split("|")
    return int(cumulative), name


def top_level_total(stderr: str) -> int:
    total = 0
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        cumulative, name = parse_line(line[len("import time:"):])
        if not name[1:].startswith(" "):  # one space after '|' marks a top-level import
            total += cumulative
    return total


def measure(code: str) -> int:
    env = {**os.environ, "POWERTOOLS_TRACE_DISABLED": "true"}
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, check=True)
    return top_level_total(result.stderr)


def main(argv: list[str]) -> int:
    runs = int(argv[0]) if argv else 7
    measure("import app")  # warm the bytecode cache once for both
    bare, ours = [], []
    for _ in range(runs):
        bare.append(measure(BARE_APP))
        ours.append(measure("import app"))
    bare_ms, ours_ms = statistics.median(bare) / 1000, statistics.median(ours) / 1000
    ratio = ours_ms / bare_ms
    print(f"cold start imports, median of {runs} fresh interpreters (-X importtime, top-level cumulative)")
    print(f"  bare Chalice app + boto3: {bare_ms:7.1f} ms")
    print(f"  import app:               {ours_ms:7.1f} ms")
    print(f"  ratio {ratio:.2f}x (target <= 1.5x: {'met' if ratio <= 1.5 else 'NOT met'})")
    record("cold_start", ratio=round(ratio, 3), import_ms=round(ours_ms, 1), bare_ms=round(bare_ms, 1),
           met=ratio <= 1.5)
    return 0


if __name__ == "__main__":
    from bench._command import run_benchmark

    sys.exit(run_benchmark("bench.cold_start", __doc__, main, count='runs (default 7)'))
