"""An error's chain of causes, walked the same way by whoever asks what an error was."""
from __future__ import annotations

from typing import Iterator, Optional

# Chains are a few errors long (pynamodb's wrapping of botocore's, a repository's wrapping of
# that); the bound is for a chain that loops back on itself.
MAX_CHAIN = 5


def error_chain(exc: BaseException, *, implicit: bool = True, limit: int = MAX_CHAIN) -> Iterator[BaseException]:
    """``exc``, then what caused it, nearest first, at most ``limit`` errors: ``raise ... from``
    (``__cause__``) or pynamodb's ``cause`` attribute (the botocore error it wraps), and with
    ``implicit`` the error being handled when it was raised (``__context__``)."""
    seen: Optional[BaseException] = exc
    for _ in range(limit):
        if seen is None:
            return
        yield seen
        cause = getattr(seen, "cause", None)
        following = cause if isinstance(cause, BaseException) else seen.__cause__
        seen = following if following is not None or not implicit else seen.__context__
