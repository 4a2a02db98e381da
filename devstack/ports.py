from __future__ import annotations

import argparse
import errno
import socket


# The app's port of `make run` (DEVSTACK_PORT overrides it), and the one `make token` reads.
DEFAULT_PORT = 8000


class PortInUse(RuntimeError):
    pass


def port_number(text: str) -> int:
    """1-65535, for argparse (which also applies it to the environment's string defaults)."""
    if not text.strip().isdecimal() or not 0 < int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 1 to 65535, not {text!r}")
    return int(text)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def ensure_free(host: str, port: int, what: str) -> None:
    """Fail with a clear message instead of a half-started stack when ``port`` is taken.

    SO_REUSEADDR, as the servers themselves bind: connections of a stack stopped a moment ago
    linger in TIME-WAIT for a minute, and only a listening socket means the port is taken.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                raise PortInUse(f"{what}: {host}:{port} is already in use; choose another port "
                                f"(see `python -m devstack --help`)") from None
            raise
