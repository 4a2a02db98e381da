"""describe_failure: the cause chain a 5xx's log record carries."""
from chalicelib.observability.middleware import describe_failure


class PoolTimeout(Exception):
    pass


def _raised_from(error, cause):
    """``error`` as it is caught after being raised from ``cause``."""
    try:
        try:
            raise cause
        except type(cause) as caught:
            raise error from caught
    except type(error) as raised:
        return raised


def test_the_chain_is_told_from_the_error_to_its_cause():
    error = _raised_from(RuntimeError("store failed"), KeyError("k"))
    assert describe_failure(error) == "RuntimeError: store failed <- KeyError: 'k'"


def test_an_error_re_raised_as_itself_is_told_once():
    message = "couldn't get a connection after 1.00 sec"
    assert describe_failure(_raised_from(PoolTimeout(message), PoolTimeout(message))) == f"PoolTimeout: {message}"


def test_a_chain_that_loops_ends():
    first, second = RuntimeError("a"), RuntimeError("b")
    first.__cause__, second.__cause__ = second, first
    assert describe_failure(first) == "RuntimeError: a <- RuntimeError: b <- RuntimeError: a <- RuntimeError: b"
