"""What a run measured: HDR latency histograms, status counts, error samples."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Optional

from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 120_000_000  # two minutes: a latency above the request timeout cannot be recorded anyway
SIGNIFICANT_DIGITS = 3
PERCENTILES = (50.0, 90.0, 95.0, 99.0)
MAX_ERROR_SAMPLES = 20
REFUSALS = (429, 503)  # answers that tell a client to come back later, which should say when


def status_class(status: int) -> str:
    return f"{status // 100}xx" if status else "no answer"


def new_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)


@dataclass
class Outcome:
    """One request: its name, HTTP status (0: no answer), latency and whether it was as expected."""

    name: str
    status: int
    latency_us: int
    service_time_us: int
    ok: bool
    error: Optional[str] = None
    finished_at: float = 0.0  # time.monotonic() when the answer (or the failure) came
    retry_after: bool = False  # the answer carried Retry-After


@dataclass
class RequestStats:
    latency: HdrHistogram = field(default_factory=new_histogram)
    count: int = 0
    unexpected: int = 0

    def summary(self) -> dict[str, Any]:
        return {"count": self.count, "unexpected": self.unexpected, **latency_summary(self.latency)}


def latency_summary(histogram: HdrHistogram) -> dict[str, Optional[float]]:
    """Milliseconds: p50, p90, p95, p99, max and mean; None for each when nothing was answered."""
    if histogram.get_total_count() == 0:
        return {f"p{int(p)}_ms": None for p in PERCENTILES} | {"max_ms": None, "mean_ms": None}
    values = {f"p{int(p)}_ms": histogram.get_value_at_percentile(p) / 1000 for p in PERCENTILES}
    values["max_ms"] = histogram.get_max_value() / 1000
    values["mean_ms"] = round(histogram.get_mean_value() / 1000, 3)
    return values


class Recorder:
    """Collects outcomes; also keeps the counts a live display and the SLO verdict read."""

    def __init__(self, slo_thresholds_ms: tuple[int, ...] = ()) -> None:
        self.latency = new_histogram()  # open model: from the intended start (corrected for coordinated omission)
        self.service_time = new_histogram()  # from the moment the request was sent
        self.by_name: dict[str, RequestStats] = {}
        self.statuses: Counter[str] = Counter()
        self.error_samples: list[dict[str, Any]] = []
        self.completed = 0
        self.unexpected = 0
        self.valid = 0  # not 4xx (4xx are the client's)
        self.server_errors = 0  # 5xx or no answer
        self.thresholds_ms = slo_thresholds_ms
        self.valid_under: dict[int, int] = {threshold: 0 for threshold in slo_thresholds_ms}
        # Answers per second of the run by status class: when errors happened, not only how many.
        self.origin: Optional[float] = None
        self.timeline: dict[int, Counter[str]] = {}
        self.refusals_without_retry_after = 0

    def timeline_summary(self) -> list[dict[str, Any]]:
        return [{"second": second, **dict(sorted(counts.items()))} for second, counts in sorted(self.timeline.items())]

    def record(self, outcome: Outcome) -> None:
        latency_us = max(LOWEST_US, min(outcome.latency_us, HIGHEST_US))
        self.latency.record_value(latency_us)
        self.service_time.record_value(max(LOWEST_US, min(outcome.service_time_us, HIGHEST_US)))
        stats = self.by_name.setdefault(outcome.name, RequestStats())
        stats.latency.record_value(latency_us)
        stats.count += 1
        self.completed += 1
        self.statuses[str(outcome.status) if outcome.status else (outcome.error or "error")] += 1
        if self.origin is not None and outcome.finished_at:
            second = max(0, int(outcome.finished_at - self.origin))
            self.timeline.setdefault(second, Counter())[status_class(outcome.status)] += 1
        if outcome.status in REFUSALS and not outcome.retry_after:
            self.refusals_without_retry_after += 1
        # As the service counts its SLI events (chalicelib/observability/metrics.py): every request but a
        # 4xx is valid, for both SLOs. A request without an answer is valid and a server error, and it is
        # no good latency event: the latency SLI counts valid requests *answered* under the threshold, and
        # a refused connection's instant failure counted as fast.
        if not 400 <= outcome.status < 500:
            self.valid += 1
            if outcome.status == 0 or outcome.status >= 500:
                self.server_errors += 1
            for threshold in self.thresholds_ms:
                if outcome.status and latency_us < threshold * 1000:
                    self.valid_under[threshold] += 1
        if not outcome.ok:
            self.unexpected += 1
            stats.unexpected += 1
            if len(self.error_samples) < MAX_ERROR_SAMPLES:
                self.error_samples.append({"request": outcome.name, "status": outcome.status,
                                           "error": outcome.error or ""})
