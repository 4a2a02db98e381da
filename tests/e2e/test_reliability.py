"""Faults during load, each followed by the integrity check, on both variants' servers.

Each test runs the load generator in-process (scenario ``crud-duplicates``: create, a duplicate
create that must be a 409, read, update, delete; lists alongside) with a few clients for a few
seconds against the disposable stack, whose breakers recover within seconds. One second into
the load a fault is switched on and lifted ``FAULT_SECONDS`` later (a restart lasts as long as
it takes). Afterwards, with no operator action:

- integrity: every write answered 2xx is stored exactly once, every 204 delete is gone, every
  409 met a real duplicate;
- every 5xx (and, for restarts, every unanswered request) fell between the fault's start and
  ``RECOVERY_SECONDS`` after its end; every 5xx was a 503 with Retry-After;
- the service recovered by itself: the run's last seconds were answered without an error and
  the store is ready;
- the SLO figures show what happened: the success SLO counted as many bad events as clients got
  5xx answers, and a slow store shows in the latency SLO.

``RELIABILITY_FIGURES=<file>`` appends each test's figures to that file as JSON lines (``make report``).
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pytest

from bench._figures import record
from tools.loadgen import LoadProfile, load_scenario, run_load

pytestmark = pytest.mark.e2e

CLIENTS = 4
FAULT_AFTER_SECONDS = 1.0
FAULT_SECONDS = 2.0
# The database breaker half-opens 2 s after it trips (FAST_RECOVERY) and closes after two good calls.
RECOVERY_SECONDS = 4.0
CALM_TAIL_SECONDS = 1
# The calm tail comes after the recovery window, with a second for ending the fault (starting a
# stopped PostgreSQL): with the tail inside the window, a loaded machine's slower recovery (still
# within RECOVERY_SECONDS) failed the run.
LOAD_SECONDS = FAULT_AFTER_SECONDS + FAULT_SECONDS + 1.0 + RECOVERY_SECONDS + CALM_TAIL_SECONDS
FAULT_PATH = "/_local/faults/dynamodb"
ERROR_CLASSES = ("5xx", "no answer")


def _dynamodb_fault(body: dict[str, Any]) -> Callable[[Any], None]:
    def switch_on(stack: Any) -> None:
        response = stack.http.put(stack.url(FAULT_PATH), headers=stack.operator_headers(),
                                  json={**body, "expires_in_seconds": 60})
        assert response.status_code == 200, response.text
    return switch_on


def _clear_dynamodb_fault(stack: Any) -> None:
    assert stack.http.delete(stack.url(FAULT_PATH), headers=stack.operator_headers()).status_code == 200


def _receiver_outage(enabled: bool) -> Callable[[Any], None]:
    def switch(stack: Any) -> None:
        response = stack.http.put(stack.receiver_url("/outage"), headers=stack.operator_headers(),
                                  json={"enabled": enabled})
        assert response.status_code == 200, response.text
    return switch


@dataclass(frozen=True)
class Fault:
    name: str
    variants: tuple[str, ...]
    start: Callable[[Any], Any]
    stop: Callable[[Any], Any] | None = None  # None: the fault is over when ``start`` returns (a restart)
    slow: bool = False  # shows as latency, not as errors
    unanswered: bool = False  # connections may be refused while it lasts
    webhook: bool = False


FAULTS = (
    Fault("dynamodb-failing", ("lambda",), _dynamodb_fault({"error_code": "InternalServerError"}),
          _clear_dynamodb_fault),
    Fault("dynamodb-slow", ("lambda",), _dynamodb_fault({"delay_seconds": 0.3}), _clear_dynamodb_fault, slow=True),
    Fault("postgres-failing", ("ecs",), lambda stack: stack.database("stop"), lambda stack: stack.database("start")),
    Fault("postgres-slow", ("ecs",), lambda stack: stack.database("pause"), lambda stack: stack.database("resume"),
          slow=True),
    Fault("webhook-down", ("lambda", "ecs"), _receiver_outage(True), _receiver_outage(False), webhook=True),
    Fault("embedded-aws-restart", ("lambda", "ecs"), lambda stack: stack.restart("embedded-aws")),
    Fault("app-server-restart", ("lambda", "ecs"), lambda stack: stack.restart("app-server"), unanswered=True),
)
# Each case's second value is its own (variant, fault) pair: pytest groups tests by equal parameter
# values, and a fault shared by both variants would interleave them (a stack started twice).
CASES = [pytest.param(variant, (variant, fault), id=f"{variant}-{fault.name}")
         for variant in ("lambda", "ecs") for fault in FAULTS if variant in fault.variants]


@dataclass
class FaultWindow:
    """Seconds from the start of the load: when the fault began and ended."""

    origin: float = 0.0
    began: float | None = None
    ended: float | None = None
    errors: list[str] = field(default_factory=list)

    def allows(self, second: int) -> bool:
        if self.began is None or self.ended is None:
            return False
        return int(self.began) <= second <= int(self.ended + RECOVERY_SECONDS)


def _schedule(stack: Any, fault: Fault, window: FaultWindow) -> threading.Thread:
    def run() -> None:
        try:
            time.sleep(FAULT_AFTER_SECONDS)
            window.began = time.monotonic() - window.origin
            fault.start(stack)
            if fault.stop is not None:
                time.sleep(FAULT_SECONDS)
                fault.stop(stack)
            window.ended = time.monotonic() - window.origin
        except Exception as exc:  # reported by the test, after the load
            window.errors.append(f"{type(exc).__name__}: {exc}")
            if fault.stop is not None:
                fault.stop(stack)

    return threading.Thread(target=run, name=f"fault-{fault.name}", daemon=True)


def _evaluate(stack: Any) -> dict[str, tuple[int, int]]:
    """(good, valid) per SLO over its period, evaluated now including the current minute."""
    now = datetime.now(timezone.utc) + timedelta(minutes=1)
    assert stack.fire("slo-evaluator", {"now": now.isoformat()})["errors"] == []
    body = stack.http.get(stack.url("/sre/slos"), headers=stack.operator_headers()).json()
    return {slo["name"]: (slo["windows"][slo["definition"]["period"]]["good"],
                          slo["windows"][slo["definition"]["period"]]["valid"]) for slo in body["slos"]}


def _bad(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]], slo: str) -> int:
    return (after[slo][1] - before[slo][1]) - (after[slo][0] - before[slo][0])


# Module scope: one disposable stack per variant serves all its cases (not one stack per case).
@pytest.mark.parametrize("disposable_stack, case", CASES, indirect=["disposable_stack"], scope="module")
def test_acknowledged_writes_survive_the_fault_and_the_service_recovers_by_itself(disposable_stack, case, capsys):
    stack, (_, fault) = disposable_stack, case
    if fault.webhook:
        stack.http.delete(stack.receiver_url(), headers=stack.operator_headers())
    before = _evaluate(stack)
    window = FaultWindow()
    chaos = _schedule(stack, fault, window)

    def on_start() -> None:
        window.origin = time.monotonic()
        chaos.start()

    report = run_load(stack.base_url, load_scenario("crud-duplicates"),
                      LoadProfile.concurrency(CLIENTS, LOAD_SECONDS, max_requests=50_000, timeout=15),
                      check=True, seed=16, on_start=on_start)
    chaos.join(timeout=60)
    after = _evaluate(stack)
    timeline = report["timeline"]
    server_errors = sum(count for status, count in report["statuses"].items() if status.startswith("5"))
    figures = {"variant": stack.variant, "fault": fault.name, "requests": report["requests"]["completed"],
               "statuses": report["statuses"], "fault_window_s": [window.began, window.ended],
               "integrity": {key: report["integrity"][key] for key in
                             ("ok", "checked_present", "stored_as_sent", "checked_gone", "gone", "checked_conflicts",
                              "uncertain", "missing_count", "extra_count", "error")},
               "slo_bad_events": {"success": _bad(before, after, "success"), "latency": _bad(before, after, "latency")},
               "p99_ms": report["latency_ms"]["p99_ms"]}
    record("reliability", "RELIABILITY_FIGURES", **figures)
    with capsys.disabled():
        print(f"\n{stack.variant} {fault.name}: {figures['requests']} requests {figures['statuses']}, "
              f"integrity {'ok' if report['integrity']['ok'] else 'FAILED'}, SLO bad events {figures['slo_bad_events']}")

    assert window.errors == [], window.errors
    allowed = {"200", "201", "204", "409", "503"} | ({"no answer"} if fault.unanswered else set())
    unexplained = {status: count for status, count in report["statuses"].items()
                   if status not in allowed and not (fault.unanswered and not status.isdigit())}
    assert unexplained == {}, report["error_samples"]
    samples = report["error_samples"]
    assert report["refusals_without_retry_after"] == 0
    outside = [second for second in timeline if any(second.get(name) for name in ERROR_CLASSES)
               and not window.allows(second["second"])]
    assert outside == [], f"errors outside the fault window {window}: {outside} {samples}"
    # The run's last whole seconds were served; the seconds after its end hold only the answers to
    # requests still in flight then (a few, maybe only a duplicate's 409), which must be no errors.
    calm = [second for second in timeline
            if int(LOAD_SECONDS) - CALM_TAIL_SECONDS <= second["second"] < int(LOAD_SECONDS)]
    stragglers = [second for second in timeline if second["second"] >= int(LOAD_SECONDS)]
    assert calm and all(second.get("2xx") for second in calm) and not any(
        second.get(name) for second in calm + stragglers for name in ERROR_CLASSES), (
        f"not recovered by the end of the run: {timeline} {samples}")
    assert stack.http.get(stack.url("/health/ready")).status_code == 200
    assert report["integrity"]["ok"], json.dumps(report["integrity"])[:3000]
    assert report["integrity"]["checked_present"] > 0 and report["integrity"]["checked_conflicts"] > 0
    assert _bad(before, after, "success") == server_errors, (before, after, report["statuses"])
    if fault.slow:
        assert _bad(before, after, "latency") > 0, (before, after)
    if fault.webhook:
        _assert_every_created_user_was_announced(stack, report["run_id"])


def _assert_every_created_user_was_announced(stack: Any, run_id: str) -> None:
    for _ in range(20):  # one run drains one batch
        drained = stack.fire("outbox-drainer", {"all_pending": True})
        if not drained["due"]:
            break
    received = stack.http.get(stack.receiver_url(), headers=stack.operator_headers()).json()["events"]
    announced = {entry["event"]["data"]["id"] for entry in received if entry["type"] == "user.created"}
    created = {user["id"] for user in stack.http.get(stack.url("/api/users?limit=1000")).json()
               if run_id in user["email"]}
    assert created and created <= announced, (drained, len(received), len(created - announced), len(created))
