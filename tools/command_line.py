"""What the command-line tools (loadgen, capacity-test, bench-soak) share: options parsed by click.

click, not argparse: argparse takes a value starting with '-' for an option unless it looks like a
plain negative number (CPython gh-53580), so ``--duration -5s`` was "expected one argument" while
``--duration=-5s`` got the real refusal. click reads the word after an option as its value, so both
spellings reach the same check, and its ranges (``IntRange(min=1)``) name the option they refuse.
"""
from __future__ import annotations

import os
import sys
from typing import Any, NoReturn, Optional, Sequence

import click

from tools.loadgen.profile import parse_duration

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class Duration(click.ParamType):
    """Seconds from ``30s``, ``2m``, ``1h``, ``250ms`` or a plain number of seconds."""

    name = "duration"

    def convert(self, value: Any, param: Optional[click.Parameter], ctx: Optional[click.Context]) -> float:
        if isinstance(value, float):
            return value
        try:
            seconds = parse_duration(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        if seconds <= 0:
            self.fail(f"a duration is positive, not {value!r} (use e.g. 30s, 2m, 1h)", param, ctx)
        return seconds


def parse_options(command: click.Command, argv: Optional[Sequence[str]], prog: str) -> click.Context:
    """The parsed options; a usage error (or --help) is printed and exits 2 (0), as argparse does."""
    try:
        return command.make_context(prog, list(sys.argv[1:] if argv is None else argv))
    except click.exceptions.Exit as exc:  # --help, printed
        raise SystemExit(exc.exit_code) from None
    except click.ClickException as exc:
        exc.show()
        raise SystemExit(exc.exit_code) from None


def refuse(ctx: click.Context, message: str) -> NoReturn:
    """A usage error found after parsing: said as click says its own, exit status 2."""
    error = click.UsageError(message, ctx)
    error.show()
    raise SystemExit(error.exit_code)


def stdout_console(**options: Any) -> Any:
    """A rich console on stdout whose broken pipe is ``print_to_stdout``'s to handle: rich's own handling
    exits with status 1, which took the place of the run's."""
    from rich.console import Console

    class StdoutConsole(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError

    return StdoutConsole(**options)


def print_to_stdout(write: Any) -> None:
    """Run ``write`` (which prints the report); a reader that went away (``| head``) ends the printing
    quietly, as the Python documentation's SIGPIPE note does, and leaves the run's exit status as it is."""
    try:
        write()
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the interpreter's own flush at exit would fail again
