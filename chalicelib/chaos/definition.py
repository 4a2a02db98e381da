"""Experiment definitions: the JSON Schema (``experiments/schema.json``), the catalog, the targets.

``validate(document)`` answers the first problem as ``(field, reason)`` (the API's 400 and the
workflow's first state both say it), or ``None``. ``targets(definition)`` names what the
experiment acts on: two experiments on one target never run at once.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Optional

from chalicelib.chaos.model import (
    ALL_ROUTES, CHAOS_CONTROL_PREFIX, DYNAMODB_KINDS, PROTECTED_PREFIXES, ROUTE_KINDS, WEBHOOK_KINDS)
from chalicelib.http.strict import FREE_TEXT_RULE, first_string_with_control_characters

REPOSITORY_CATALOG = Path(__file__).resolve().parents[2] / "experiments"
CATALOG_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
ROUTE_TARGET = re.compile(r"^(\*|/[A-Za-z0-9_./{}-]{0,199})$")
# A function name, partial ARN or ARN, with an optional qualifier (Lambda's own FunctionName pattern, loosened).
LAMBDA_FUNCTION = re.compile(r"^(arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?[A-Za-z0-9_.-]{1,64}(:[A-Za-z0-9_$-]{1,128})?$")


class DefinitionError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


@lru_cache(maxsize=4)
def schema(directory: Path = REPOSITORY_CATALOG) -> dict[str, Any]:
    return json.loads((directory / "schema.json").read_text(encoding="utf-8"))


def _field(path: Any) -> str:
    return "/".join(str(part) for part in path) or "(document)"


MESSAGE_MAX = 300


def _message(error: Any) -> str:
    """The schema's reason, without echoing a long value back whole ("'xxxx…' is too long")."""
    if error.validator == "maxLength":
        return f"at most {error.validator_value} characters"
    message = error.message
    if error.validator == "type":  # the value as JSON writes it: null, not Python's None
        wanted = error.validator_value
        wanted = ", ".join(repr(kind) for kind in wanted) if isinstance(wanted, list) else repr(wanted)
        message = f"{json.dumps(error.instance)} is not of type {wanted}"
    return message if len(message) <= MESSAGE_MAX else message[:MESSAGE_MAX - 1] + "…"


@lru_cache(maxsize=1)
def _validator_class() -> Any:
    """Draft 2020-12 where "integer" is a JSON number written without a fraction or exponent.

    JSON Schema counts 30.0 and 3e1 as integers, but Step Functions' Wait (SecondsPath) refuses
    them with an uncatchable States.Runtime error after the injection, which skips the rollback
    state, and Lambda and ECS refuse them as counts: refused here, before anything runs."""
    from jsonschema import Draft202012Validator, validators  # ~30 ms: only when a definition is checked

    checker = Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _checker, value: isinstance(value, int) and not isinstance(value, bool))
    return validators.extend(Draft202012Validator, type_checker=checker)


def validate(document: Any, directory: Path = REPOSITORY_CATALOG, *,
             max_duration_seconds: Optional[int] = None) -> Optional[DefinitionError]:
    """The first problem of ``document`` against the schema and the rules JSON Schema cannot say."""
    from jsonschema.exceptions import best_match

    validator = _validator_class()(schema(directory))
    error = best_match(validator.iter_errors(document))
    if error is not None:
        if error.validator == "oneOf" and isinstance(error.instance, Mapping):
            # Say which variant was meant (its "type") rather than "not valid under any of the given schemas".
            kinds = [sub.get("properties", {}).get("type", {}) for sub in error.validator_value]
            wanted = sorted({kind.get("const") for kind in kinds if "const" in kind}
                            | {value for kind in kinds for value in kind.get("enum", [])})
            given = error.instance.get("type")
            if given not in wanted:
                return DefinitionError(_field([*error.absolute_path, "type"]), f"must be one of {', '.join(wanted)}")
            variant = next(sub for sub, kind in zip(error.validator_value, kinds)
                           if kind.get("const") == given or given in kind.get("enum", []))
            # evolve: the variant's $refs resolve against the whole schema
            inner = best_match(validator.evolve(schema=variant).iter_errors(error.instance))
            if inner is not None:
                return DefinitionError(_field([*error.absolute_path, *inner.absolute_path]), _message(inner))
        return DefinitionError(_field(error.absolute_path), _message(error))
    unreadable = first_string_with_control_characters(document)  # titles and names reach pages and logs
    if unreadable is not None:
        return DefinitionError(_field(unreadable), FREE_TEXT_RULE)
    if max_duration_seconds is not None and document["duration_seconds"] > max_duration_seconds:
        return DefinitionError("duration_seconds", f"must be at most {max_duration_seconds}")
    for index, action in enumerate(document["method"]):
        if action["type"] == "lambda_throttle" and not LAMBDA_FUNCTION.match(action["function"]):
            return DefinitionError(f"method/{index}/function", "a Lambda function name or ARN (letters, digits, "
                                                               "'-', '_' and '.', up to 64 characters)")
        if action["type"] != "fault":
            continue
        fault, where = action["fault"], f"method/{index}/fault"
        kind, target = fault["kind"], fault["target"]
        if kind in ROUTE_KINDS and not ROUTE_TARGET.match(target):
            return DefinitionError(f"{where}/target", "a route fault targets a route path or *")
        if kind in ROUTE_KINDS and target.startswith(CHAOS_CONTROL_PREFIX):
            return DefinitionError(f"{where}/target", "a route fault cannot target the chaos endpoints "
                                                      "(the experiment could not be stopped)")
        if kind in ROUTE_KINDS and target != ALL_ROUTES and target not in api_routes():
            return DefinitionError(f"{where}/target", f"no route {target} in the API (GET /openapi.json lists "
                                                      "them, e.g. /api/users/{user_id}); or * for every route")
        if kind in DYNAMODB_KINDS and target != "database":
            return DefinitionError(f"{where}/target", "a DynamoDB fault targets database (the users store)")
        if kind in WEBHOOK_KINDS and target != "webhook":
            return DefinitionError(f"{where}/target", "a webhook fault targets webhook")
        if kind == "route_error" and not _is_status(fault.get("magnitude", 0), 500, 599):
            return DefinitionError(f"{where}/magnitude", "a route error is a whole HTTP status from 500 to 599")
        if kind == "webhook_failure" and not _is_status(fault.get("magnitude", 0), 400, 599):
            return DefinitionError(f"{where}/magnitude", "a webhook failure is a whole HTTP status from 400 to 599")
        if kind in ("dynamodb_timeout", "webhook_timeout") and not 0 < fault.get("magnitude", 0) <= 60:
            return DefinitionError(f"{where}/magnitude", "a timeout hangs for 0 to 60 seconds")
        if kind in ("route_latency", "dynamodb_slowdown") and not 1 <= fault.get("magnitude", 0) <= 30000:
            return DefinitionError(f"{where}/magnitude", "added latency is 1 to 30000 milliseconds")
    return None


def _is_status(magnitude: Any, lowest: int, highest: int) -> bool:
    """A whole number from ``lowest`` to ``highest``: 500.5 was injected as 500, int() cutting it."""
    return isinstance(magnitude, int) and not isinstance(magnitude, bool) and lowest <= magnitude <= highest


@lru_cache(maxsize=1)
def api_routes() -> frozenset[str]:
    """The routes of the service's API document (a route fault on any other path would touch nothing)."""
    from chalicelib.web.openapi import openapi_document

    return frozenset(openapi_document()["paths"])


def targets(definition: Mapping[str, Any]) -> list[str]:
    """What each action of the method acts on, e.g. ``database``, ``route:/api/users``, ``lambda:<name>``."""
    found = []
    for action in definition["method"]:
        kind = action["type"]
        if kind == "fault" and action["fault"]["kind"] in ROUTE_KINDS and action["fault"]["target"] == ALL_ROUTES:
            # Every route a "*" fault touches, so it and a fault on one of them never run at once.
            for route in sorted(api_routes()):
                if not route.startswith(PROTECTED_PREFIXES) and f"route:{route}" not in found:
                    found.append(f"route:{route}")
            continue
        if kind == "fault":
            fault = action["fault"]
            target = "route:" + fault["target"] if fault["kind"] in ROUTE_KINDS else fault["target"]
        elif kind == "lambda_throttle":
            target = f"lambda:{lambda_function_name(action['function'])}"
        elif kind in ("ecs_stop_tasks", "ecs_scale"):
            target = f"ecs:{action['cluster']}/{action['service']}"
        else:
            target = "load"
        if target not in found:
            found.append(target)
    return found


def lambda_function_name(function: str) -> str:
    """The name of the function ``function`` spells (a name or ARN, with or without a version or alias).

    Reserved concurrency belongs to the function whatever the spelling: two experiments throttling it
    by name and by ARN each saved the other's value and the last rollback left it throttled."""
    return function.split(":function:", 1)[-1].split(":", 1)[0]


def catalog_names(directory: Path = REPOSITORY_CATALOG) -> list[str]:
    return sorted(path.stem for path in directory.glob("*.json") if path.name != "schema.json")


def catalog_entry(name: str, directory: Path = REPOSITORY_CATALOG) -> dict[str, Any]:
    """The catalog definition ``name`` (raises DefinitionError naming the field ``experiment``)."""
    if not isinstance(name, str) or not CATALOG_NAME.match(name):
        raise DefinitionError("experiment", "a catalog name: lowercase letters, digits and dashes")
    path = directory / f"{name}.json"
    if name == "schema" or not path.is_file():  # the catalog's schema is no experiment
        raise DefinitionError("experiment", f"no catalog experiment {name!r}; known: {', '.join(catalog_names(directory))}")
    return json.loads(path.read_text(encoding="utf-8"))
