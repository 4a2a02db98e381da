"""Structured JSON logs (Powertools Logger) that never carry a raw email address."""
from __future__ import annotations

import logging
import re
import sys
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from chalicelib.settings import get_settings

EMAIL_PATTERN = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def redact_emails(text: str) -> str:
    return EMAIL_PATTERN.sub("[redacted-email]", text)


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


@lru_cache(maxsize=1)
def get_logger() -> Logger:
    return Logger(service=get_settings().service_name, logger_formatter=RedactingFormatter(),
                  logger_handler=CurrentStdoutHandler())
