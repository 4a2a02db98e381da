"""gunicorn's error log without e-mail addresses: its warnings quote what a client sent as sent (a
malformed request line, a header), and this log goes to the console and, deployed, to CloudWatch."""
from __future__ import annotations

import logging
from typing import Any

from gunicorn.glogging import Logger

from chalicelib.observability.redaction import redact_emails


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact_emails(record.getMessage()), None
        return True


class RedactingLogger(Logger):
    """gunicorn's logger (``logger_class``), its error log filtered through ``RedactingFilter``."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        if not any(isinstance(existing, RedactingFilter) for existing in self.error_log.filters):
            self.error_log.addFilter(RedactingFilter())
