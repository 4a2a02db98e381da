"""Two OS processes on one moto server share one breaker: a trip in one fails the other fast."""
import os
import socket
import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent("""
    import sys
    from chalicelib.resilience import BreakerOpenError, FleetCircuitBreaker
    from chalicelib.resilience.storage import DynamoDBCircuitStorage, breaker_model

    model = breaker_model("serverless-sre-breakers", "us-east-1", 1)
    breaker = FleetCircuitBreaker("shared-dep", fail_max=2, reset_timeout=600, announce=lambda *a: None,
                                  state_storage=DynamoDBCircuitStorage("shared-dep", model=model, cache_seconds=0))

    def fail():
        raise RuntimeError("dependency down")

    if sys.argv[1] == "trip":
        for _ in range(2):
            try:
                breaker.call(fail)
            except RuntimeError:
                pass
        print(breaker.current_state)
    else:
        try:
            breaker.call(lambda: "called")
            print("called")
        except BreakerOpenError:
            print("refused")
""")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def moto_server():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def run_child(endpoint: str, role: str) -> str:
    env = {**os.environ, "AWS_ENDPOINT_URL": endpoint}
    repo_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    done = subprocess.run([sys.executable, "-c", CHILD, role], env=env, cwd=repo_root, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_trip_in_one_process_fails_fast_in_another(moto_server):
    import boto3

    boto3.client("dynamodb", endpoint_url=moto_server, region_name="us-east-1").create_table(
        TableName="serverless-sre-breakers", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "name", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "name", "KeyType": "HASH"}])
    assert run_child(moto_server, "trip") == "open"
    assert run_child(moto_server, "call") == "refused"
