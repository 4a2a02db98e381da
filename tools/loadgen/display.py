"""The live view of a run (rich): phase, time left, rate, errors, p95 so far."""
from __future__ import annotations

import asyncio
import time
from typing import Any

from tools.loadgen.engine import Runner


def progress_table(runner: Runner, last: dict[str, float]) -> Any:
    from rich.table import Table

    progress, recorder = runner.progress, runner.recorder
    now = time.monotonic()
    interval = max(now - last.get("at", now - 1), 1e-3)
    current_rate = (recorder.completed - last.get("completed", 0)) / interval
    last.update(at=now, completed=recorder.completed)
    elapsed = progress.elapsed()
    # Nothing answered yet: no figure, rather than a 0.0 ms no request took.
    p95 = f"{recorder.latency.get_value_at_percentile(95) / 1000:7.1f} ms" if recorder.completed else "      - ms"
    table = Table.grid(padding=(0, 2))
    table.add_row(f"[bold]{runner.scenario.name}[/] {runner.run_id}", f"phase {progress.phase}",
                  f"{elapsed:5.1f}/{progress.duration:g} s", f"left {max(0.0, progress.duration - elapsed):5.1f} s")
    table.add_row(f"completed {recorder.completed}", f"requests {current_rate:7.1f}/s",
                  f"unexpected {recorder.unexpected}", f"p95 {p95}")
    table.add_row(f"in flight {progress.in_flight}", f"dropped {progress.dropped}", f"skipped {progress.skipped}",
                  f"5xx/no answer {recorder.server_errors}")
    return table


async def show_progress(runner: Runner, console: Any, refresh_seconds: float = 0.5) -> None:
    """Redraw until the run finishes (run it as a task next to ``runner.run()``)."""
    from rich.live import Live

    last: dict[str, float] = {}
    with Live(progress_table(runner, last), console=console, refresh_per_second=4, transient=True) as live:
        while not runner.progress.finished:
            await asyncio.sleep(refresh_seconds)
            live.update(progress_table(runner, last))
