"""An error's chain of causes (chalicelib/errors.py)."""
from chalicelib.errors import MAX_CHAIN, error_chain


class Wrapper(Exception):
    """As pynamodb's errors: the wrapped error in a ``cause`` attribute, raised without ``from``."""

    def __init__(self, message, cause):
        super().__init__(message)
        self.cause = cause


def raised(make):
    try:
        make()
    except Exception as exc:
        return exc
    raise AssertionError("nothing raised")


def explicit_chain():
    def inner():
        raise KeyError("root")

    def outer():
        try:
            inner()
        except KeyError as exc:
            raise ValueError("wrapped") from exc

    return raised(outer)


def test_the_chain_follows_raise_from_nearest_first():
    assert [type(seen) for seen in error_chain(explicit_chain())] == [ValueError, KeyError]


def test_a_cause_attribute_is_followed_before_the_implicit_context():
    wrapped, handled = KeyError("wrapped"), OSError("being handled")
    error = Wrapper("put failed", wrapped)
    error.__context__ = handled
    assert list(error_chain(error)) == [error, wrapped]


def test_the_implicit_context_is_followed_only_when_asked():
    def handling():
        try:
            raise KeyError("refused condition")
        except KeyError:
            raise OSError("connection lost")

    error = raised(handling)
    assert [type(seen) for seen in error_chain(error)] == [OSError, KeyError]
    assert [type(seen) for seen in error_chain(error, implicit=False)] == [OSError]


def test_a_chain_that_loops_ends_at_the_limit():
    first, second = ValueError("a"), ValueError("b")
    first.__cause__, second.__cause__ = second, first
    assert len(list(error_chain(first))) == MAX_CHAIN
    assert len(list(error_chain(first, limit=3))) == 3
