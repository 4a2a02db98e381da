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


def test_a_scheduled_run_emits_its_lag_and_a_backfill_does_not(slo_tables, cloudwatch, capsys):
    slo_evaluator.handler({}, None)
    scheduled = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    slo_evaluator.handler({"now": "2026-12-05T00:00:00Z"}, None)
    backfill = [line for line in capsys.readouterr().out.splitlines() if "slo_evaluator_lag_seconds" in line]
    lags = [record["slo_evaluator_lag_seconds"] for record in scheduled if "slo_evaluator_lag_seconds" in record]
    assert len(lags) == 1 and 0 <= lags[0][0] < 180
    assert backfill == []
