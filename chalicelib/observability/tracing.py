"""Powertools Tracer, imported only when tracing is enabled (aws_xray_sdk costs ~140 ms)."""
from __future__ import annotations

import contextlib
from typing import Any, Iterator, Optional



def get_tracer() -> Optional[Any]:
    """The process's tracer, None when tracing is off (``chalicelib.wiring`` builds it)."""
    from chalicelib.wiring import current

    return current().tracer


@contextlib.contextmanager
def request_segment(route: str, correlation_id: str) -> Iterator[None]:
    tracer = get_tracer()
    if tracer is None:
        yield
        return
    with tracer.provider.in_subsegment(f"## {route}") as subsegment:
        subsegment.put_annotation("route", route)
        subsegment.put_annotation("correlation_id", correlation_id)
        yield
