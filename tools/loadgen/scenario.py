"""Scenarios: which requests a run sends, read from YAML or JSON and validated by scenario.schema.json.

Strings may hold ``${...}`` placeholders, filled per iteration:

- ``${run_id}``: the run's id; ``${seq}``: a number unique within the run (one per iteration);
  ``${unique}``: ``<run_id>-<seq>``, for values that must be unique across runs (emails);
- ``${<step>.json.<field>}``, ``${<step>.status}``, ``${<step>.headers.<Name>}``: the answer of an
  earlier request of the same iteration (its ``name``); ``${response...}`` is the request's own answer.

A string that is exactly one placeholder keeps the value's JSON type.
"""
from __future__ import annotations

import json
import math
import random
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
SCHEMA_PATH = Path(__file__).resolve().parent / "scenario.schema.json"
PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


class ScenarioError(ValueError):
    pass


class MissingValue(LookupError):
    """A placeholder names an answer that is not there (the earlier request was not sent, or its answer
    lacks the value)."""

    @property
    def placeholder(self) -> str:
        return f"${{{self.args[0]}}}"


@dataclass(frozen=True)
class RequestSpec:
    name: str
    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    json_body: Any = None
    has_body: bool = False
    expect: tuple[int, ...] = ()
    records: Optional[str] = None
    id_template: Optional[str] = None
    weight: float = 1.0
    probability: float = 1.0
    repeat: int = 1
    follow_ups: tuple["RequestSpec", ...] = ()

    def accepts(self, status: int) -> bool:
        return status in self.expect if self.expect else 200 <= status < 400

    @property
    def steps(self) -> tuple["RequestSpec", ...]:
        return (self, *self.follow_ups)


@dataclass(frozen=True)
class IntegritySpec:
    read: str
    list: str
    cursor_header: str = "X-Next-Cursor"
    cursor_param: str = "cursor"
    id_field: str = "id"
    compare: tuple[str, ...] = ()
    unique: tuple[str, ...] = ()  # fields no two stored resources may share (ignoring case)


@dataclass(frozen=True)
class Scenario:
    name: str
    requests: tuple[RequestSpec, ...]
    description: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    setup: tuple[RequestSpec, ...] = ()
    integrity: Optional[IntegritySpec] = None
    source: str = ""

    def pick(self, rng: random.Random) -> RequestSpec:
        if len(self.requests) == 1:
            return self.requests[0]
        return rng.choices(self.requests, weights=[spec.weight for spec in self.requests])[0]

    def request_names(self) -> list[str]:
        names = [spec.name for spec in self.setup]
        names += [step.name for spec in self.requests for step in spec.steps]
        return list(dict.fromkeys(names))


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _request(raw: Mapping[str, Any]) -> RequestSpec:
    return RequestSpec(
        name=raw["name"], method=raw["method"], path=raw["path"], headers=dict(raw.get("headers") or {}),
        json_body=raw.get("json"), has_body="json" in raw, expect=tuple(raw.get("expect") or ()),
        records=raw.get("records"), id_template=raw.get("id"), weight=float(raw.get("weight", 1.0)),
        probability=float(raw.get("probability", 1.0)), repeat=int(raw.get("repeat", 1)),
        follow_ups=tuple(_request(follow_up) for follow_up in raw.get("follow_ups") or ()))


def parse_scenario(document: Any, source: str = "<scenario>") -> Scenario:
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(document), key=lambda error: list(error.absolute_path))
    if errors:
        error = errors[0]
        where = "/".join(str(part) for part in error.absolute_path) or "(document)"
        raise ScenarioError(f"{source}: {where}: {error.message}")
    not_finite = _first_non_finite_number(document)
    if not_finite is not None:  # YAML's .nan and .inf pass the schema's bounds: NaN compares false to both
        where, value = not_finite
        raise ScenarioError(f"{source}: {where}: {value} is not a finite number")
    requests = tuple(_request(raw) for raw in document["requests"])
    setup = tuple(_request(raw) for raw in document.get("setup") or ())
    for spec in (*setup, *requests):
        for step in spec.steps:
            if step.records in ("update", "delete") and not step.id_template:
                raise ScenarioError(f"{source}: request {step.name}: records {step.records} needs an id template")
    for spec in (*setup, *requests):
        _check_placeholders(spec, source)
    names = [step.name for spec in requests for step in spec.steps]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ScenarioError(f"{source}: request names must be unique: {', '.join(duplicates)}")
    integrity = None
    if document.get("integrity"):
        raw = document["integrity"]
        integrity = IntegritySpec(read=raw["read"], list=raw["list"],
                                  cursor_header=raw.get("cursor_header", "X-Next-Cursor"),
                                  cursor_param=raw.get("cursor_param", "cursor"), id_field=raw.get("id_field", "id"),
                                  compare=tuple(raw.get("compare") or ()), unique=tuple(raw.get("unique") or ()))
    return Scenario(name=document["name"], description=document.get("description", ""),
                    headers=dict(document.get("headers") or {}), setup=setup, requests=requests,
                    integrity=integrity, source=source)


def _first_non_finite_number(document: Any, where: str = "") -> Optional[tuple[str, float]]:
    """The path and value of the first NaN or infinity in a parsed scenario, or None."""
    if isinstance(document, float) and not math.isfinite(document):
        return where or "(document)", document
    if isinstance(document, Mapping):
        items: Any = document.items()
    elif isinstance(document, list):
        items = enumerate(document)
    else:
        return None
    for key, value in items:
        found = _first_non_finite_number(value, f"{where}/{key}" if where else str(key))
        if found is not None:
            return found
    return None


BUILTINS = frozenset({"run_id", "seq", "unique"})


def _check_placeholders(spec: RequestSpec, source: str) -> None:
    """Each placeholder names a built-in value or an earlier request of the same iteration."""
    earlier: set[str] = set()
    for step in spec.steps:
        texts = {"path": step.path, "headers": json.dumps(dict(step.headers)), "json": json.dumps(step.json_body)}
        if step.id_template:
            texts["id"] = step.id_template
        for where, text in texts.items():
            for match in PLACEHOLDER.finditer(text):
                root = match.group(1).strip().split(".", 1)[0]
                allowed = BUILTINS | earlier | ({"response"} if where == "id" else set())
                if root not in allowed:
                    raise ScenarioError(f"{source}: request {step.name}: {where}: ${{{match.group(1)}}} names "
                                        f"neither a built-in ({', '.join(sorted(BUILTINS))}) nor an earlier request")
        earlier.add(step.name)


def load_scenario(path_or_name: str | Path) -> Scenario:
    """A scenario file (YAML or JSON), or the name of a shipped one (``crud-mix``)."""
    path = Path(path_or_name)
    if not path.exists() and not path.suffix:
        path = SCENARIO_DIR / f"{path_or_name}.yaml"
    if not path.exists():
        raise ScenarioError(f"{path_or_name}: no such scenario file (shipped: {', '.join(shipped_scenarios())})")
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
        document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:  # a directory, not UTF-8, not JSON/YAML
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ScenarioError(f"{path_or_name}: cannot be read as a {'JSON' if path.suffix == '.json' else 'YAML'} "
                            f"scenario: {reason}") from None
    return parse_scenario(document, str(path))


def shipped_scenarios() -> list[str]:
    return sorted(path.stem for path in SCENARIO_DIR.glob("*.yaml"))


def lookup(context: Mapping[str, Any], dotted: str) -> Any:
    value: Any = context
    for part in dotted.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise MissingValue(dotted)
    return value


def render(template: Any, context: Mapping[str, Any]) -> Any:
    """``template`` with every placeholder filled from ``context``; raises MissingValue."""
    if isinstance(template, str):
        whole = PLACEHOLDER.fullmatch(template)
        if whole:
            return lookup(context, whole.group(1).strip())
        return PLACEHOLDER.sub(lambda match: str(lookup(context, match.group(1).strip())), template)
    if isinstance(template, Mapping):
        return {key: render(value, context) for key, value in template.items()}
    if isinstance(template, Sequence) and not isinstance(template, (bytes, bytearray)):
        return [render(value, context) for value in template]
    return template
