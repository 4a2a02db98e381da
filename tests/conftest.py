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
    # As on the local stack: SRE reads open; tests/unit/auth/test_sre_reads.py turns the deployed check on.
    "SRE_READS_REQUIRE_TOKEN": "false",
})
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)


def _share_one_botocore_loader() -> None:
    """Every botocore session of the run reads service models through one loader.

    A loader parses each service's model JSON (and endpoints.json) once and keeps it; every
    session builds its own, and each test builds several (its wiring's boto3 session, one per
    pynamodb model connection), so each test parsed them again: ~0.1 s of CPU per test. The models
    are read-only and the same for every session (no test sets a data path); moto intercepts
    through the sessions' event handlers, which stay per session."""
    import botocore.loaders
    import botocore.session

    loader = botocore.loaders.create_loader()
    botocore.session.create_loader = lambda search_path_string=None: loader


_share_one_botocore_loader()

from tests.support import moto_speedups  # noqa: E402 - after the loader is shared

moto_speedups.apply()


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


@pytest.fixture
def tables(aws_mock):
    """Every table of infra/tables.json, created as the local stack creates them."""
    import boto3

    from devstack.provision import provision_tables

    return provision_tables(boto3.client("dynamodb", region_name="us-east-1"))


# Every AWS call a function (infra/functions.json, or the API) makes in the suite is recorded and
# must be allowed by that function's policy (tests/support/iam.py); the e2e stacks record theirs
# in build/test-output. Installed at import: before any botocore session exists.
from devstack import aws_calls  # noqa: E402

AWS_CALLS = aws_calls.install()


def _is_worker(config) -> bool:
    """A pytest-xdist worker (`make test` runs two): the controller merges what each one saw."""
    return hasattr(config, "workerinput")


def pytest_sessionstart(session):
    import tempfile

    from tests.support.iam import E2E_CALL_LOGS_SETTING

    # Workers inherit the controller's folder: set here before xdist (trylast) starts them.
    if not _is_worker(session.config):
        os.environ[E2E_CALL_LOGS_SETTING] = tempfile.mkdtemp(prefix="aws-calls-e2e-")
        from devstack.leftovers import state_folders

        _STATE_FOLDERS_AT_START.update(state_folders())


_STATE_FOLDERS_AT_START = set()


def _fail_on_abandoned_state_folders(session):
    """A stack or a test that did not stop what it started leaves its state folder behind (each
    names its owner, gone by now): the run fails, naming them. Another run's folders, and those of
    processes still running, are not this run's to judge."""
    from devstack.leftovers import abandoned

    left = [str(folder) for folder in abandoned() if folder not in _STATE_FOLDERS_AT_START]
    if left:
        session.config.get_terminal_writer().line(
            f"\nstate folders left by this run (a stack or a test did not stop what it started): {', '.join(left)}",
            red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(tryfirst=True)  # before xdist's worker turns the marks into its scheduling groups
def pytest_collection_modifyitems(config, items):
    """With `--dist loadgroup` (`make test`), tests that share session fixtures run on one worker:
    every e2e test (the running stacks), the Terraform tests (one workspace, init and `terraform
    test` run); every other module is a unit of its own, so its module fixtures start once."""
    if getattr(config.option, "dist", "no") != "loadgroup":
        return
    for item in items:
        path = item.path.relative_to(config.rootpath).as_posix()
        group = ("e2e" if path.startswith("tests/e2e/")
                 else "terraform" if path.startswith("tests/unit/terraform/") else path)
        item.add_marker(pytest.mark.xdist_group(group))


_WORKER_CALLS = []


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: absent when xdist is not loaded
def pytest_testnodedown(node, error):
    _WORKER_CALLS.extend(aws_calls.Call(**call) for call in getattr(node, "workeroutput", {}).get("aws_calls", []))


class _RefusalCollector:
    def __init__(self):
        from tests.support.iam import PolicyBook

        self.book = PolicyBook()
        self.verdicts = {}
        self.refused = []

    def __call__(self, call):
        if call not in self.verdicts:
            self.verdicts[call] = self.book.allowing(call) is not None
        if not self.verdicts[call]:
            self.refused.append(call)


_REFUSALS = None


@pytest.fixture(autouse=True)
def _aws_calls_are_allowed():
    """A test whose code under test makes an AWS call its function's policy does not allow fails."""
    global _REFUSALS
    if _REFUSALS is None:
        _REFUSALS = _RefusalCollector()
        AWS_CALLS.listeners.append(_REFUSALS)
    _REFUSALS.refused.clear()
    yield
    refused = sorted(set(_REFUSALS.refused), key=aws_calls.Call.sort_key)
    _REFUSALS.refused.clear()
    assert not refused, ("AWS calls no statement of the function's policy allows (infra/access.json, "
                         "infra/functions.json access):\n" + "\n".join(map(str, refused)))


def pytest_sessionfinish(session, exitstatus):
    """Writes every call seen to build/test-output/aws-calls.json and names those missing from
    tests/fixtures/aws_calls.json, the record tests/unit/terraform/test_access_policies.py reads.
    It does not fail the run: which calls a run makes depends on what it selected and on timing
    (scheduled functions); each call was already checked against its policy by the test making it."""
    import shutil
    from pathlib import Path

    from tests.support.iam import E2E_CALL_LOGS_SETTING, RECORD, TEST_OUTPUT, read_record, write_record

    if _is_worker(session.config):
        session.config.workeroutput["aws_calls"] = [call.as_json() for call in AWS_CALLS.calls]
        return
    _fail_on_abandoned_state_folders(session)
    calls = set(AWS_CALLS.calls) | set(_WORKER_CALLS)
    e2e_logs = Path(os.environ.get(E2E_CALL_LOGS_SETTING, ""))
    if e2e_logs.name:
        for log in e2e_logs.glob("*.jsonl"):
            calls |= aws_calls.read_log(log)
        shutil.rmtree(e2e_logs, ignore_errors=True)
    write_record(calls, TEST_OUTPUT / "aws-calls.json")
    unrecorded = sorted(calls - read_record(), key=aws_calls.Call.sort_key)
    if unrecorded:
        session.config.get_terminal_writer().line(
            f"\n{len(unrecorded)} AWS calls seen are missing from {RECORD.relative_to(session.config.rootpath)}: "
            "after a whole run, add those of build/test-output/aws-calls.json", yellow=True)
