import boto3
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from chalicelib.resilience.faults import Fault, FaultInjector, FaultSwitch


@pytest.fixture
def dynamodb(breakers_table):
    return boto3.client("dynamodb", region_name="us-east-1")


@pytest.fixture
def switch(clock):
    return FaultSwitch(clock=clock)


def test_inactive_injector_lets_calls_through(dynamodb, switch):
    FaultInjector(switch).attach(dynamodb)
    assert dynamodb.list_tables()["TableNames"]


def test_active_fault_raises_a_real_client_error(dynamodb, switch):
    FaultInjector(switch).attach(dynamodb)
    switch.activate(Fault(error_code="ProvisionedThroughputExceededException"))
    with pytest.raises(ClientError) as raised:
        dynamodb.list_tables()
    assert raised.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"


def test_fault_limited_to_operations_spares_the_others(dynamodb, switch):
    FaultInjector(switch).attach(dynamodb)
    switch.activate(Fault(operations=frozenset({"GetItem"})))
    assert dynamodb.list_tables()["TableNames"]


def test_hang_fault_sleeps_then_times_out(dynamodb, switch):
    slept = []
    FaultInjector(switch, sleep=slept.append).attach(dynamodb)
    switch.activate(Fault(hang_seconds=3))
    with pytest.raises(ReadTimeoutError):
        dynamodb.list_tables()
    assert slept == [3]


def test_fault_lifts_itself_at_expiry(dynamodb, switch, clock):
    FaultInjector(switch).attach(dynamodb)
    switch.activate(Fault(expires_at=clock() + 10))
    clock.advance(10)
    assert dynamodb.list_tables()["TableNames"]


def test_fault_on_a_pynamodb_model_reaches_the_breaker_as_a_system_error(breakers_table, switch, clock):
    from chalicelib.resilience import FleetCircuitBreaker
    from chalicelib.dynamodb import is_client_caused_error as is_client_caused_dynamodb_error

    FaultInjector(switch).attach_to_model(breakers_table)
    switch.activate(Fault())
    breaker = FleetCircuitBreaker("db", fail_max=1, clock=clock, exclude=[is_client_caused_dynamodb_error],
                                  announce=lambda *a: None)
    with pytest.raises(Exception):
        breaker.call(breakers_table.get, "anything")
    assert breaker.current_state == "open"
