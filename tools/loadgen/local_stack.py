"""The make commands that start the local stack on a port and print its operator token, in one
place: the stack's banner and advice (devstack) and the tools' hints for a base URL say the same."""
from __future__ import annotations

from typing import Optional
from urllib.parse import urlsplit

DEFAULT_PORT = 8000  # make run's
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def run_command(port: int) -> str:
    """What starts the local stack on ``port``."""
    return "make run" if port == DEFAULT_PORT else f"make run PORT={port}"


def token_command(port: int) -> str:
    """What prints the token of the stack on ``port``: ``make token`` reads port 8000's unless told another."""
    return "make token" if port == DEFAULT_PORT else f"make token PORT={port}"


def local_port(base_url: str) -> Optional[int]:
    """The port of a base URL on this machine (where a local stack may run), else None."""
    try:
        parts = urlsplit(base_url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    return port if parts.hostname in LOOPBACK_HOSTS else None
