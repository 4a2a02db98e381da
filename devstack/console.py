"""What the local stack prints: every line of the service to a log file, the few worth reading to the console.

The app writes one EMF record per request (the access log) and its structured logs to
stdout, as Lambda expects. Locally that is a line per request; the console shows only
errors, warnings and state changes, and the banner names the file that has everything.
"""
from __future__ import annotations

import io
import json
import threading
from typing import IO

# INFO lines that report a change of state somebody watching the stack wants to see.
STATE_CHANGE_MESSAGES = frozenset({
    "Circuit breaker transition",
    "Breaker storage answering again; using shared state",
    "slo alert resolved",
})
# How the metrics library writes an EMF record (its "_aws" member first).
EMF_RECORD_START = '{"_aws":'
SHOWN_LEVELS = frozenset({"WARNING", "ERROR", "CRITICAL", "EXCEPTION"})


def worth_showing(line: str) -> bool:
    """Errors, warnings, state changes and anything that is not a structured record (tracebacks, prints)."""
    if line.startswith(EMF_RECORD_START):  # one per request: skip parsing it (it was a tenth of a list request)
        return False
    try:
        record = json.loads(line)
    except ValueError:
        return bool(line.strip())
    if not isinstance(record, dict):
        return True
    if "_aws" in record:  # an EMF record: one per request
        return False
    return str(record.get("level", "")).upper() in SHOWN_LEVELS or record.get("message") in STATE_CHANGE_MESSAGES


class ConsoleLog(io.TextIOBase):
    """A stdout replacement: each complete line goes to ``log_file``, and to ``console`` when worth showing."""

    def __init__(self, log_file: IO[str], console: IO[str]) -> None:
        self._log_file = log_file
        self._console = console
        self._partial = ""
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._lock:
            lines = (self._partial + text).split("\n")
            self._partial = lines.pop()
            for line in lines:
                self._log_file.write(line + "\n")
                if worth_showing(line):
                    self._console.write(line + "\n")
            if lines:
                self._log_file.flush()
                self._console.flush()
        return len(text)

    def flush(self) -> None:
        with self._lock:
            self._log_file.flush()
            self._console.flush()
