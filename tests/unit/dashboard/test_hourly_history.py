"""The dashboard's hourly history: closed hours kept in the process, the last two read by key."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.dashboard.history import HourlyHistory
from chalicelib.slo.records import HistoryPoint
from tests.support.golden import golden
from tests.support.slo import InMemoryStatus

H0 = datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc)


@pytest.fixture
def status():
    return InMemoryStatus()


def _write(status, *minutes, slo="success"):
    """The evaluator's runs at H0 + each of ``minutes``: one point each."""
    point = HistoryPoint.from_json(golden("slo_history_point"))
    for minute in minutes:
        at = (H0 + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:00Z")
        status.save_run([], [(slo, replace(point, at=at, budget_remaining_ratio=1 - minute / 10000))], None, 0)


def _ats(points):
    return [point.at for point in points]


def test_every_hour_of_the_period_is_its_latest_point(status):
    _write(status, 5, 59, 61, 130, 181)
    found, reads = HourlyHistory(status).points([("success", H0)], H0 + timedelta(minutes=185))
    assert _ats(found["success"]) == ["2026-12-01T00:59:00Z", "2026-12-01T01:01:00Z", "2026-12-01T02:10:00Z",
                                      "2026-12-01T03:01:00Z"]
    assert reads == 1  # a short period: the unseen hours by key, with the last two, in one batch


def test_a_later_document_reads_the_last_two_hours_and_sees_new_points(status):
    history = HourlyHistory(status)
    _write(status, 5, 70, 130)
    history.points([("success", H0)], H0 + timedelta(minutes=135))
    _write(status, 150)  # a run in the current hour
    found, reads = history.points([("success", H0)], H0 + timedelta(minutes=151))
    assert _ats(found["success"]) == ["2026-12-01T00:05:00Z", "2026-12-01T01:10:00Z", "2026-12-01T02:30:00Z"]
    assert reads == 1


def test_a_late_write_to_the_previous_hour_is_still_seen(status):
    history = HourlyHistory(status)
    _write(status, 5, 58)
    history.points([("success", H0)], H0 + timedelta(minutes=60, seconds=20))
    _write(status, 59)  # the 00:59 run saved after the hour turned
    found, _ = history.points([("success", H0)], H0 + timedelta(minutes=61))
    assert _ats(found["success"]) == ["2026-12-01T00:59:00Z"]
    found, _ = history.points([("success", H0)], H0 + timedelta(minutes=125))  # 00:00 is closed now
    assert _ats(found["success"]) == ["2026-12-01T00:59:00Z"]


def test_a_long_unseen_period_is_read_with_one_query_per_slo(status):
    _write(status, *range(0, 60 * 24 * 10, 60))
    _write(status, *range(0, 60 * 24 * 10, 60), slo="availability")
    now = H0 + timedelta(days=10)
    found, reads = HourlyHistory(status).points([("success", H0), ("availability", H0 + timedelta(days=3))], now)
    assert (len(found["success"]), len(found["availability"]), reads) == (240, 168, 3)


def test_hours_before_the_period_are_dropped(status):
    history = HourlyHistory(status)
    _write(status, *range(0, 600, 60))
    history.points([("success", H0)], H0 + timedelta(minutes=601))
    found, _ = history.points([("success", H0 + timedelta(hours=5))], H0 + timedelta(minutes=601))
    assert _ats(found["success"])[0] == "2026-12-01T05:00:00Z"
