import json
import os
import subprocess
import sys

import pytest

from devstack.stack import LOCAL_ENVIRONMENT

MODEL_POOLS = """
import json
from chalicelib.users.dynamodb import table_models
models = table_models("users", "us-east-1")
print(json.dumps([models.user.Meta.max_pool_connections, models.connection._max_pool_connections]))
"""


def test_the_local_stacks_dynamodb_models_keep_as_many_connections_as_its_clients():
    """pynamodb reads its settings file when first imported, so a fresh process shows what the stack's gets."""
    environment = {**os.environ, **LOCAL_ENVIRONMENT}
    result = subprocess.run([sys.executable, "-c", MODEL_POOLS], env=environment, capture_output=True, text=True,
                            timeout=60, check=True)
    assert json.loads(result.stdout) == [int(LOCAL_ENVIRONMENT["AWS_MAX_POOL_CONNECTIONS"])] * 2
    assert int(LOCAL_ENVIRONMENT["AWS_MAX_POOL_CONNECTIONS"]) > 10  # more than botocore's and pynamodb's default


class _EmbeddedAws:
    """A stand-in for the embedded AWS's process: running, or exited with ``returncode``."""

    def __init__(self, returncode=None):
        self.pid, self.returncode = 4242, returncode

    def poll(self):
        return self.returncode


@pytest.fixture
def watched_stack(monkeypatch):
    import shutil

    from devstack.stack import LocalStack, StackConfig

    stack = LocalStack(StackConfig(aws_port=1, control_port=2))
    stack.starts = []

    def start_one_that_exits_again():
        stack.starts.append(stack._moto.pid)
        stack._moto = _EmbeddedAws(returncode=-9)

    monkeypatch.setattr(stack, "_kill_embedded_aws", lambda: None)
    monkeypatch.setattr(stack, "_start_embedded_aws", start_one_that_exits_again)
    monkeypatch.setattr(stack, "_provision", lambda restoring=False: None)
    stack._ready.set()
    yield stack
    shutil.rmtree(stack._state_dir, ignore_errors=True)


def test_a_running_embedded_aws_is_left_alone(watched_stack):
    watched_stack._moto = _EmbeddedAws()
    watched_stack.check_embedded_aws()
    assert watched_stack.starts == [] and watched_stack.restarts["embedded_aws"] == 0


def test_an_embedded_aws_that_exits_by_itself_is_started_again(watched_stack):
    watched_stack._moto = _EmbeddedAws(returncode=-9)
    watched_stack.check_embedded_aws()
    assert watched_stack.starts == [4242] and watched_stack.restarts["embedded_aws"] == 1


def test_an_embedded_aws_that_keeps_exiting_is_left_stopped_and_the_stack_not_ready(watched_stack):
    watched_stack._moto = _EmbeddedAws(returncode=1)
    for _ in range(6):
        watched_stack.check_embedded_aws()
    assert len(watched_stack.starts) == 3 and not watched_stack._ready.is_set()


def test_an_embedded_aws_stopped_with_the_stack_is_not_started_again(watched_stack):
    watched_stack._moto = _EmbeddedAws(returncode=0)
    watched_stack._stopping.set()
    watched_stack.check_embedded_aws()
    assert watched_stack.starts == []


def test_the_ecs_variant_refuses_to_start_when_its_webhook_receivers_port_is_taken(monkeypatch):
    import socket

    from devstack.ports import PortInUse
    from devstack.stack import LocalStack, StackConfig
    from urllib.parse import urlsplit

    stack = LocalStack(StackConfig(port=0, variant="ecs"))
    monkeypatch.setattr(stack, "_start_control", lambda: pytest.fail("started before checking its ports"))
    try:
        with socket.socket() as taken:
            taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            taken.bind(("127.0.0.1", urlsplit(stack.webhook_receiver_url).port))
            taken.listen()
            with pytest.raises(PortInUse, match="webhook receiver: 127.0.0.1:[0-9]+ is already in use"):
                stack.start()
    finally:
        assert stack.stop() == []  # as `python -m devstack` does: it removes the stack's state folder
    assert not os.path.exists(os.path.dirname(stack.journal_path))


def test_invoking_an_unknown_function_raises_unknown_function_before_it_is_metered():
    import shutil

    from devstack.functions import UnknownFunction
    from devstack.lambda_metrics import InvocationMeter
    from devstack.stack import LocalStack, StackConfig

    stack = LocalStack(StackConfig(aws_port=1, control_port=2))
    records = []
    stack._meter = InvocationMeter(records.append)
    try:
        with pytest.raises(UnknownFunction):
            stack.invoke("no-such-function", {})
    finally:
        shutil.rmtree(stack._state_dir, ignore_errors=True)
    assert records == []


class ReservedConcurrency:
    """The Lambda client's one call the stack makes before a run: a function's reserved concurrency."""

    def __init__(self, reserved=None, missing=False):
        self.reserved, self.missing = reserved, missing

    def get_function_concurrency(self, FunctionName):
        if self.missing:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": FunctionName}},
                              "GetFunctionConcurrency")
        return {} if self.reserved is None else {"ReservedConcurrentExecutions": self.reserved}


@pytest.fixture
def bare_stack():
    import shutil

    from devstack.stack import LocalStack, StackConfig

    stack = LocalStack(StackConfig(aws_port=1, control_port=2))
    yield stack
    shutil.rmtree(stack._state_dir, ignore_errors=True)


def test_a_function_throttled_to_zero_is_not_run_and_says_so(bare_stack, monkeypatch):
    """A chaos lambda_throttle set the reserved concurrency to 0 and the local schedule ran the function anyway."""
    import devstack.functions as functions
    from devstack.functions import FunctionThrottled
    from devstack.lambda_metrics import InvocationMeter

    ran = []
    monkeypatch.setattr(functions, "invoke", lambda key, event: ran.append(key))
    bare_stack._lambda = ReservedConcurrency(reserved=0)
    records = []
    bare_stack._meter = InvocationMeter(records.append)
    with pytest.raises(FunctionThrottled, match="serverless-sre-outbox-drainer is throttled"):
        bare_stack.invoke("outbox-drainer", {})
    assert ran == [] and records == []


@pytest.mark.parametrize("lambda_client", [ReservedConcurrency(), ReservedConcurrency(reserved=5),
                                           ReservedConcurrency(missing=True)])
def test_a_function_without_a_zero_reservation_runs(bare_stack, monkeypatch, lambda_client):
    import devstack.functions as functions

    ran = []
    monkeypatch.setattr(functions, "invoke", lambda key, event: ran.append(key))
    bare_stack._lambda = lambda_client
    bare_stack.invoke("outbox-drainer", {})
    assert ran == ["outbox-drainer"]
