"""The SLO engine's records that other capabilities read: produced by a real run, kept as golden JSON.

Consumers (incidents, the status reader, later chaos and the dashboard) read these files in
their own tests; see tests/support/golden.py.
"""
from datetime import timedelta

import pytest

from chalicelib.slo.records import Alert, HistoryPoint, ServiceSnapshot, SloEvaluation, SloSnapshot
from chalicelib.wiring import current as wired
from tests.support.golden import check_golden, golden
from tests.unit.slo.helpers import T0


def ladder(valid):
    """Cumulative counts under each rung of the latency ladder: a spread, all under 400 ms."""
    shares = {25: 0.2, 50: 0.5, 100: 0.8, 200: 0.9, 400: 1.0, 800: 1.0, 1600: 1.0}
    return {f"latency_good_{ms}ms": int(valid * share) for ms, share in shares.items()}


def burn_then_recover(make_evaluator, put_counts, clock):
    """An hour of failures (page-fast fires), then ten good minutes (it resolves)."""
    for minute in range(60):
        put_counts(T0 - timedelta(minutes=60 - minute), requests=100, valid_requests=100, good_availability=0,
                   server_errors=100, **{**ladder(100), "latency_good_200ms": 100})
    evaluator = make_evaluator()
    evaluator.run()
    for minute in range(10):
        put_counts(T0 + timedelta(minutes=minute), requests=1000, valid_requests=1000, good_availability=1000,
                   **{**ladder(1000), "latency_good_200ms": 1000})
    clock.advance(minutes=10)
    evaluator.run()


@pytest.fixture
def produced(make_evaluator, put_counts, clock, sink):
    burn_then_recover(make_evaluator, put_counts, clock)
    status = wired().slo_status_store
    return {
        "slo_snapshot": status.latest(["success"])["success"],
        "slo_history_point": status.history("success", T0, clock.now)[0],
        "slo_alert": Alert.from_json(sink.opened[0]),
        "slo_alert_resolved": Alert.from_json(sink.resolved[0]),
        "slo_service_snapshot": status.service_snapshot(),
        "slo_evaluation": next(item for item in sink.evaluations if item.slo == "success"),
    }


@pytest.mark.parametrize("name", ["slo_snapshot", "slo_history_point", "slo_alert", "slo_alert_resolved",
                                  "slo_service_snapshot", "slo_evaluation"])
def test_the_evaluator_produces_the_golden_record(produced, name):
    check_golden(name, produced[name].to_json())


def test_the_evaluator_produces_the_golden_snapshot_of_an_slo_without_requests(make_evaluator):
    make_evaluator().run()
    check_golden("slo_snapshot_no_requests", wired().slo_status_store.latest(["success"])["success"].to_json())


@pytest.mark.parametrize("record_type, name", [
    (SloSnapshot, "slo_snapshot"), (SloSnapshot, "slo_snapshot_no_requests"), (HistoryPoint, "slo_history_point"), (Alert, "slo_alert"),
    (Alert, "slo_alert_resolved"), (ServiceSnapshot, "slo_service_snapshot"),
    (SloEvaluation, "slo_evaluation")])
def test_each_record_reads_back_what_it_wrote(record_type, name):
    record = record_type.from_json(golden(name))
    assert record.to_json() == golden(name)
    assert record_type.from_json(record.to_json()) == record


def test_the_history_point_carries_the_budget_remaining_ratio():
    point = HistoryPoint.from_json(golden("slo_history_point"))
    assert point.budget_remaining_ratio is not None and point.budget_remaining_ratio < 1


def test_the_status_reader_reads_budget_state_from_the_golden_snapshot(wired_reader):
    snapshot = SloSnapshot.from_json(golden("slo_snapshot"))
    wired_reader.status.saved = {snapshot.slo: snapshot}
    state = wired_reader.budget_state("success")
    assert (state.state, state.remaining_ratio, state.freezes_releases) == (
        snapshot.budget.state, snapshot.budget.remaining_ratio, snapshot.budget.freezes_releases)


class SnapshotsOnly:
    def __init__(self):
        self.saved = {}

    def latest(self, names):
        return {name: self.saved[name] for name in names if name in self.saved}


@pytest.fixture
def wired_reader(shipped_slos):
    from chalicelib.slo.status import SloStatusReader

    return SloStatusReader(shipped_slos, status=SnapshotsOnly(), alerts=None, buckets=None, stale_after_seconds=300)
