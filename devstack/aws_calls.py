"""Which AWS calls each function makes: a botocore event hook for tests and the local stack.

Every botocore client made after ``install()`` reports each call (``before-parameter-build``)
as service action (IAM's name, e.g. ``states:StartExecution``) and the resource it names, as an
infra/ entry (``table:users``, ``execution:escalation``) when it names one. The call is
attributed to the function being run: the infra/functions.json key (or ``api``) that an invoker
set with ``attributed``, else the innermost handler module or Chalice's dispatch on the call
stack (unit tests call handlers and the app directly). Calls made by no function (provisioning, test set-up) are not kept.

moto checks no IAM, so this is how the suite proves each function's policy (iam_policies) allows
what the code does. Written by hand: botocore offers the event, nothing records calls by caller.
"""
from __future__ import annotations

import contextlib
import contextvars
import json
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional

from devstack.resources import definitions

LOG_SETTING = "AWS_CALL_LOG"
API = "api"
# The ECS variant's task role (terraform/modules/ecs_service): the API's statements and the database
# secret RDS manages. Every call of the container's process is the task role's.
ECS_TASK = "ecs-task"
# The ECS variant's database secret (DB_SECRET_ID): RDS manages it, so it is no secrets.json entry.
DATABASE_SECRET = "secret:database"
# boto3 client names whose IAM prefix differs; the others are the same.
IAM_PREFIXES = {"stepfunctions": "states"}
# Per resource kind, the request parameters that name it.
RESOURCE_PARAMETERS = {
    "table": ("TableName",),
    "topic": ("TopicArn", "TargetArn"),
    "secret": ("SecretId",),
    "statemachine": ("stateMachineArn",),
    "execution": ("executionArn",),  # an execution of a statemachines.json entry
    "queue": ("QueueUrl",),
    "function": ("FunctionName",),
}
TRANSACTION_ITEM_ACTIONS = {
    "TransactWriteItems": {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                           "ConditionCheck": "ConditionCheckItem"},
    "TransactGetItems": {"Get": "GetItem"},
}
INFRA_FILES = {"table": "tables", "topic": "topics", "secret": "secrets", "statemachine": "statemachines",
               "execution": "statemachines", "queue": "queues", "function": "functions"}

_current: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar("aws_call_function", default=None)


@dataclass(frozen=True)
class Call:
    function: str
    action: str
    resource: Optional[str]  # "table:users"; "table:?<name>" for a name of no infra entry; None: no resource

    def sort_key(self) -> tuple[str, str, str]:
        return self.function, self.action, self.resource or ""

    def as_json(self) -> dict[str, Any]:
        return {"function": self.function, "action": self.action, "resource": self.resource}


@contextlib.contextmanager
def attributed(function_key: str) -> Iterator[None]:
    """AWS calls made inside are ``function_key``'s."""
    token = _current.set(function_key)
    try:
        yield
    finally:
        _current.reset(token)


def handler_modules() -> dict[str, str]:
    modules = {spec["handler"].rpartition(".")[0]: key for key, spec in definitions("functions").items()}
    # Every route, blueprint or not, is dispatched by Chalice's app object.
    modules["chalice.app"] = API
    return modules


# Local stand-ins for what AWS does deployed (the EMF agent's PutMetricData): no function's calls.
LOCAL_STAND_INS = frozenset({"devstack.metrics_sink"})
_STAND_IN = "stand-in"


def _stack_function(modules: dict[str, str]) -> Optional[str]:
    frame, found = sys._getframe(1), None
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if name in LOCAL_STAND_INS:
            return _STAND_IN
        if found is None:
            found = modules.get(name)
        frame = frame.f_back
    return found


def _resource_names() -> dict[str, dict[str, dict[str, Any]]]:
    return {kind: definitions(name) for kind, name in INFRA_FILES.items()}


def _candidates(identifier: str) -> set[str]:
    """The identifier and the names it holds: an ARN's last part, a URL's, a secret ARN without AWS's
    random suffix; an execution ARN also as its state machine's ARN and name."""
    found = {identifier, identifier.removesuffix(".fifo")}
    if ":execution:" in identifier:
        head, _, rest = identifier.partition(":execution:")
        machine = rest.rsplit(":", 1)[0]
        found |= {f"{head}:stateMachine:{machine}", machine}
    for separator in (":", "/"):
        found.add(identifier.rsplit(separator, 1)[-1].removesuffix(".fifo"))
    if ":secret:" in identifier:
        name = identifier.split(":secret:", 1)[1]
        found |= {name, name.rsplit("-", 1)[0]}
    if ":function:" in identifier:
        found.add(identifier.split(":function:", 1)[1].split(":")[0])
    return found


def resource_of(kind: str, identifier: str, names: dict[str, dict[str, dict[str, Any]]],
                environ: Optional[Mapping[str, str]] = None) -> str:
    """The infra entry (``table:users``) a table name, ARN, secret id or URL stands for: the entry whose setting (or
    default name) holds it, else the entry whose key ends it (deployed names are
    ``<prefix>-<key>``, secrets ``<app>/<stage>/<key>``). The API function is ``function:api``."""
    environ = os.environ if environ is None else environ
    candidates = _candidates(identifier)
    specs = names.get(kind, {})
    if kind == "function" and environ.get("API_FUNCTION_NAME", "serverless-sre-api") in candidates:
        return f"{kind}:{API}"
    if kind == "secret" and environ.get("DB_SECRET_ID") in candidates:
        return DATABASE_SECRET
    for key, spec in specs.items():
        values = {environ.get(spec[setting]) for setting in ("name_setting", "arn_setting", "url_setting")
                  if spec.get(setting)} | {spec.get("default_name")}
        if values & candidates:
            return f"{kind}:{key}"
    for key in sorted(specs, key=len, reverse=True):
        if any(value == key or value.endswith(("-" + key, "/" + key)) for value in candidates):
            return f"{kind}:{key}"
    return f"{kind}:?{identifier}"


class CallRecorder:
    """``process_function``: the one principal of the whole process (the ECS task role): every call is its."""

    def __init__(self, log_path: Optional[Path] = None, process_function: Optional[str] = None) -> None:
        self._process_function = process_function
        self._modules = handler_modules()
        self._names = _resource_names()
        self._lock = threading.Lock()
        self.calls: set[Call] = set()
        self._log_path = log_path
        self.listeners: list[Callable[[Call], None]] = []

    def __call__(self, params: Any = None, model: Any = None, **_: Any) -> None:
        if self._process_function is not None:
            function: Optional[str] = self._process_function
        else:
            on_stack = _stack_function(self._modules)
            function = on_stack if on_stack == _STAND_IN else (_current.get() or on_stack)
        if function in (None, _STAND_IN) or model is None:
            return
        service = model.service_model.service_name
        if service == "dynamodb" and model.name in TRANSACTION_ITEM_ACTIONS:
            # IAM authorizes a transaction item by item, as the single-item action on its table.
            for item in (params or {}).get("TransactItems", []) or []:
                for kind, operation in item.items():
                    if isinstance(operation, dict) and isinstance(operation.get("TableName"), str):
                        self._record(Call(function, f"dynamodb:{TRANSACTION_ITEM_ACTIONS[model.name][kind]}",
                                          resource_of("table", operation["TableName"], self._names)))
            return
        action = f"{IAM_PREFIXES.get(service, service)}:{model.name}"
        resources = self.resources(params or {}) or [None]
        for resource in resources:
            self._record(Call(function, action, resource))

    def resources(self, params: dict[str, Any]) -> list[str]:
        found = []
        for kind, names in RESOURCE_PARAMETERS.items():
            for name in names:
                if isinstance(params.get(name), str):
                    found.append(resource_of(kind, params[name], self._names))
        for table in params.get("RequestItems", {}) or {}:  # BatchGetItem, BatchWriteItem
            found.append(resource_of("table", table, self._names))
        return found

    def _record(self, call: Call) -> None:
        with self._lock:
            new = call not in self.calls
            self.calls.add(call)
            if new and self._log_path is not None:
                with open(self._log_path, "a", encoding="utf-8") as log:
                    log.write(json.dumps(call.as_json()) + "\n")
        for listener in self.listeners:
            listener(call)


_recorder: Optional[CallRecorder] = None


def install(log_path: Optional[Path] = None, process_function: Optional[str] = None) -> CallRecorder:
    """Hook every botocore session created from now on (as moto does, through BUILTIN_HANDLERS)."""
    global _recorder
    from botocore import handlers

    if _recorder is None:
        _recorder = CallRecorder(log_path, process_function)
        handlers.BUILTIN_HANDLERS.append(("before-parameter-build", _recorder))
    return _recorder


def install_from_environment(process_function: Optional[str] = None) -> Optional[CallRecorder]:
    """The local stack records when AWS_CALL_LOG names a file (the e2e tests set it)."""
    path = os.environ.get(LOG_SETTING)
    return install(Path(path), process_function) if path else None


def read_log(path: Path) -> set[Call]:
    if not path.exists():
        return set()
    return {Call(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}
