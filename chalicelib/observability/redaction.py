"""E-mail addresses out of log text: no log line carries a raw address (also read by gunicorn's
error log, which must not import the app's Powertools logger)."""
from __future__ import annotations

import re

# "%40" and "%2E" too: a path segment reaches the log as sent (an audit line's target), so an
# address typed into a URL arrived percent-encoded, and whole.
_LOCAL_PART = r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+"
_AT = r"(?:@|%40)"
_DOT = r"(?:\.|%2[Ee])"
_LABEL = r"[A-Za-z0-9-]+"
EMAIL_PATTERN = re.compile(rf"{_LOCAL_PART}{_AT}{_LABEL}(?:{_DOT}{_LABEL})+")
# An address, else the whole run of local-part characters: searching for the address alone restarts
# at every character of a run that holds none, quadratic in its length (a minute for 100 000).
_ADDRESS_OR_RUN = re.compile(rf"(?P<address>{EMAIL_PATTERN.pattern})|{_LOCAL_PART}")
REDACTED = "[redacted-email]"


def _redacted_address(match: re.Match[str]) -> str:
    return REDACTED if match.group("address") else match.group()


def redact_emails(text: str) -> str:
    if "@" not in text and "%40" not in text:  # most records: no address, no regex
        return text
    return _ADDRESS_OR_RUN.sub(_redacted_address, text)
