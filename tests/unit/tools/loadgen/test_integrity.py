"""The integrity check when the service cannot be asked."""
from devstack.ports import free_port
from tools.loadgen.integrity import Ledger, check_integrity
from tools.loadgen.scenario import IntegritySpec


def test_a_service_that_stopped_answering_leaves_the_check_failed_and_saying_why():
    url = f"http://127.0.0.1:{free_port()}"
    ledger = Ledger(expected={"user-1": {"name": "Ann"}})
    report = check_integrity(url, IntegritySpec(read="/api/users/{id}", list="/api/users"), ledger, timeout=5)
    assert not report.ok
    assert report.error.startswith(f"no answer from {url} (ClientConnectorError") and "cannot check" in report.error
