"""Postmortem drafts, status updates and reliability figures from stored incidents."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest

from chalicelib.incidents.model import Incident, TimelineEvent
from chalicelib.incidents.reports import (
    STAGES, SloImpact, communication_templates, fill, reliability_stats, render_postmortem, render_update)

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)


def _incident(**fields):
    base = Incident(id="inc-0123456789abcdef", fingerprint="breaker:database", severity="P2",
                    title="Circuit breaker database is open", source="breaker", status="resolved",
                    opened_at="2026-01-05T09:00:00.000000Z", acknowledged_at="2026-01-05T09:05:00.000000Z",
                    acknowledged_by="alice", mitigated_at="2026-01-05T09:20:00.000000Z",
                    resolved_at="2026-01-05T10:00:00.000000Z", runbook="runbooks/incident-manual.md",
                    experiment_ids=("exp-7",),
                    timeline=(TimelineEvent("2026-01-05T09:00:00.000000Z", "triggered", "opened"),
                              TimelineEvent("2026-01-05T09:05:00.000000Z", "acknowledged", "ack", "alice")))
    return replace(base, **fields)


class FixedImpact:
    def __init__(self):
        self.asked = None

    def impact(self, start, end):
        self.asked = (start, end)
        return [SloImpact("availability", 0.80, 0.65)]


class BrokenImpact:
    def impact(self, start, end):
        raise ConnectionError("status table unreachable")


def test_postmortem_fills_timeline_budget_breakers_and_experiments():
    impact = FixedImpact()
    text = render_postmortem(_incident(), NOW, impact=impact)
    assert "| 2026-01-05T09:05:00.000000Z | acknowledged | alice | ack |" in text
    assert "| availability | 80.0% | 65.0% | 15.0% |" in text
    assert "- `database` opened 2026-01-05T09:00:00.000000Z, closed/resolved 2026-01-05T10:00:00.000000Z" in text
    assert "`exp-7`" in text
    assert "(after 5m)" in text and "(after 1h)" in text
    assert impact.asked == (datetime(2026, 1, 5, 9, tzinfo=timezone.utc), datetime(2026, 1, 5, 10, tzinfo=timezone.utc))
    assert "<!--" not in text and "{{" not in text


def test_postmortem_of_an_open_unacknowledged_incident_says_so_plainly():
    """It read 'not acknowledged by nobody yet (after n/a)'."""
    text = render_postmortem(_incident(status="triggered", acknowledged_at=None, acknowledged_by=None,
                                       mitigated_at=None, resolved_at=None), NOW)
    assert "| Acknowledged | not acknowledged yet |" in text
    assert "| Mitigated | not mitigated yet |" in text and "| Resolved | open |" in text
    done = render_postmortem(_incident(), NOW)
    assert "| Acknowledged | 2026-01-05T09:05:00.000000Z by alice (after 5m) |" in done
    assert "| Resolved | 2026-01-05T10:00:00.000000Z (after 1h) |" in done


def test_postmortem_lists_breakers_of_overlapping_incidents():
    other = _incident(id="inc-fedcba9876543210", fingerprint="breaker:webhook", resolved_at=None,
                      status="triggered", experiment_ids=())
    text = render_postmortem(_incident(source="slo", fingerprint="slo:availability:page"), NOW, related=[other])
    assert "- `webhook` opened" in text and "still open" in text


def test_postmortem_says_why_slo_figures_are_missing():
    assert "SLO figures unavailable: ConnectionError" in render_postmortem(_incident(), NOW, impact=BrokenImpact())


def test_every_communication_stage_has_a_template():
    assert set(communication_templates()) == set(STAGES)


@pytest.mark.parametrize("stage", STAGES)
def test_each_update_renders_without_leftover_placeholders(stage):
    text = render_update(_incident(), stage, NOW, "We rolled back.")
    assert "{{" not in text and "We rolled back." in text


def test_unknown_placeholder_is_an_error():
    with pytest.raises(KeyError):
        fill("{{nope}}", {})


def test_resolved_update_ends_as_a_resolution():
    resolved = _incident(status="resolved", resolved_at="2026-01-05T11:00:00.000000Z")
    text = render_update(resolved, "resolved", NOW)
    assert "next update" not in text.lower()
    assert text.rstrip().endswith("This is the last update for incident inc-0123456789abcdef.")


def test_updates_in_progress_promise_the_next_one_without_a_message():
    assert "More details in the next update." in render_update(_incident(), "identified", NOW)


def test_stats_mtta_mttr_by_severity_and_mtbf_between_failure_starts():
    start, end = datetime(2026, 1, 5, 0, tzinfo=timezone.utc), datetime(2026, 1, 6, 0, tzinfo=timezone.utc)
    incidents = [
        _incident(),  # opened 09:00, resolved after 1 h, ack after 5 min
        _incident(id="inc-1111111111111111", opened_at="2026-01-05T14:00:00.000000Z",
                  acknowledged_at="2026-01-05T14:15:00.000000Z", resolved_at="2026-01-05T17:00:00.000000Z"),
        _incident(id="inc-3333333333333333", opened_at="2026-01-05T22:00:00.000000Z",
                  acknowledged_at=None, resolved_at=None, status="triggered"),
        _incident(id="inc-2222222222222222", severity="P1", opened_at="2026-01-05T20:00:00.000000Z",
                  acknowledged_at=None, resolved_at=None, status="triggered"),
    ]
    # Real failures: an incident linked to a chaos experiment is left out of MTBF (tests/unit/chaos).
    incidents = [replace(incident, experiment_ids=()) for incident in incidents]
    stats = reliability_stats(incidents, start, end)
    p2 = stats["by_severity"]["P2"]
    assert (p2["incidents"], p2["mtta_seconds"], p2["mttr_seconds"]) == (3, 600, 7200)
    assert (p2["mtbf_seconds"], p2["mtbf_reason"]) == ((5 * 3600 + 8 * 3600) / 2, None)
    assert stats["all"]["incidents"] == 4


def test_mtbf_is_null_with_the_reason_under_two_failures():
    start, end = datetime(2026, 1, 5, 0, tzinfo=timezone.utc), datetime(2026, 1, 6, 0, tzinfo=timezone.utc)
    one = reliability_stats([_incident(severity="P1", experiment_ids=())], start, end)["by_severity"]
    assert (one["P1"]["mtbf_seconds"], one["P1"]["mtbf_reason"]) == (
        None, "1 failure in the window; MTBF needs at least two")
    assert (one["P0"]["mtbf_seconds"], one["P0"]["mtbf_reason"]) == (
        None, "0 failures in the window; MTBF needs at least two")


class GoldenHistory:
    """The SLO engine's status store as reports see it, holding its golden history points."""

    def __init__(self, *ratios):
        from chalicelib.slo.records import HistoryPoint
        from tests.support.golden import golden

        point = HistoryPoint.from_json(golden("slo_history_point"))
        self.points = [replace(point, budget_remaining_ratio=ratio) for ratio in ratios]
        self.asked = []

    def history(self, name, start, end):
        self.asked.append((name, start, end))
        return self.points


def test_budget_impact_comes_from_the_slo_history_points():
    from chalicelib.incidents.reports import SloHistoryImpact

    impact = SloHistoryImpact(GoldenHistory(0.80, 0.72, 0.65), ["availability"])
    assert render_postmortem(_incident(), NOW, impact=impact).count("| availability | 80.0% | 65.0% | 15.0% |") == 1


def test_budget_impact_of_the_golden_history_point_is_not_na():
    from chalicelib.incidents.reports import SloHistoryImpact
    from chalicelib.slo.records import HistoryPoint
    from tests.support.golden import golden

    point = HistoryPoint.from_json(golden("slo_history_point"))
    [row] = SloHistoryImpact(GoldenHistory(point.budget_remaining_ratio), ["success"]).impact(NOW, NOW)
    assert row.budget_remaining_before == point.budget_remaining_ratio is not None


def test_the_golden_incident_renders_a_postmortem():
    from tests.support.golden import golden

    incident = Incident.from_json(golden("incident"))
    text = render_postmortem(incident, NOW)
    assert incident.id in text and "| acknowledged | alice |" in text
    assert "{{" not in text


def test_postmortem_budget_impact_is_read_from_the_stored_history(wired, aws_mock):
    """End to end through the SLO status table: a stored history point gives a figure, not n/a."""
    import boto3

    from chalicelib.slo.records import HistoryPoint, ServiceSnapshot
    from devstack.provision import provision_tables
    from tests.support.golden import golden

    provision_tables(boto3.client("dynamodb", region_name="us-east-1"))
    point = HistoryPoint.from_json(golden("slo_history_point"))
    point = replace(point, at="2026-01-05T09:30:00Z", budget_remaining_ratio=0.5)
    wired.slo_status_store.save_run([], [("success", point)], ServiceSnapshot(None, {}), 2_000_000_000)
    text = wired.incident_reports.postmortem(_incident(), NOW)
    assert "| success | 50.0% | 50.0% | 0.0% |" in text
