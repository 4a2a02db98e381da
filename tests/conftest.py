import os

import pytest

# Unit tests never reach a network: fake credentials, no endpoint override.
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "ServerlessSRE",
})
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)


@pytest.fixture(autouse=True)
def _fresh_process_state():
    """Each test starts with a fresh wiring: settings re-read, no clients, models or instances."""
    from chalicelib import wiring

    wiring.reset()
    yield
    wiring.reset()


@pytest.fixture
def wired():
    """The wiring the code under test will use (built now, from the test's environment)."""
    from chalicelib import wiring

    return wiring.current()


@pytest.fixture
def aws_mock():
    from moto import mock_aws

    with mock_aws():
        yield
