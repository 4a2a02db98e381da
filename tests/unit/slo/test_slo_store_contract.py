"""One contract for the SLO engine's store ports (buckets, status, alerts), run against the
DynamoDB stores and the in-memory ones."""
from dataclasses import replace
from datetime import timedelta

import pytest

from chalicelib.slo.records import Alert, HistoryPoint, ServiceSnapshot, SloSnapshot
from tests.support.golden import golden
from tests.support.slo import InMemoryAlerts, InMemoryBuckets, InMemoryStatus, resolved_copy
from tests.unit.slo.helpers import T0


@pytest.fixture(params=["memory", "dynamodb"])
def stores(request):
    if request.param == "memory":
        return InMemoryBuckets(), InMemoryStatus(), InMemoryAlerts()
    request.getfixturevalue("tables")
    wired = request.getfixturevalue("wired")
    return wired.slo_bucket_store, wired.slo_status_store, wired.slo_alert_store


def test_buckets_read_back_by_grain_and_range(stores):
    buckets, _, _ = stores
    rows = [("success", "m", T0 + timedelta(minutes=minute), {"good": minute, "valid": 10}, None)
            for minute in range(3)]
    rows.append(("success", "h", T0, {"good": 3, "valid": 30}, None))
    assert buckets.write(rows) == 4
    minutes = buckets.query("success", "m", T0 + timedelta(minutes=1), T0 + timedelta(hours=2))
    assert minutes == {T0 + timedelta(minutes=1): {"good": 1, "valid": 10},
                       T0 + timedelta(minutes=2): {"good": 2, "valid": 10}}
    assert buckets.query("success", "h", T0, T0 + timedelta(hours=1)) == {T0: {"good": 3, "valid": 30}}
    assert buckets.query("latency", "m", T0, T0 + timedelta(hours=1)) == {}


def test_rewriting_a_bucket_replaces_it(stores):
    buckets, _, _ = stores
    buckets.write([("success", "m", T0, {"good": 1, "valid": 1}, None)])
    buckets.write([("success", "m", T0, {"good": 2, "valid": 2}, None)])
    assert buckets.query("success", "m", T0, T0 + timedelta(minutes=1)) == {T0: {"good": 2, "valid": 2}}


def test_a_run_stores_snapshots_history_and_the_service_snapshot(stores):
    _, status, _ = stores
    snapshot = SloSnapshot.from_json(golden("slo_snapshot"))
    point = HistoryPoint.from_json(golden("slo_history_point"))
    later = replace(point, at="2026-12-01T13:00:00Z", budget_remaining_ratio=0.5)
    service = ServiceSnapshot.from_json(golden("slo_service_snapshot"))
    status.save_run([snapshot], [(snapshot.slo, point), (snapshot.slo, later)], service, 2_000_000_000)
    assert status.latest([snapshot.slo, "unknown"]) == {snapshot.slo: snapshot}
    assert status.service_snapshot() == service
    assert status.history(snapshot.slo, T0 - timedelta(hours=1), T0 + timedelta(hours=2)) == [point, later]
    assert status.history(snapshot.slo, T0 + timedelta(minutes=30), T0 + timedelta(hours=2)) == [later]


def test_hourly_history_is_the_latest_point_of_each_hour(stores):
    _, status, _ = stores
    snapshot = SloSnapshot.from_json(golden("slo_snapshot"))
    service = ServiceSnapshot.from_json(golden("slo_service_snapshot"))
    point = HistoryPoint.from_json(golden("slo_history_point"))

    def at(minutes, ratio):
        return snapshot.slo, replace(point, at=(T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:00Z"),
                                     budget_remaining_ratio=ratio)

    status.save_run([snapshot], [at(0, 0.9), at(59, 0.8)], service, 2_000_000_000)
    status.save_run([snapshot], [at(60, 0.7)], service, 2_000_000_000)
    status.save_run([snapshot], [at(61, 0.6)], service, 2_000_000_000)  # the next run overwrites its hour
    hourly = status.hourly_history(snapshot.slo, T0, T0 + timedelta(hours=3))
    assert [(p.at, p.budget_remaining_ratio) for p in hourly] == [(at(59, 0)[1].at, 0.8), (at(61, 0)[1].at, 0.6)]
    assert len(status.history(snapshot.slo, T0, T0 + timedelta(hours=3))) == 4
    assert status.hourly_history(snapshot.slo, T0 + timedelta(hours=1), T0 + timedelta(hours=3)) == [hourly[1]]
    # By key: any moment names its hour; hours without a rollup are left out.
    by_key = status.hourly_points([(snapshot.slo, T0 + timedelta(minutes=5)), (snapshot.slo, T0 + timedelta(hours=1)),
                                   (snapshot.slo, T0 + timedelta(hours=2)), ("unknown", T0)])
    assert by_key == {(snapshot.slo, T0): hourly[0], (snapshot.slo, T0 + timedelta(hours=1)): hourly[1]}


def test_a_run_of_an_earlier_moment_saved_last_leaves_the_newer_figures_in_place(stores):
    _, status, _ = stores
    snapshot = SloSnapshot.from_json(golden("slo_snapshot"))
    service = ServiceSnapshot.from_json(golden("slo_service_snapshot"))
    point = HistoryPoint.from_json(golden("slo_history_point"))
    later = T0 + timedelta(minutes=5)

    def moment(minutes):
        return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:00Z")

    newer = replace(snapshot, evaluated_at=moment(5))
    newer_service = replace(service, evaluated_at=moment(5))
    status.save_run([newer], [(snapshot.slo, replace(point, at=moment(5), budget_remaining_ratio=0.5))],
                    newer_service, 2_000_000_000)
    status.save_run([replace(snapshot, evaluated_at=moment(4))],
                    [(snapshot.slo, replace(point, at=moment(4), budget_remaining_ratio=0.9))],
                    replace(service, evaluated_at=moment(4)), 2_000_000_000)
    assert status.latest([snapshot.slo]) == {snapshot.slo: newer}
    assert status.service_snapshot() == newer_service
    assert [p.budget_remaining_ratio for p in status.hourly_history(snapshot.slo, T0, later)] == [0.5]
    assert len(status.history(snapshot.slo, T0, later)) == 2  # each minute's point is kept
    status.save_run([newer], [], newer_service, 2_000_000_000)  # the same moment again: saved
    assert status.latest([snapshot.slo]) == {snapshot.slo: newer}


def test_the_evaluator_record_reads_back(stores):
    _, status, _ = stores
    assert status.evaluator_record() is None
    status.save_evaluator_record({"last_end": "2026-12-01T12:00:00Z"})
    assert status.evaluator_record() == {"last_end": "2026-12-01T12:00:00Z"}


def test_one_open_alert_per_slo_and_tier(stores):
    _, _, alerts = stores
    alert = Alert.from_json(golden("slo_alert"))
    lock = alerts.open(alert)
    assert lock.alert == alert and lock.handed_off is False
    assert alerts.open(replace(alert, id="again", opened_at="2026-12-01T12:05:00Z")) is None
    assert list(alerts.open_alerts(alert.slo)) == [alert.tier]


def test_a_handed_off_alert_stays_handed_off(stores):
    _, _, alerts = stores
    alert = Alert.from_json(golden("slo_alert"))
    alerts.mark_handed_off(alerts.open(alert))
    assert alerts.open_alerts(alert.slo)[alert.tier].handed_off is True


def test_resolving_keeps_the_record_and_frees_the_tier(stores):
    _, _, alerts = stores
    alert = Alert.from_json(golden("slo_alert"))
    resolved = resolved_copy(alert, "2026-12-01T12:10:00Z")
    alerts.resolve(alerts.open(alert), resolved)
    assert alerts.open_alerts(alert.slo) == {} and alerts.listing("open", 10) == []
    assert alerts.listing("alert", 10) == [resolved]
    assert alerts.open(replace(alert, opened_at="2026-12-01T12:20:00Z")) is not None


def test_listing_is_newest_first(stores):
    _, _, alerts = stores
    alert = Alert.from_json(golden("slo_alert"))
    older = replace(alert, tier="page-slow", opened_at="2026-12-01T11:00:00Z")
    alerts.open(older)
    alerts.open(alert)
    assert [a.tier for a in alerts.listing("alert", 10)] == [alert.tier, "page-slow"]
    assert [a.tier for a in alerts.listing("open", 1)] == [alert.tier]
