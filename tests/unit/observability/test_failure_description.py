"""describe_failure: the cause chain a 5xx's log record carries."""
from chalicelib.observability.middleware import describe_failure


class PoolTimeout(Exception):
    pass


def _raised(make):
    try:
        make()
    except Exception as exc:  # noqa: BLE001 - the test keeps what was raised
        return exc
    raise AssertionError("nothing was raised")


def test_the_chain_is_told_from_the_error_to_its_cause():
    def fail():
        try:
            raise KeyError("k")
        except KeyError as exc:
            raise RuntimeError("store failed") from exc

    assert describe_failure(_raised(fail)) == "RuntimeError: store failed <- KeyError: 'k'"


def test_an_error_re_raised_as_itself_is_told_once():
    def fail():
        try:
            raise PoolTimeout("couldn't get a connection after 1.00 sec")
        except PoolTimeout as exc:
            raise PoolTimeout("couldn't get a connection after 1.00 sec") from exc

    assert describe_failure(_raised(fail)) == "PoolTimeout: couldn't get a connection after 1.00 sec"


def test_a_chain_that_loops_ends():
    first, second = RuntimeError("a"), RuntimeError("b")
    first.__cause__, second.__cause__ = second, first
    assert describe_failure(first) == "RuntimeError: a <- RuntimeError: b <- RuntimeError: a <- RuntimeError: b"
