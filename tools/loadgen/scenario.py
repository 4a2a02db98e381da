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
from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
SCHEMA_PATH = Path(__file__).resolve().parent / "scenario.schema.json"
PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")
# Bounds a scenario cannot get past: YAML aliases let a few hundred bytes expand into millions of
# nodes (the "billion laughs"), which validating and sending would walk one by one.
MAX_SCENARIO_BYTES = 1024 * 1024
MAX_SCENARIO_NODES = 100_000
JSON_SCALARS = (str, int, float, bool, type(None))


class ScenarioError(ValueError):
    pass


class DuplicateKey(ValueError):
    """A key given twice in one mapping of a scenario file: YAML and JSON parsers keep the last one silently."""


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
class CleanupSpec:
    delete: str  # path of one resource, sent DELETE; {id} is replaced


@dataclass(frozen=True)
class Scenario:
    name: str
    requests: tuple[RequestSpec, ...]
    description: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    setup: tuple[RequestSpec, ...] = ()
    integrity: Optional[IntegritySpec] = None
    cleanup: Optional[CleanupSpec] = None
    source: str = ""

    def pick(self, rng: random.Random) -> RequestSpec:
        if len(self.requests) == 1:
            return self.requests[0]
        return rng.choices(self.requests, weights=[spec.weight for spec in self.requests])[0]

    def creates(self) -> bool:
        """Whether a request of the scenario (its setup's included) records a create."""
        return any(step.records == "create" for spec in (*self.setup, *self.requests) for step in spec.steps)

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

    not_json = _first_non_json_value(document)
    if not_json is not None:  # before the schema, whose validator would walk an alias cycle forever
        where, reason = not_json
        raise ScenarioError(f"{source}: {where}: {reason}")
    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(document), key=lambda error: list(error.absolute_path))
    if errors:
        error = errors[0]
        where = "/".join(str(part) for part in error.absolute_path) or "(document)"
        message = error.message
        if error.validator == "not" and "description" in error.schema:  # "should not be valid under" says little
            message = f"{error.instance!r}: {error.schema['description']}"
        raise ScenarioError(f"{source}: {where}: {message}")
    requests = tuple(_request(raw) for raw in document["requests"])
    if not math.isfinite(sum(spec.weight for spec in requests)):  # each finite, their sum not: the run died
        raise ScenarioError(f"{source}: requests: the weights add up to more than a number holds; "
                            "only their ratios matter (use e.g. 3 and 1)")
    setup = tuple(_request(raw) for raw in document.get("setup") or ())
    for spec in (*setup, *requests):
        for step in spec.steps:
            if step.records in ("update", "delete") and not step.id_template:
                raise ScenarioError(f"{source}: request {step.name}: records {step.records} needs an id template")
    for spec in (*setup, *requests):
        _check_placeholders(spec, source)
    # Sent with every request, the first of an iteration too: only built-ins are there for all of them.
    _check_references(json.dumps(document.get("headers") or {}), set(), f"{source}: headers")
    names = [step.name for spec in requests for step in spec.steps]
    duplicates = sorted(name for name, count in Counter(names).items() if count > 1)  # not names.count: quadratic
    if duplicates:
        raise ScenarioError(f"{source}: request names must be unique: {', '.join(duplicates)}")
    integrity = None
    if document.get("integrity"):
        raw = document["integrity"]
        integrity = IntegritySpec(read=raw["read"], list=raw["list"],
                                  cursor_header=raw.get("cursor_header", "X-Next-Cursor"),
                                  cursor_param=raw.get("cursor_param", "cursor"), id_field=raw.get("id_field", "id"),
                                  compare=tuple(raw.get("compare") or ()), unique=tuple(raw.get("unique") or ()))
    cleanup = CleanupSpec(delete=document["cleanup"]["delete"]) if document.get("cleanup") else None
    return Scenario(name=document["name"], description=document.get("description", ""),
                    headers=dict(document.get("headers") or {}), setup=setup, requests=requests,
                    integrity=integrity, cleanup=cleanup, source=source)


def _first_non_json_value(document: Any) -> Optional[tuple[str, str]]:
    """Where a parsed scenario first holds what JSON cannot carry, and what, or None.

    YAML gives more than JSON: .nan and .inf (which pass the schema's bounds: NaN compares false to
    both), dates, !!binary and !!set (which JSON cannot send: a date in a body was a traceback), and
    aliases, whose expansion can be huge or refer to itself.
    """
    budget = [MAX_SCENARIO_NODES]

    def walk(value: Any, where: str, enclosing: frozenset[int]) -> Optional[tuple[str, str]]:
        budget[0] -= 1
        if budget[0] < 0:
            return where or "(document)", (f"the scenario expands to more than {MAX_SCENARIO_NODES} values "
                                           "(YAML aliases repeat what they name)")
        if isinstance(value, float) and not math.isfinite(value):
            return where or "(document)", f"{value} is not a finite number"
        if isinstance(value, JSON_SCALARS):
            return None
        if isinstance(value, Mapping):
            items: Any = value.items()
        elif isinstance(value, list):
            items = enumerate(value)
        else:
            return where or "(document)", f"a {type(value).__name__} is not a JSON value (quote it to send text)"
        if id(value) in enclosing:
            return where or "(document)", "a YAML alias refers to the value that holds it"
        for key, item in items:
            if isinstance(value, Mapping) and not isinstance(key, str):
                return where or "(document)", f"the key {key!r} is not text (quote it)"
            found = walk(item, f"{where}/{key}" if where else str(key), enclosing | {id(value)})
            if found is not None:
                return found
        return None

    return walk(document, "", frozenset())


BUILTINS = frozenset({"run_id", "seq", "unique"})


def _check_placeholders(spec: RequestSpec, source: str) -> None:
    """Each placeholder names a built-in value or an earlier request of the same iteration."""
    earlier: set[str] = set()
    for step in spec.steps:
        texts = {"path": step.path, "headers": json.dumps(dict(step.headers)), "json": json.dumps(step.json_body)}
        if step.id_template:
            texts["id"] = step.id_template
        for where, text in texts.items():
            _check_references(text, earlier | ({"response"} if where == "id" else set()),
                              f"{source}: request {step.name}: {where}")
        earlier.add(step.name)


def _check_references(text: str, answers: set[str], where: str) -> None:
    """Each placeholder of ``text`` is a built-in (whole: ``${seq.x}`` has nothing to read) or reads one of
    ``answers``. An iteration whose first request names a value no answer can have sends nothing, and a
    closed-model client then spun through such iterations without yielding: Ctrl-C went unheard."""
    for match in PLACEHOLDER.finditer(text):
        reference = match.group(1).strip()
        root = reference.split(".", 1)[0]
        if reference in BUILTINS or root in answers:
            continue
        if root in BUILTINS:
            raise ScenarioError(f"{where}: ${{{match.group(1)}}}: the built-in {root} has no fields")
        raise ScenarioError(f"{where}: ${{{match.group(1)}}} names neither a built-in "
                            f"({', '.join(sorted(BUILTINS))}) nor an earlier request")


def load_scenario(path_or_name: str | Path) -> Scenario:
    """A scenario file (YAML or JSON), or the name of a shipped one (``crud-mix``)."""
    path = Path(path_or_name)
    if not path.exists() and not path.suffix:
        path = SCENARIO_DIR / f"{path_or_name}.yaml"
    if not path.exists():
        raise ScenarioError(f"{path_or_name}: no such scenario file (shipped: {', '.join(shipped_scenarios())})")
    import yaml

    try:
        with path.open("rb") as file:  # bounded: a device or a huge file is not read to its end
            content = file.read(MAX_SCENARIO_BYTES + 1)
        if len(content) > MAX_SCENARIO_BYTES:
            raise ValueError(f"larger than {MAX_SCENARIO_BYTES // 1024} KiB")
        text = content.decode("utf-8")
        # Why nosec B506: the loader is a yaml.SafeLoader subclass that also refuses repeated keys.
        document = (_load_json(text) if path.suffix == ".json"
                    else yaml.load(text, Loader=_unique_key_loader()))  # nosec B506
    except DuplicateKey as exc:
        raise ScenarioError(f"{path_or_name}: {exc}") from None
    except (OSError, ValueError, yaml.YAMLError) as exc:  # a directory, not UTF-8, not JSON/YAML
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ScenarioError(f"{path_or_name}: cannot be read as a {'JSON' if path.suffix == '.json' else 'YAML'} "
                            f"scenario: {reason}") from None
    return parse_scenario(document, str(path))


def _load_json(text: str) -> Any:
    """``json.loads``, refusing a key given twice in one object (DuplicateKey, naming where)."""
    repeated: list[tuple[dict[str, Any], str]] = []

    def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        mapping: dict[str, Any] = {}
        for key, value in pairs:
            if key in mapping and not repeated:
                repeated.append((mapping, key))
            mapping[key] = value
        return mapping

    document = json.loads(text, object_pairs_hook=unique_keys)
    if repeated:  # where, once the whole document is there: the hook sees an object before its parent
        mapping, key = repeated[0]
        raise DuplicateKey(f"{_path_of(document, mapping)}: the key {key!r} is given twice")
    return document


def _path_of(document: Any, target: Any) -> str:
    """Where ``target`` (by identity) is in ``document``: ``requests/0/headers``, or ``(document)``."""
    pending: list[tuple[Any, str]] = [(document, "")]
    while pending:  # iterative: a deeply nested document would exhaust the recursion limit
        value, where = pending.pop()
        if value is target:
            return where or "(document)"
        children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        pending.extend((child, f"{where}/{name}" if where else str(name)) for name, child in children)
    return "(document)"


@lru_cache(maxsize=1)
def _unique_key_loader() -> Any:
    """yaml.SafeLoader, refusing a key given twice in one mapping (DuplicateKey, naming its line and column).
    A merge (``<<: *defaults``) may still supply a key the mapping gives: YAML says the mapping's wins."""
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            if isinstance(node, yaml.MappingNode):
                _refuse_repeated_keys(self, node)
            return super().construct_mapping(node, deep=deep)

    return UniqueKeyLoader


def _refuse_repeated_keys(loader: Any, node: Any) -> None:
    first_at: dict[Any, Any] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):  # the constructor refuses it, saying so
            continue
        if key in first_at:
            mark, first = key_node.start_mark, first_at[key]
            raise DuplicateKey(f"line {mark.line + 1}, column {mark.column + 1}: the key {key!r} is given twice "
                               f"(first at line {first.line + 1}, column {first.column + 1})")
        first_at[key] = key_node.start_mark


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
