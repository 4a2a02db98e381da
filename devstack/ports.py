from __future__ import annotations

import argparse
import errno
import os
import socket
from pathlib import Path
from typing import Optional

# The app's port of `make run` (DEVSTACK_PORT overrides it), and the one `make token` reads.
from tools.loadgen.local_stack import DEFAULT_PORT  # noqa: F401 (one value for the stack and the tools' hints)


class PortInUse(RuntimeError):
    def __init__(self, message: str, port: int) -> None:
        super().__init__(message)
        self.port = port


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
                holder = listening_process(port)
                by = f" by {holder}" if holder else ""
                raise PortInUse(f"{what}: {host}:{port} is already in use{by}", port) from None
            raise


def next_free_port(host: str, after: int, tries: int = 100) -> int:
    """The first port above ``after`` free on ``host`` (the one a person would try next), else any free one."""
    for port in range(after + 1, min(after + tries, 65535) + 1):
        try:
            ensure_free(host, port, "")
        except (PortInUse, OSError):
            continue
        return port
    return free_port(host)


def listening_process(port: int, proc: Path = Path("/proc")) -> Optional[str]:
    """``process <pid> (<command line>)`` of the process listening on TCP ``port``, when this machine
    says (Linux's /proc: the listening socket's inode, then the process holding it; psutil would
    read the same files and is no dependency of ours). None elsewhere, or for another user's process."""
    inodes = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = (proc / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    for process in proc.glob("[0-9]*"):
        try:
            if any(os.readlink(fd) in inodes for fd in (process / "fd").iterdir()):
                command = (process / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                return f"process {process.name} ({command.strip()[:200]})"
        except OSError:
            continue
    return None
