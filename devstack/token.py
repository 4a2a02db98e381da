"""`python -m devstack.token` (`make token`): the operator token of the local stack running on a port.

The stack writes what a client needs to reach it to ``.devstack/stack-<port>.json`` (readable by
its owner only) when it is ready, and removes the file when it stops.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Optional

from devstack.ports import DEFAULT_PORT, port_number
from tools.loadgen.local_stack import run_command, token_command  # noqa: F401 (devstack's commands are the tools')

STATE_DIR = Path(".devstack")


def state_path(port: int, directory: Path = STATE_DIR) -> Path:
    return directory / f"stack-{port}.json"


def write_state(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(state, handle, indent=2)


def running_state(path: Path) -> Optional[dict[str, Any]]:
    """The state a running stack wrote, or None (no file, or its process is gone)."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    try:
        os.kill(int(state["pid"]), 0)
    except (KeyError, TypeError, ValueError, ProcessLookupError):
        return None
    except PermissionError:  # alive, someone else's
        pass
    return state


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.token", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=port_number, default=os.environ.get("DEVSTACK_PORT", str(DEFAULT_PORT)),
                        help="the stack's app port (env DEVSTACK_PORT, default 8000)")
    parser.add_argument("--dir", type=Path, default=STATE_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    state = running_state(state_path(args.port, args.dir))
    if state is None:
        print(f"no local stack is running on port {args.port} (start one with `{run_command(args.port)}`)",
              file=sys.stderr)
        return 1
    print(state["operator_token"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
