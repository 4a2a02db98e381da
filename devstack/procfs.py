"""Processes as Linux's /proc describes them (psutil reads the same files and is no dependency of ours)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional


def _stat_fields(stat: Path) -> Optional[list[str]]:
    """The fields of a ``/proc/<pid>/stat`` after the command: state, ppid, ... (None when it is gone)."""
    try:
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")".
        return stat.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def process_stopped(pid: int) -> bool:
    """Whether ``pid`` is stopped by a signal (SIGSTOP: state T)."""
    fields = _stat_fields(Path(f"/proc/{pid}/stat"))
    return bool(fields) and fields[0] == "T"


def process_running(pid: int) -> bool:
    """Whether ``pid`` runs; a zombie is gone too, whether or not its parent has reaped it yet."""
    fields = _stat_fields(Path(f"/proc/{pid}/stat"))
    return bool(fields) and fields[0] != "Z"


def children_of(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _stat_fields(stat)
        if fields and len(fields) > 1 and fields[1] == str(pid):
            children.append(int(stat.parent.name))
    return children
