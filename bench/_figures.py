"""Headline figures of the benchmarks and e2e measurements, for `make report` (bench/_report.py).

Each benchmark prints its own report and also calls ``record(name, ...)`` with the numbers it
printed; they go to the file ``BENCH_FIGURES`` names, one JSON object per line (nothing is
written without it). The reliability and detection e2e tests do the same through
``RELIABILITY_FIGURES`` and ``DETECTION_FIGURES``.
"""
from __future__ import annotations

import json
import os
from typing import Any

FIGURES_VARIABLE = "BENCH_FIGURES"


def record(benchmark: str, variable: str = FIGURES_VARIABLE, **figures: Any) -> None:
    path = os.environ.get(variable)
    if not path:
        return
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps({"benchmark": benchmark, **figures}, default=str) + "\n")


def read(path: str) -> list[dict[str, Any]]:
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as source:
        return [json.loads(line) for line in source if line.strip()]
