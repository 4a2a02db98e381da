"""Structured JSON logs (Powertools Logger) that never carry a raw email address."""
from __future__ import annotations

import logging
import sys
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from chalicelib.observability.redaction import redact_emails


class RedactingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: Any) -> str:
        return redact_emails(super().serialize(log))


class CurrentStdoutHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stdout`` is now, so redirected output (tests, local runner) gets the logs."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def build_logger(service_name: str) -> Logger:
    """A Powertools Logger for ``service_name``, writing redacted JSON to the current stdout.

    Python's loggers are process-wide: once a Powertools Logger has configured the one for
    ``service_name``, later ones (a re-built wiring) share its handler and formatter.
    """
    if getattr(logging.getLogger(service_name), "powertools_handler", None):
        return Logger(service=service_name)
    return Logger(service=service_name, logger_formatter=RedactingFormatter(), logger_handler=CurrentStdoutHandler())


def adopt_library_logs(logger: Logger, name: str, level: int = logging.WARNING) -> None:
    """Records of the library logger ``name`` (and its children) at ``level`` and above become the
    service's JSON lines, with their ``location`` and this thread's request keys. Without this,
    Python's last-resort handler prints them as bare text on stderr, and a message spanning lines
    (psycopg's "connection failed ... Is the server running") is several log events."""
    library = logging.getLogger(name)
    library.setLevel(level)
    library.handlers = [logger.registered_handler]
    library.propagate = False


def get_logger() -> Logger:
    """The process's logger (``chalicelib.wiring`` builds it); logging reaches every layer, so
    code that is not handed one may ask for it here."""
    from chalicelib.wiring import current

    return current().logger
