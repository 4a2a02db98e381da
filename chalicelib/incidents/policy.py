"""The escalation matrix and response times, as configuration.

Defaults follow the incident-response document (runbooks/severity-matrix.md,
runbooks/escalation-matrix.md); the environment overrides them (see Settings).
A level without ``topic_arn`` pages the shared pages topic, with the message
attributes ``level`` and ``severity`` that subscription filter policies select on.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Optional

from chalicelib.incidents.model import SEVERITIES
from chalicelib.settings import IncidentSettings

DEFAULT_ROLES = ("On-call engineer", "Senior engineer", "Engineering manager", "Director/VP")
MAX_RESPONSE_SECONDS = 7 * 24 * 3600


class PolicyInvalid(ValueError):
    """The configured escalation policy cannot be used; the message says which setting and why."""


@dataclass(frozen=True)
class EscalationLevel:
    level: int
    role: str
    topic_arn: Optional[str] = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"level": self.level, "role": self.role}
        if self.topic_arn:
            body["topic_arn"] = self.topic_arn
        return body


@dataclass(frozen=True)
class EscalationPolicy:
    response_seconds: dict[str, int]
    levels: tuple[EscalationLevel, ...]
    repeat_last_level: bool = True
    max_repeats: int = 200
    auto_resolve_sources: frozenset[str] = frozenset({"slo", "breaker"})

    def level(self, number: int) -> EscalationLevel:
        for level in self.levels:
            if level.level == number:
                return level
        raise KeyError(number)

    @property
    def last_level(self) -> int:
        return self.levels[-1].level

    @classmethod
    def from_settings(cls, settings: IncidentSettings) -> "EscalationPolicy":
        return cls(
            response_seconds=parse_response_seconds(settings.response_seconds),
            levels=parse_levels(settings.escalation_levels),
            repeat_last_level=settings.escalation_repeat_last_level,
            max_repeats=_non_negative(settings.escalation_max_repeats, "ESCALATION_MAX_REPEATS"),
            auto_resolve_sources=frozenset(
                part.strip() for part in settings.auto_resolve_sources.split(",") if part.strip()),
        )


def _non_negative(value: int, name: str) -> int:
    if value < 0:
        raise PolicyInvalid(f"{name} must be >= 0, got {value}")
    return value


def parse_response_seconds(raw: str) -> dict[str, int]:
    """``P0=900,P1=3600,...``: every severity present, each 1 s to 7 days."""
    result: dict[str, int] = {}
    for part in raw.split(","):
        if not part.strip():
            continue
        severity, sep, seconds = part.partition("=")
        severity = severity.strip().upper()
        if not sep or severity not in SEVERITIES or not seconds.strip().isdigit():
            raise PolicyInvalid(f"INCIDENT_RESPONSE_SECONDS: '{part.strip()}' is not <P0-P3>=<seconds>")
        value = int(seconds)
        if not 1 <= value <= MAX_RESPONSE_SECONDS:
            raise PolicyInvalid(f"INCIDENT_RESPONSE_SECONDS: {severity} must be 1..{MAX_RESPONSE_SECONDS} s")
        result[severity] = value
    missing = [severity for severity in SEVERITIES if severity not in result]
    if missing:
        raise PolicyInvalid(f"INCIDENT_RESPONSE_SECONDS: no response time for {', '.join(missing)}")
    return result


def parse_levels(raw: str) -> tuple[EscalationLevel, ...]:
    """JSON list of ``{"level", "role", "topic_arn"?}`` numbered 1..n; empty = the four default roles."""
    if not raw:
        return tuple(EscalationLevel(number, role) for number, role in enumerate(DEFAULT_ROLES, start=1))
    try:
        entries = json.loads(raw)
    except ValueError as exc:
        raise PolicyInvalid(f"ESCALATION_LEVELS is not JSON: {exc}") from None
    if not isinstance(entries, list) or not entries:
        raise PolicyInvalid("ESCALATION_LEVELS must be a non-empty JSON list")
    levels = []
    for position, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or set(entry) - {"level", "role", "topic_arn"}:
            raise PolicyInvalid(f"ESCALATION_LEVELS[{position - 1}] must be an object with level, role, topic_arn")
        if entry.get("level") != position:
            raise PolicyInvalid(f"ESCALATION_LEVELS[{position - 1}].level must be {position} (levels are 1..n)")
        role, topic = entry.get("role"), entry.get("topic_arn")
        if not isinstance(role, str) or not role.strip():
            raise PolicyInvalid(f"ESCALATION_LEVELS[{position - 1}].role must be a non-empty string")
        if topic is not None and (not isinstance(topic, str) or not topic.startswith("arn:")):
            raise PolicyInvalid(f"ESCALATION_LEVELS[{position - 1}].topic_arn must be an SNS topic ARN")
        levels.append(EscalationLevel(position, role.strip(), topic))
    return tuple(levels)
