"""The command line every benchmark shares: `--help` says what it measures and starts nothing, its one
optional count is a positive whole number, and Ctrl-C ends it with status 130, saying so, without a
traceback (a Ctrl-C at the terminal reaches `make bench` and the benchmark it is running alike)."""
from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import threading
from typing import Any, Callable, Optional

from tools.loadgen.report import EXIT_INTERRUPTED


def positive_count(text: str) -> int:
    if not text.isdecimal() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a positive whole number, not {text!r}")
    return int(text)


def interruptible(prog: str, run: Callable[[], int]) -> int:
    try:
        return run()
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted; no figures", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED


def run_to_the_end(command: list[str], **options: Any) -> int:
    """``subprocess.run(command).returncode``, where a SIGTERM to this process reaches the child as the
    Ctrl-C it already handles (a benchmark stops its servers, pytest tears down its stacks), is waited for,
    then ends this one with 143. Left alone, the child and the stacks it started ran on without a parent."""
    child = subprocess.Popen(command, **options)
    terminated = []

    def forward(signum: int, _frame: Any) -> None:
        terminated.append(signum)
        child.send_signal(signal.SIGINT)

    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, forward) if in_main_thread else None
    try:
        code = child.wait()
    except KeyboardInterrupt:  # the terminal's Ctrl-C reached the child too: let it stop what it started
        child.wait()
        raise
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
    if terminated:
        raise SystemExit(128 + terminated[0])
    return code


def run_benchmark(module: str, doc: str, main: Callable[[list[str]], int], count: Optional[str] = None,
                  argv: Optional[list[str]] = None) -> int:
    """Parse ``argv`` (``count`` names the optional positional count, e.g. "requests (default 200)") and run."""
    prog = f"python -m {module}"
    parser = argparse.ArgumentParser(prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    if count:
        parser.add_argument("count", nargs="?", type=positive_count, help=count)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    given = [str(args.count)] if getattr(args, "count", None) else []
    return interruptible(prog, lambda: main(given))
