from datetime import datetime, timedelta

import boto3
import pytest

from tests.support.clocks import ManualClock
from tests.unit.slo.helpers import SERVICE, T0, RecordingSink


@pytest.fixture(autouse=True)
def _short_catch_up(monkeypatch):
    """A first run backfills the catch-up bound; 4 h keeps moto fast and still covers the gap tests."""
    from chalicelib import wiring

    monkeypatch.setenv("SLO_CATCHUP_HOURS", "4")
    wiring.reset()


@pytest.fixture
def short_min_history(monkeypatch):
    """Budgets that act after 30 minutes of data: these tests keep hours, not days, of it."""
    from chalicelib import wiring

    monkeypatch.setenv("SLO_MIN_HISTORY", "30m")
    wiring.reset()


@pytest.fixture
def cloudwatch(aws_mock):
    return boto3.client("cloudwatch", region_name="us-east-1")


@pytest.fixture
def put_counts(cloudwatch):
    """put_counts(minute, requests=3, valid_requests=2, ...): one datapoint per metric inside ``minute``."""
    def put(minute: datetime, **counts: float) -> None:
        data = [{"MetricName": name, "Dimensions": SERVICE, "Value": float(value), "Unit": "Count",
                 "Timestamp": minute + timedelta(seconds=7)} for name, value in counts.items()]
        cloudwatch.put_metric_data(Namespace="ServerlessSRE", MetricData=data)
    return put


@pytest.fixture
def shipped_slos():
    from chalicelib.slo.config import load_slos

    return load_slos()


@pytest.fixture
def clock():
    return ManualClock(T0)


@pytest.fixture
def sink():
    return RecordingSink()


@pytest.fixture
def make_evaluator(tables, shipped_slos, clock, sink):
    from chalicelib import wiring

    def make(slos=None, alert_sink=None):
        wired = wiring.current()
        wired.slos = tuple(slos if slos is not None else shipped_slos)
        return wired.slo_evaluator(sink=alert_sink or sink, clock=clock)
    return make


@pytest.fixture
def latest(tables):
    from chalicelib import wiring

    def read(name):
        return wiring.current().slo_status_store.latest([name])[name].to_json()
    return read


@pytest.fixture
def slo_client(tables, clock, monkeypatch):
    from chalice import Chalice
    from chalice.test import Client

    from chalicelib import wiring
    from chalicelib.observability.middleware import http_middleware
    from chalicelib.slo import routes

    wiring.current().slo_status.clock = clock
    app = Chalice(app_name="slo-routes-test")
    app.register_middleware(http_middleware, "http")
    app.register_blueprint(routes.build_blueprint(wiring.current))
    with Client(app) as client:
        yield client
