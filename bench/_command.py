"""The command line every benchmark shares: `--help` says what it measures and starts nothing, its one
optional count is a positive whole number, and Ctrl-C ends it with status 130, saying so, without a
traceback (a Ctrl-C at the terminal reaches `make bench` and the benchmark it is running alike)."""
from __future__ import annotations

import argparse
import sys
from typing import Callable, Optional

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
