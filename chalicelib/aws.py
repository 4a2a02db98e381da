"""Cached boto3 clients, built on first use so importing the app stays cheap.

The endpoint comes from botocore's own ``AWS_ENDPOINT_URL`` setting, which the
local stack points at its embedded AWS.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalicelib.settings import get_settings


@lru_cache(maxsize=None)
def client(service: str) -> Any:
    import boto3  # ~90 ms: only paid by the first request that needs AWS

    return boto3.session.Session().client(service, region_name=get_settings().region)


def reset_clients() -> None:
    client.cache_clear()
