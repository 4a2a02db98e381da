"""The HTTP face of chaos experiments: request checking and responses; routes.py wires these up."""
from __future__ import annotations

import re
from typing import Any

from chalicelib.auth import OperatorAction
from chalicelib.chaos.definition import DefinitionError
from chalicelib.chaos.journal import ExperimentMissing, TargetBusy
from chalicelib.chaos.service import ChaosService, NotRunning
from chalicelib.http.cursor import Position, page, read_cursor
from chalicelib.http.errors import ApiError, Conflict, NotFound, ServiceUnavailable, ValidationFailed
from chalicelib.http.request import json_object, known_query, query_int

START_FIELDS = ("experiment", "definition")
EXPERIMENT_ID = re.compile(r"^exp-[0-9a-f]{12}$")
PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX = 50, 500
LIST_NAME = "chaos experiments"  # what a cursor of this list says it belongs to


def _load(service: ChaosService, experiment_id: str) -> Any:
    if not EXPERIMENT_ID.match(experiment_id):
        raise NotFound(f"Experiment {experiment_id!r} not found")
    try:
        return service.get(experiment_id)
    except ExperimentMissing:
        raise NotFound(f"Experiment {experiment_id} not found") from None


def start(service: ChaosService, request: Any, action: OperatorAction) -> tuple[dict[str, Any], int]:
    body = json_object(request, allowed=START_FIELDS)
    if not service.configured:
        raise ServiceUnavailable("The chaos workflow is not deployed (CHAOS_STATE_MACHINE_ARN is empty)")
    try:
        record = service.start(body, action.operator)
    except DefinitionError as problem:
        raise ValidationFailed({problem.field: [problem.reason]}) from None
    except TargetBusy as busy:
        raise ApiError(str(busy), status_code=409, details={"target": busy.target,
                                                            "running_experiment": busy.experiment_id}) from None
    action.target = record.id
    return record.to_json(), 202


def listing(service: ChaosService, request: Any) -> dict[str, Any]:
    params = known_query(request, ("limit", "cursor"))
    limit = query_int(params, "limit", default=PAGE_SIZE_DEFAULT, minimum=1, maximum=PAGE_SIZE_MAX)
    errors: dict[str, list[str]] = {}
    after = read_cursor(params.get("cursor"), LIST_NAME, {}, EXPERIMENT_ID.fullmatch, errors)
    if errors:
        raise ValidationFailed(errors)
    records, next_cursor = page(service.listing(limit + 1, after), limit,
                                lambda record: Position(record.started_at, record.id), LIST_NAME, {})
    return {"experiments": [record.to_json() for record in records], "next_cursor": next_cursor}


def get(service: ChaosService, experiment_id: str) -> dict[str, Any]:
    return _load(service, experiment_id).to_json()


def stop(service: ChaosService, experiment_id: str, action: OperatorAction) -> dict[str, Any]:
    _load(service, experiment_id)
    try:
        return service.stop(experiment_id, action.operator).to_json()
    except NotRunning as exc:
        raise Conflict(str(exc)) from None
