"""Each function's IAM policy as Terraform renders it, read from the same source (infra/access.json
grants, the access maps of infra/functions.json and the API's), to check recorded AWS calls against.

An access entry names a grant and the actions it takes of it: ``"table:users": ["dynamodb:GetItem"]``
takes the ``table`` grant for that table, ``"metrics:read": [...]`` is a grant of its own. Each
statement of the grant is rendered with the entry's actions among its own (none: no statement), so
a policy allows each function exactly the actions it names on each resource. A call is allowed when
a statement of the function lists its action and either names the call's resource (the entry's) or
is ``*``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Optional

from devstack.aws_calls import API, DATABASE_SECRET, ECS_TASK, Call
from devstack.resources import definitions

INFRA = Path(__file__).resolve().parents[2] / "infra"
RECORD = Path(__file__).resolve().parents[1] / "fixtures" / "aws_calls.json"
TEST_OUTPUT = Path(__file__).resolve().parents[2] / "build" / "test-output"
# Where this pytest session's e2e stacks log their calls (one folder per session: nested or
# concurrent runs never mix or delete each other's). tests/conftest.py sets it at start.
E2E_CALL_LOGS_SETTING = "SERVERLESS_SRE_E2E_CALL_LOGS"
# Rendered only for a table that has indexes: `<table arn>/index/*`.
INDEXES = "{indexes_arn}"

AccessMap = Mapping[str, Mapping[str, list[str]]]


def access_file() -> dict:
    return json.loads((INFRA / "access.json").read_text(encoding="utf-8"))


def access_lists() -> dict[str, dict[str, list[str]]]:
    """Per function (and ``api``): access entry -> the actions it takes of its grant."""
    functions = json.loads((INFRA / "functions.json").read_text(encoding="utf-8"))
    api = access_file()["api"]
    # The ECS task role, as terraform/modules/ecs_service renders it: the API's statements
    # (task_policy_statements) and the RDS-managed database secret (task_secret_arns).
    return {API: api, ECS_TASK: {**api, DATABASE_SECRET: ["secretsmanager:GetSecretValue"]},
            **{key: spec.get("access") for key, spec in functions.items()}}


# The ECS task runs the API's code: a call the API makes proves the statement of the task role too.
PROVEN_BY = {ECS_TASK: frozenset({ECS_TASK, API})}


def _proves(call: Call, function: str) -> bool:
    return call.function in PROVEN_BY.get(function, (function,))


def grant_of(entry: str, grants: Mapping[str, dict]) -> dict:
    return grants.get(entry) or grants[entry.split(":", 1)[0]]


def sid_of(template: str, entry: str) -> str:
    """A statement's Sid: ``{Key}`` becomes the entry's key in CamelCase (``table:slo-status`` ->
    ``SloStatus``), as terraform/modules/sre_plane renders it (IAM Sids are alphanumeric)."""
    key = entry.split(":", 1)[1] if ":" in entry else ""
    return template.replace("{Key}", "".join(part.title() for part in key.split("-")))


@dataclass(frozen=True)
class Statement:
    function: str
    entry: str
    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]

    @property
    def star(self) -> bool:
        return self.resources == ("*",)

    def names(self, resource: Optional[str]) -> bool:
        """Whether a resource template of the statement (as Terraform fills it in) covers ``resource``."""
        for template in self.resources:
            if template == "*":
                return True
            # The ECS stack's service (a Terraform variable, not an infra/ entry): its calls name no
            # infra resource, so the action alone is checked.
            if template in ("{chaos_ecs_services}", "{chaos_ecs_tasks}") and resource is None:
                return True
            if resource is None:
                continue
            if "{project_functions_arn}" in template and resource.startswith("function:"):
                return True
            if "{api_function_arn}" in template and resource == f"function:{API}":
                return True
            # A call names its table, not the index it queries: a table's Query also stands for its indexes'.
            if ("{arn}" in template or template == INDEXES) and resource == self.entry:
                return True
        return False

    def allows(self, call: Call) -> bool:
        return call.action in self.actions and self.names(call.resource)


class PolicyBook:
    def __init__(self, access: Optional[AccessMap] = None) -> None:
        grants = access_file()["grants"]
        indexed = {f"table:{key}" for key, spec in definitions("tables").items() if spec.get("global_secondary_indexes")}
        self.statements: list[Statement] = []
        for function, entries in (access_lists() if access is None else access).items():
            for entry, actions in (entries or {}).items():
                for statement in grant_of(entry, grants)["statements"]:
                    granted = tuple(action for action in statement["actions"] if action in actions)
                    resources = tuple(r for r in statement["resources"] if r != INDEXES or entry in indexed)
                    if granted and resources:
                        self.statements.append(Statement(function, entry, sid_of(statement["sid"], entry), granted,
                                                         resources))

    def allowing(self, call: Call) -> Optional[Statement]:
        return next((s for s in self.statements if s.function == call.function and s.allows(call)), None)

    def refused(self, calls: Iterable[Call]) -> list[Call]:
        return sorted((call for call in calls if self.allowing(call) is None), key=Call.sort_key)

    def unused(self, calls: Iterable[Call]) -> list[str]:
        """``"<function>: <entry> <action>"`` for each action a function's policy allows on a resource
        (or on ``*``, for a grant of its own) that no call of that function made there. The task role's
        copies of the API's grants are the API's, told under its name."""
        calls = list(calls)
        api_entries = set(access_lists()[API])
        return sorted({f"{s.function}: {s.entry} {action}" for s in self.statements for action in s.actions
                       if not (s.function == ECS_TASK and s.entry in api_entries)
                       and not any(_proves(call, s.function) and call.action == action and s.names(call.resource)
                                   for call in calls)})


def read_record(path: Path = RECORD) -> set[Call]:
    if not path.exists():
        return set()
    return {Call(**entry) for entry in json.loads(path.read_text(encoding="utf-8"))}


def write_record(calls: Iterable[Call], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([call.as_json() for call in sorted(calls, key=Call.sort_key)], indent=1) + "\n", encoding="utf-8")
