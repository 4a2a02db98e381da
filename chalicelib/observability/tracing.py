"""Powertools Tracer, imported only when tracing is enabled (aws_xray_sdk costs ~140 ms)."""
from __future__ import annotations

import contextlib
from functools import lru_cache
from typing import Any, Iterator, Optional

from chalicelib.settings import get_settings


@lru_cache(maxsize=1)
def get_tracer() -> Optional[Any]:
    settings = get_settings()
    if not settings.tracing_enabled:
        return None
    from aws_lambda_powertools import Tracer

    return Tracer(service=settings.service_name)


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
