"""The evaluator reports its own lag after each scheduled run (the CloudWatch lag alarm watches it)."""
import json
from datetime import datetime, timedelta, timezone

from functions import slo_evaluator


def test_the_lag_record_is_emf_of_seconds_behind_the_clock():
    end = datetime(2026, 12, 5, 1, 0, tzinfo=timezone.utc)
    record = slo_evaluator.lag_record(end, "ServerlessSRE", "user-api", now=end + timedelta(seconds=95))
    directive = record["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "ServerlessSRE" and directive["Dimensions"] == [["service"]]
    assert directive["Metrics"] == [{"Name": "slo_evaluator_lag_seconds", "Unit": "Seconds"}]
    assert record["slo_evaluator_lag_seconds"] == [95.0] and record["service"] == "user-api"


def test_a_scheduled_run_emits_its_lag_and_a_backfill_does_not(tables, cloudwatch, capsys):
    slo_evaluator.handler({}, None)
    scheduled = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    slo_evaluator.handler({"now": "2026-12-05T00:00:00Z"}, None)
    backfill = [line for line in capsys.readouterr().out.splitlines() if "slo_evaluator_lag_seconds" in line]
    lags = [record["slo_evaluator_lag_seconds"] for record in scheduled if "slo_evaluator_lag_seconds" in record]
    assert len(lags) == 1 and 0 <= lags[0][0] < 180
    assert backfill == []


def _lag_lines(capsys):
    return [json.loads(line)["slo_evaluator_lag_seconds"] for line in capsys.readouterr().out.splitlines()
            if "slo_evaluator_lag_seconds" in line]


def _failing_runs(monkeypatch):
    """Every SLO's evaluation fails (as a throttled table would make it), so runs report errors."""
    from chalicelib.slo.evaluation import Evaluator

    def evaluate_slo(*args, **kwargs):
        raise RuntimeError("ProvisionedThroughputExceededException")

    monkeypatch.setattr(Evaluator, "_evaluate_slo", evaluate_slo)


def test_a_failing_run_reports_the_lag_since_the_last_minute_evaluated_without_errors(
        tables, cloudwatch, capsys, monkeypatch):
    slo_evaluator.handler({}, None)
    _lag_lines(capsys)
    _failing_runs(monkeypatch)
    report = slo_evaluator.handler({}, None)
    assert report["errors"]
    [lag] = _lag_lines(capsys)
    since = (datetime.now(timezone.utc) - datetime.fromisoformat(report["evaluated_through"].replace("Z", "+00:00")))
    assert abs(lag[0] - since.total_seconds()) < 5


def test_an_evaluator_that_never_succeeded_reports_no_lag(tables, cloudwatch, capsys, monkeypatch):
    _failing_runs(monkeypatch)
    report = slo_evaluator.handler({}, None)
    assert report["errors"] and report["evaluated_through"] is None
    assert _lag_lines(capsys) == []
