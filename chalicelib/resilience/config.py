"""Per-breaker thresholds: code defaults, overridden by the ``CIRCUIT_BREAKERS`` setting (JSON).

``CIRCUIT_BREAKERS='{"database": {"fail_max": 3, "reset_timeout_seconds": 10}}'`` changes
only what it names. ``exclude`` lists what does not count as a failure: a dotted path of an
exception class you supply, or one of the named predicates in ``EXCLUSION_PREDICATES``.
The service's own exclusions (the users store's errors) are handed in by ``chalicelib.wiring``.
"""
from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Optional

from chalicelib.dynamodb import is_client_caused_error

DEFAULT_BREAKERS: dict[str, dict[str, Any]] = {
    "database": {
        "fail_max": 5,
        "reset_timeout_seconds": 30,
        "success_threshold": 2,
        "exclude": ["dynamodb_client_errors"],
    },
    "webhook": {
        "fail_max": 3,
        "reset_timeout_seconds": 60,
        "success_threshold": 1,
        "exclude": [],
    },
}

EXCLUSION_PREDICATES: dict[str, Callable[[BaseException], bool]] = {
    "dynamodb_client_errors": is_client_caused_error,
}

BREAKER_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "fail_max": {"type": "integer", "minimum": 1},
        "reset_timeout_seconds": {"type": "number", "exclusiveMinimum": 0},
        "success_threshold": {"type": "integer", "minimum": 1},
        "probe_lease_seconds": {"type": "number", "exclusiveMinimum": 0},
        "exclude": {"type": "array", "items": {"type": "string", "minLength": 1}},
    },
}
OVERRIDES_SCHEMA = {
    "type": "object",
    "propertyNames": {"pattern": "^[a-z][a-z0-9_-]{0,62}$"},
    "additionalProperties": BREAKER_SCHEMA,
}


class BreakerConfigError(ValueError):
    pass


@dataclass(frozen=True)
class BreakerConfig:
    name: str
    fail_max: int
    reset_timeout_seconds: float
    success_threshold: int
    exclude: tuple[str, ...] = ()
    probe_lease_seconds: float | None = None
    # Exception classes the service itself does not count (handed in by the wiring).
    exclude_types: tuple[type, ...] = ()

    def exclusions(self) -> list[Any]:
        """pybreaker ``exclude`` entries: exception classes and predicates."""
        resolved: list[Any] = list(self.exclude_types)
        for entry in self.exclude:
            if entry in EXCLUSION_PREDICATES:
                resolved.append(EXCLUSION_PREDICATES[entry])
                continue
            module_name, _, class_name = entry.rpartition(".")
            try:
                resolved.append(getattr(importlib.import_module(module_name), class_name))
            except (ImportError, AttributeError, ValueError) as exc:
                raise BreakerConfigError(f"breaker '{self.name}': cannot resolve exclusion '{entry}'") from exc
        return resolved

    def describe(self) -> dict[str, Any]:
        return {"fail_max": self.fail_max, "reset_timeout_seconds": self.reset_timeout_seconds,
                "success_threshold": self.success_threshold,
                "exclude": list(self.exclude) + [f"{cls.__module__}.{cls.__qualname__}" for cls in self.exclude_types],
                "probe_lease_seconds": self.probe_lease_seconds or self.reset_timeout_seconds}


def load_breaker_configs(overrides_json: str = "",
                         exclusions: Optional[Mapping[str, Iterable[type]]] = None) -> dict[str, BreakerConfig]:
    """Code defaults merged with ``overrides_json``; ``exclusions`` adds exception classes per breaker."""
    exclusions = exclusions or {}
    merged = {name: dict(values) for name, values in DEFAULT_BREAKERS.items()}
    if overrides_json.strip():
        overrides = _parse_overrides(overrides_json)
        for name, values in overrides.items():
            merged.setdefault(name, {"fail_max": 5, "reset_timeout_seconds": 30, "success_threshold": 1})
            merged[name].update(values)
    return {name: BreakerConfig(name=name, fail_max=values["fail_max"],
                                reset_timeout_seconds=float(values["reset_timeout_seconds"]),
                                success_threshold=values["success_threshold"],
                                exclude=tuple(values.get("exclude", ())),
                                probe_lease_seconds=values.get("probe_lease_seconds"),
                                exclude_types=tuple(exclusions.get(name, ())))
            for name, values in merged.items()}


def _parse_overrides(overrides_json: str) -> Mapping[str, Any]:
    # jsonschema is only imported when overrides exist, keeping the default cold start lean.
    import jsonschema

    try:
        overrides = json.loads(overrides_json)
    except ValueError as exc:
        raise BreakerConfigError(f"CIRCUIT_BREAKERS is not valid JSON: {exc}") from None
    try:
        jsonschema.validate(overrides, OVERRIDES_SCHEMA)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(part) for part in exc.absolute_path) or "(top level)"
        raise BreakerConfigError(f"CIRCUIT_BREAKERS at {where}: {exc.message}") from None
    return overrides
