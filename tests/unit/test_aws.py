import threading
import time

import pytest
from botocore.exceptions import ClientError

from chalicelib.aws import Clients, LazyClient, is_execution_gone
from chalicelib.settings import Settings
from chalicelib.wiring import Wiring


def test_clients_keep_as_many_connections_as_they_are_given():
    assert Clients("us-east-1", max_pool_connections=64).get("sqs").meta.config.max_pool_connections == 64


def test_the_wiring_gives_clients_the_configured_pool_size():
    wiring = Wiring(Settings.from_env({"AWS_MAX_POOL_CONNECTIONS": "48", "AWS_REGION": "eu-west-1"}))
    assert wiring.clients.get("dynamodb").meta.config.max_pool_connections == 48
    assert wiring.clients.get("dynamodb").meta.region_name == "eu-west-1"


def test_clients_keep_botocores_ten_connections_by_default():
    assert Wiring(Settings.from_env({})).clients.get("sns").meta.config.max_pool_connections == 10


def test_a_lazy_client_used_first_by_many_threads_at_once_is_built_once():
    builds = []

    def build():
        builds.append(threading.current_thread().name)
        time.sleep(0.05)  # as a service model's loading, long enough for every thread to arrive
        return type("Client", (), {"region": "us-east-1"})()

    client = LazyClient(build)
    start = threading.Barrier(8)

    def first_call():
        start.wait()
        assert client.region == "us-east-1"

    threads = [threading.Thread(target=first_call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(builds) == 1


def _client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "..."}}, "DescribeExecution")


@pytest.mark.parametrize("code", ["ExecutionDoesNotExist", "InvalidArn"])
def test_an_execution_step_functions_does_not_know_is_gone(code):
    assert is_execution_gone(_client_error(code))


@pytest.mark.parametrize("code", ["ThrottlingException", "AccessDeniedException"])
def test_other_step_functions_errors_are_not_a_gone_execution(code):
    assert not is_execution_gone(_client_error(code))
