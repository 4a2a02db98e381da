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


def test_a_listing_that_is_no_array_of_objects_fails_the_check_saying_so(service):
    """integrity.list naming /health/live (an object) ended the run in AttributeError: 'str' has no 'get'."""
    ledger = Ledger(expected={"user-1": {"name": "Ann"}})
    report = check_integrity(service.base_url, IntegritySpec(read="/users/{id}", list="/ping"), ledger, timeout=5)
    assert not report.ok
    assert report.error == ("GET /ping answered no JSON array of objects; cannot check integrity "
                            "(integrity.list names the listing of the resources)")


def test_a_listing_that_repeats_its_cursor_fails_the_check_instead_of_paging_forever(service):
    service.list_cursor = "same"
    report = check_integrity(service.base_url, IntegritySpec(read="/users/{id}", list="/users"), Ledger(), timeout=5)
    assert report.error == ("GET /users?cursor=same answered a cursor it had answered before (same); "
                            "cannot check integrity")
