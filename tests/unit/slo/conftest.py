from datetime import datetime, timedelta

import boto3
import pytest

from tests.unit.slo.helpers import SERVICE, T0, Clock, RecordingSink


@pytest.fixture(autouse=True)
def _short_catch_up(monkeypatch):
    """A first run backfills the catch-up bound; 4 h keeps moto fast and still covers the gap tests."""
    from chalicelib.settings import get_settings

    monkeypatch.setenv("SLO_CATCHUP_HOURS", "4")
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_slo_models():
    from chalicelib.slo import config, store

    for factory in (store.bucket_model, store.status_model, store.alert_model, config._cached):
        factory.cache_clear()
    yield
    for factory in (store.bucket_model, store.status_model, store.alert_model, config._cached):
        factory.cache_clear()


@pytest.fixture
def slo_tables(aws_mock):
    from devstack.provision import provision_tables

    return provision_tables(boto3.client("dynamodb", region_name="us-east-1"))


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
    return Clock(T0)


@pytest.fixture
def sink():
    return RecordingSink()


@pytest.fixture
def make_evaluator(slo_tables, shipped_slos, clock, sink):
    from chalicelib.slo.evaluator import Evaluator

    def make(slos=None, alert_sink=None):
        return Evaluator(slos if slos is not None else shipped_slos, sink=alert_sink or sink, clock=clock)
    return make


@pytest.fixture
def latest(slo_tables):
    from chalicelib.slo.store import StatusStore

    def read(name):
        return StatusStore().latest([name])[name]
    return read


@pytest.fixture
def slo_client(slo_tables, clock, monkeypatch):
    from chalice import Chalice
    from chalice.test import Client

    from chalicelib.observability.middleware import http_middleware
    from chalicelib.slo import routes
    from chalicelib.slo.status import SloStatusReader

    monkeypatch.setattr(routes, "_reader", lambda: SloStatusReader(clock=clock))
    app = Chalice(app_name="slo-routes-test")
    app.register_middleware(http_middleware, "http")
    app.register_blueprint(routes.blueprint)
    with Client(app) as client:
        yield client
