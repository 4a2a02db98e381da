"""Starting, listing and stopping experiments; which experiment is running on a target.

``ChaosService.start`` validates the definition, writes the journal record and the target
locks in one transaction (a busy target is ``TargetBusy``), then starts the workflow with
``{"experiment_id": ...}``. ``stop`` stops the execution and rolls back at once, so an
operator never waits for the next watch interval. ``sweep`` (the ``chaos-sweeper`` function, every
minute) rolls back an experiment whose workflow ended without rolling it back.
"""
from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional

from chalicelib.aws import is_execution_gone
from chalicelib.chaos.journal import ABORTED, ERRORED, RUNNING, ExperimentFinished, ExperimentRecord
from chalicelib.chaos.steps import ExperimentSteps, iso
from chalicelib.incidents.experiments import ActiveExperiment

if TYPE_CHECKING:
    from chalicelib.http.cursor import Position


# How many of the newest experiments the sweeper looks at (one runs per target at a time).
SWEEP_RECENT = 100


class NotRunning(Exception):
    pass


class ChaosService:
    def __init__(self, steps: ExperimentSteps, journal: Any, faults: Any, active_faults: Any, actions: Any,
                 sfn: Any, state_machine_arn: str, clock: Callable[[], float] = time.time) -> None:
        self._steps = steps
        self._journal = journal
        self._faults = faults
        self._active = active_faults
        self._actions = actions
        self._sfn = sfn
        self._state_machine_arn = state_machine_arn
        self._clock = clock

    @property
    def configured(self) -> bool:
        return bool(self._state_machine_arn)

    def start(self, body: Mapping[str, Any], actor: str) -> ExperimentRecord:
        """Raises DefinitionError (400), TargetBusy (409)."""
        source, definition = self._steps.resolve(body)
        record = self._steps.new_record(source, definition, actor)
        self._journal.create(record, self._clock())
        try:
            execution = self._sfn.start_execution(stateMachineArn=self._state_machine_arn, name=record.id,
                                                  input=json.dumps({"experiment_id": record.id}))["executionArn"]
        except Exception as exc:  # noqa: BLE001 - recorded in the journal and re-raised (the API answers 5xx)
            failed = self._journal.update(record.id, lambda stored: replace(
                stored, status=ERRORED, ended_at=iso(self._clock()),
                reason=f"the workflow did not start: {type(exc).__name__}: {exc}"[:500]))
            self._journal.release(failed)
            raise
        # The workflow's first steps may already be writing the record: update retries past them.
        return self._journal.update(record.id, lambda stored: replace(stored, execution_arn=execution))

    def get(self, experiment_id: str) -> ExperimentRecord:
        return self._journal.get(experiment_id)

    def listing(self, limit: int, after: Optional[Position] = None) -> list[ExperimentRecord]:
        return self._journal.listing(limit, after)

    def stop(self, experiment_id: str, actor: str) -> ExperimentRecord:
        """Stop the workflow and roll back now. Raises ExperimentMissing, NotRunning."""
        record = self._journal.get(experiment_id)
        if record.status != RUNNING:
            raise NotRunning(f"experiment {experiment_id} is {record.status}, not running")
        if record.execution_arn:
            self._stop_execution(record.execution_arn, actor)
        # Aborted first, then rolled back: a step still running writes nothing after this (its
        # update fails and it undoes what it did itself), and every action a step saved before it
        # is in the record read here.
        try:
            return self._abort_and_roll_back(experiment_id, lambda stored: _stop_reason(stored, actor),
                                             "stopped", by=actor)
        except ExperimentFinished as finished:
            raise NotRunning(str(finished)) from None

    def sweep(self, recent: int = SWEEP_RECENT) -> list[ExperimentRecord]:
        """Roll back the running experiments whose workflow ended without doing so (it failed on an
        uncatchable error, was stopped from the console, or ran past ``ends_by``): their faults
        expire by themselves, but a throttled function or a scaled-in service would stay so."""
        swept = []
        for record in self._journal.listing(recent):
            if record.status != RUNNING:
                continue
            ended = self._workflow_end(record)
            if ended is None:
                continue
            if record.execution_arn:  # past its planned end and still running: stuck, stopped first
                self._stop_execution(record.execution_arn, "the sweeper")
            try:
                swept.append(self._abort_and_roll_back(
                    record.id, lambda stored: f"the workflow ended without rolling back ({ended}); rolled back by "
                                              f"the sweeper", "workflow_lost", workflow=ended))
            except ExperimentFinished:  # its workflow journaled it meanwhile
                continue
        return swept

    def _workflow_end(self, record: ExperimentRecord) -> Optional[str]:
        """How the experiment's workflow ended while the journal still says running; None while it runs."""
        if record.execution_arn:
            described = self._describe_execution(record.execution_arn)
            if described is None:
                return "execution no longer exists"
            if described["status"] != "RUNNING":
                cause = ": ".join(part for part in (described.get("error"), described.get("cause")) if part)
                return f"execution {described['status']}" + (f", {cause[:300]}" if cause else "")
        # Started from the console (no execution recorded), or a workflow still running past the end
        # it planned: every step would have finished by ends_by.
        if self._clock() > record.ends_by:
            return "still running past its planned end"
        return None

    def _abort_and_roll_back(self, experiment_id: str, reason: Callable[[ExperimentRecord], str], event: str,
                             **detail: Any) -> ExperimentRecord:
        """Journal the experiment aborted, then remove its faults and undo its actions (raises ExperimentFinished)."""
        now = iso(self._clock())
        aborted = self._journal.update(experiment_id, lambda stored: replace(
            stored, status=ABORTED, ended_at=now, reason=reason(stored)).with_event(now, event, **detail))
        removed = self._faults.remove_experiment(aborted.id)
        self._active.invalidate()
        restored = [self._actions.undo(saved) for saved in (aborted.saved or {}).get("actions", [])]
        final = self._journal.update(experiment_id, lambda stored: replace(
            stored, saved={**dict(stored.saved), "restored": restored}).with_event(
            iso(self._clock()), "rolled_back", faults_removed=removed, restored=[r["type"] for r in restored]),
            while_status=ABORTED)
        self._journal.release(final)
        return final

    def _describe_execution(self, execution_arn: str) -> Optional[Mapping[str, Any]]:
        """The execution, or None when Step Functions no longer has it (lost with the embedded AWS's
        restart, or with its state machine's redeployment): its experiment must still roll back."""
        from botocore.exceptions import ClientError

        try:
            return self._sfn.describe_execution(executionArn=execution_arn)
        except ClientError as exc:
            if is_execution_gone(exc):
                return None
            raise

    def _stop_execution(self, execution_arn: str, actor: str) -> None:
        described = self._describe_execution(execution_arn)
        if described is not None and described["status"] == "RUNNING":
            self._sfn.stop_execution(executionArn=execution_arn, error="ExperimentStopped",
                                     cause=f"stopped by {actor}")


def _stop_reason(record: ExperimentRecord, actor: str) -> str:
    """Why the experiment ended: a stop condition that fired first (the workflow was rolling back
    or verifying recovery) stays the reason, the operator's stop is added to it."""
    fired = record.stop_condition
    if not fired:
        return f"stopped by {actor}"
    return f"stop condition fired: {fired['name']} (observed {fired['observed']}); then stopped by {actor}"


class JournalExperimentLookup:
    """``chalicelib.incidents.experiments.ExperimentLookup`` over the journal's target locks.

    A lock is held from the start to the journal (or ``ends_by``): only incidents opened in that
    window are linked (a retrigger of an older one is not). A target of an incident is a breaker
    (``database``, ``webhook``) or an SLO. A breaker matches the experiment acting on it; an SLO
    matches a running experiment acting on what serves the API: the users store, its routes, the
    API function (``lambda:<api function>``), the ECS service, or a load phase. Throttling another
    function, or failing the webhook, spends no API SLO.
    """

    def __init__(self, journal: Any, slo_names: Callable[[], list[str]], clock: Callable[[], float] = time.time,
                 logger: Any = None, api_function: str = "") -> None:
        self._journal = journal
        self._slo_names = slo_names
        self._clock = clock
        self._logger = logger
        self._api_targets = {"database", "load", f"lambda:{api_function}"}

    def _serves_the_api(self, locked: str) -> bool:
        return locked in self._api_targets or locked.startswith(("route:", "ecs:"))

    def active_for(self, target: str) -> Optional[ActiveExperiment]:
        from chalicelib.dynamodb import storage_errors

        try:
            running = self._journal.running_on(self._clock())
        except storage_errors() as exc:
            # A page or an incident must never fail because the journal cannot be read.
            if self._logger is not None:
                self._logger.warning("chaos journal unreadable; the page cannot say whether an experiment runs",
                                     extra={"error": f"{type(exc).__name__}: {exc}"[:300]})
            return None
        if target in running:
            return ActiveExperiment(id=running[target], target=target, kind="chaos")
        if target not in self._slo_names():
            return None
        locked = next((locked for locked in sorted(running) if self._serves_the_api(locked)), None)
        if locked is None:
            return None
        return ActiveExperiment(id=running[locked], target=locked, kind="chaos")
