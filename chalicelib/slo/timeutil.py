"""Minute-aligned UTC time: bucket keys, window arithmetic, durations like ``30d``."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
_DURATION = re.compile(r"^([1-9][0-9]*)([mhdw])$")
_UNIT_MINUTES = {"m": 1, "h": 60, "d": 1440, "w": 10080}


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def floor_minute(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(second=0, microsecond=0)


def floor_hour(moment: datetime) -> datetime:
    return floor_minute(moment).replace(minute=0)


def floor_day(moment: datetime) -> datetime:
    return floor_hour(moment).replace(hour=0)


def ceil_hour(moment: datetime) -> datetime:
    floored = floor_hour(moment)
    return floored if floored == moment else floored + HOUR


def ceil_day(moment: datetime) -> datetime:
    floored = floor_day(moment)
    return floored if floored == moment else floored + DAY


def bucket_key(moment: datetime) -> str:
    """Sortable key of a minute: ``2026-12-01T09:37Z``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%MZ")


def parse_bucket_key(key: str) -> datetime:
    return datetime.strptime(key, "%Y-%m-%dT%H:%MZ").replace(tzinfo=timezone.utc)


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_iso(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def duration_minutes(text: str) -> int:
    """``5m``, ``1h``, ``30d``, ``1w`` as whole minutes; ValueError otherwise."""
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"{text!r} is not a duration like 5m, 1h, 30d or 1w")
    return int(match.group(1)) * _UNIT_MINUTES[match.group(2)]


def format_minutes(minutes: int) -> str:
    """The shortest exact form in days, hours or minutes: 1440 -> ``1d``, 90 -> ``90m``."""
    for unit, size in (("d", 1440), ("h", 60)):
        if minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"
