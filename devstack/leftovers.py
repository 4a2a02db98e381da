"""What a local stack killed without a chance to stop (SIGKILL, a crash) leaves behind: the embedded
AWS's journal folder and the ECS variant's PostgreSQL, still running with its data folder.

Each such folder names the process that made it (``owner.pid``); a stack starting removes those
whose owner is gone, stopping their PostgreSQL first. A folder without the file is left alone.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Optional

from devstack.procfs import process_running

OWNER_FILE = "owner.pid"
PREFIXES = ("devstack-aws-", "pg-")


def claim(folder: Path) -> None:
    """Name this process as ``folder``'s owner."""
    (Path(folder) / OWNER_FILE).write_text(str(os.getpid()))


def _abandoned(folder: Path) -> bool:
    try:
        owner = int((folder / OWNER_FILE).read_text())
    except (OSError, ValueError):
        return False
    return owner != os.getpid() and not process_running(owner)


def state_folders(parent: Optional[Path] = None) -> list[Path]:
    """The local stacks' state folders in ``parent`` (the temp folder): journals and PostgreSQL clusters."""
    root = Path(parent or tempfile.gettempdir())
    return sorted(path for prefix in PREFIXES for path in root.glob(f"{prefix}*") if path.is_dir())


def abandoned(parent: Optional[Path] = None) -> list[Path]:
    """The state folders in ``parent`` (the temp folder) of stacks (or test runs) that are gone."""
    return [folder for folder in state_folders(parent) if _abandoned(folder)]


def remove_abandoned(parent: Optional[Path] = None) -> list[str]:
    """Remove what stacks (or test runs) that are gone left in ``parent`` (the temp folder); says what."""
    from devstack.postgres import PostgresCluster, postgres_bindir

    removed = []
    for folder in abandoned(parent):
        if folder.name.startswith("pg-") and postgres_bindir() is not None:
            PostgresCluster.at(folder).destroy()
            removed.append(f"PostgreSQL in {folder} (stopped)")
        else:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(str(folder))
    return removed
