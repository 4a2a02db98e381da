"""`python -m bench` (`make bench`): every benchmark in this folder, one after another.

Each runs in a fresh interpreter: a benchmark that starts a local stack in-process points the
AWS settings of its process at it (AWS_ENDPOINT_URL), which would leak into the next one.
"""
from __future__ import annotations

import pkgutil
import sys
from pathlib import Path

from bench._command import run_to_the_end


def main(argv: list[str]) -> int:
    import argparse

    from bench._command import interruptible

    # No options: a --help (or a typo) must not start every benchmark.
    argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0]).parse_args(argv)
    return interruptible("bench", run_every_benchmark)


def run_every_benchmark() -> int:
    names = sorted(info.name for info in pkgutil.iter_modules([str(Path(__file__).parent)])
                   if not info.name.startswith("_"))
    failed = []
    for name in names:
        print(f"\n=== bench.{name} ===", flush=True)
        if run_to_the_end([sys.executable, "-m", f"bench.{name}"]) != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
