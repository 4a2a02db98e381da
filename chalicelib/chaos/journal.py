"""The experiment journal: one record per experiment, and a lock per target while it runs.

``ExperimentRecord`` is what the API shows and the workflow writes: status, steady state
before and after, the stop condition that fired, each expected response (met or not, in how
long), the budget consumed, the breakers that moved, incidents and pages, saved values
(restored at rollback), and the timeline. Providers: ``MemoryJournal`` and
``DynamoDBJournal`` (one table: experiments, plus ``TARGET#<target>`` lock items written in
the same transaction as the experiment, so two experiments never hold one target; a lock
past its expiry is free, covering a workflow that died).

A record changes only through ``update``: read, change, write back if nobody wrote in between
(a version per record), and only while it has the status the writer expects. A workflow step
still running when an operator stops the experiment therefore cannot write its older copy over
the stop, and learns (``ExperimentFinished``) that it must undo what it just did.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional, Protocol

from chalicelib.dynamodb import is_conditional_failure, sorted_index, table_meta, transaction_connection

if TYPE_CHECKING:
    from chalicelib.http.cursor import Position

RUNNING, COMPLETED, FAILED_HYPOTHESIS = "running", "completed", "failed_hypothesis"
ABORTED, REFUSED, ERRORED = "aborted", "refused", "errored"
STATUSES = (RUNNING, COMPLETED, FAILED_HYPOTHESIS, ABORTED, REFUSED, ERRORED)
LISTING = "EXPERIMENT"


class TargetBusy(Exception):
    def __init__(self, target: str, experiment_id: str) -> None:
        super().__init__(f"{target} is busy: experiment {experiment_id} is running on it")
        self.target, self.experiment_id = target, experiment_id


class ExperimentMissing(LookupError):
    pass


class ExperimentFinished(Exception):
    """The record no longer has the status its writer expected (an operator stopped it, or it ended)."""

    def __init__(self, record: "ExperimentRecord", expected: str) -> None:
        super().__init__(f"experiment {record.id} is {record.status}, not {expected}")
        self.record, self.expected = record, expected


# Writers racing on one record (the API noting the execution, the workflow's first step) retry
# this many times; more means something rewrites the record in a loop.
UPDATE_ATTEMPTS = 8


@dataclass(frozen=True)
class ExperimentRecord:
    id: str
    title: str
    source: str  # a catalog name, or "inline"
    definition: Mapping[str, Any]
    targets: tuple[str, ...]
    status: str
    started_at: str
    started_by: str
    ends_by: float  # epoch seconds: every fault and lock of this experiment expires by then
    ended_at: Optional[str] = None
    execution_arn: Optional[str] = None
    reason: str = ""
    steady_state_before: Optional[Mapping[str, Any]] = None
    steady_state_after: Optional[Mapping[str, Any]] = None
    stop_condition: Optional[Mapping[str, Any]] = None
    expected_responses: tuple[Mapping[str, Any], ...] = ()
    budget: Optional[Mapping[str, Any]] = None
    breakers: tuple[Mapping[str, Any], ...] = ()
    incidents: tuple[Mapping[str, Any], ...] = ()
    saved: Mapping[str, Any] = field(default_factory=dict)
    timeline: tuple[Mapping[str, Any], ...] = ()

    def with_event(self, at: str, event: str, **detail: Any) -> "ExperimentRecord":
        return replace(self, timeline=self.timeline + ({"at": at, "event": event, **detail},))

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "source": self.source, "definition": dict(self.definition),
                "targets": list(self.targets), "status": self.status, "started_at": self.started_at,
                "started_by": self.started_by, "ends_by": self.ends_by, "ended_at": self.ended_at,
                "execution_arn": self.execution_arn, "reason": self.reason,
                "steady_state_before": self.steady_state_before, "steady_state_after": self.steady_state_after,
                "stop_condition": self.stop_condition, "expected_responses": [dict(r) for r in self.expected_responses],
                "budget": self.budget, "breakers": [dict(b) for b in self.breakers],
                "incidents": [dict(i) for i in self.incidents], "saved": dict(self.saved),
                "timeline": [dict(e) for e in self.timeline]}

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "ExperimentRecord":
        return cls(id=body["id"], title=body["title"], source=body["source"], definition=dict(body["definition"]),
                   targets=tuple(body["targets"]), status=body["status"], started_at=body["started_at"],
                   started_by=body["started_by"], ends_by=float(body["ends_by"]), ended_at=body.get("ended_at"),
                   execution_arn=body.get("execution_arn"), reason=body.get("reason", ""),
                   steady_state_before=body.get("steady_state_before"),
                   steady_state_after=body.get("steady_state_after"), stop_condition=body.get("stop_condition"),
                   expected_responses=tuple(body.get("expected_responses") or ()), budget=body.get("budget"),
                   breakers=tuple(body.get("breakers") or ()), incidents=tuple(body.get("incidents") or ()),
                   saved=dict(body.get("saved") or {}), timeline=tuple(body.get("timeline") or ()))


class Journal(Protocol):
    def create(self, record: ExperimentRecord, now: float) -> None:
        """Store ``record`` and lock its targets until ``record.ends_by``; raises TargetBusy."""

    def get(self, experiment_id: str) -> ExperimentRecord: ...

    def update(self, experiment_id: str, change: Callable[[ExperimentRecord], ExperimentRecord],
               while_status: str = RUNNING) -> ExperimentRecord:
        """Apply ``change`` to the stored record and store the result, unless another writer got in
        between (then again, with what they wrote); raises ExperimentFinished when the stored
        status is not ``while_status``, ExperimentMissing."""

    def release(self, record: ExperimentRecord) -> None:
        """Free the record's targets (only the locks this experiment holds)."""

    def listing(self, limit: int, after: Optional[Position] = None) -> list[ExperimentRecord]:
        """Newest first (by ``started_at``, then id: the ``by_started`` index's ``started_at#id``),
        only those strictly after ``after`` in that order."""

    def running_on(self, now: float) -> dict[str, str]:
        """target -> experiment id, for every lock not yet expired."""


def index_key(started_at: str, experiment_id: str) -> str:
    """The ``by_started`` sort key: experiments started in the same instant are ordered by id."""
    return f"{started_at}#{experiment_id}"


def _index_order(record: ExperimentRecord) -> tuple[str, str]:
    return record.started_at, record.id


class MemoryJournal:
    def __init__(self) -> None:
        self._records: dict[str, ExperimentRecord] = {}
        self._locks: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def create(self, record: ExperimentRecord, now: float) -> None:
        with self._lock:
            for target in record.targets:
                holder = self._locks.get(target)
                if holder is not None and holder[1] > now:
                    raise TargetBusy(target, holder[0])
            for target in record.targets:
                self._locks[target] = (record.id, record.ends_by)
            self._records[record.id] = record

    def get(self, experiment_id: str) -> ExperimentRecord:
        try:
            return self._records[experiment_id]
        except KeyError:
            raise ExperimentMissing(experiment_id) from None

    def update(self, experiment_id: str, change: Callable[[ExperimentRecord], ExperimentRecord],
               while_status: str = RUNNING) -> ExperimentRecord:
        with self._lock:
            record = self.get(experiment_id)
            if record.status != while_status:
                raise ExperimentFinished(record, while_status)
            self._records[experiment_id] = changed = change(record)
            return changed

    def release(self, record: ExperimentRecord) -> None:
        with self._lock:
            for target in record.targets:
                if self._locks.get(target, ("",))[0] == record.id:
                    del self._locks[target]

    def listing(self, limit: int, after: Optional[Position] = None) -> list[ExperimentRecord]:
        with self._lock:
            records = sorted(self._records.values(), key=_index_order, reverse=True)
        return [record for record in records if after is None or _index_order(record) < after][:limit]

    def running_on(self, now: float) -> dict[str, str]:
        return {target: holder for target, (holder, until) in self._locks.items() if until > now}


def journal_models(table_name: str, region: str) -> Any:
    """The pynamodb classes of the journal table (``chalicelib.wiring`` builds them once per process)."""
    # pynamodb.models costs ~100 ms to import; only code that touches the journal pays it.
    from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
    from pynamodb.models import Model

    class JournalItem(Model):
        Meta = table_meta(table_name, region)
        pk = UnicodeAttribute(hash_key=True)
        listing = UnicodeAttribute(null=True)  # experiments only: locks stay out of the index
        started_at = UnicodeAttribute(null=True)
        status = UnicodeAttribute(null=True)
        document = JSONAttribute(null=True)
        version = NumberAttribute(null=True)  # experiments: bumped by every write (JournalItem.update)
        experiment_id = UnicodeAttribute(null=True)  # locks: who holds the target
        lock_expires_at = NumberAttribute(null=True)  # locks: free after this (and the table's TTL)
        by_started = sorted_index("by_started", "listing", "started_at")

    class Models:
        item = JournalItem
        connection = transaction_connection(region)

    return Models


def lock_key(target: str) -> str:
    return f"TARGET#{target}"


class DynamoDBJournal:
    def __init__(self, models: Any) -> None:
        self._models = models

    def _item(self, record: ExperimentRecord, version: int = 1) -> Any:
        return self._models.item(record.id, listing=LISTING, started_at=index_key(record.started_at, record.id),
                                 status=record.status, document=record.to_json(), version=version)

    def create(self, record: ExperimentRecord, now: float) -> None:
        from pynamodb.exceptions import TransactWriteError
        from pynamodb.transactions import TransactWrite

        item = self._models.item
        try:
            with TransactWrite(connection=self._models.connection) as transaction:
                for target in record.targets:
                    transaction.save(item(lock_key(target), experiment_id=record.id, lock_expires_at=record.ends_by),
                                     condition=item.pk.does_not_exist() | (item.lock_expires_at <= now))
                transaction.save(self._item(record), condition=item.pk.does_not_exist())
        except TransactWriteError as exc:
            for target, holder in self.running_on(now).items():
                if target in record.targets:
                    raise TargetBusy(target, holder) from exc
            raise

    def get(self, experiment_id: str) -> ExperimentRecord:
        from pynamodb.exceptions import DoesNotExist

        if experiment_id.startswith("TARGET#"):
            raise ExperimentMissing(experiment_id)
        try:
            return ExperimentRecord.from_json(self._models.item.get(experiment_id, consistent_read=True).document)
        except DoesNotExist:
            raise ExperimentMissing(experiment_id) from None

    def update(self, experiment_id: str, change: Callable[[ExperimentRecord], ExperimentRecord],
               while_status: str = RUNNING) -> ExperimentRecord:
        from pynamodb.exceptions import DoesNotExist, PutError

        item = self._models.item
        for _ in range(UPDATE_ATTEMPTS):
            try:
                stored = item.get(experiment_id, consistent_read=True)
            except DoesNotExist:
                raise ExperimentMissing(experiment_id) from None
            record = ExperimentRecord.from_json(stored.document)
            if record.status != while_status:
                raise ExperimentFinished(record, while_status)
            changed = change(record)
            unchanged_since_read = (item.version == stored.version if stored.version is not None
                                    else item.version.does_not_exist())
            try:
                self._item(changed, (stored.version or 0) + 1).save(
                    condition=unchanged_since_read & (item.status == while_status))
                return changed
            except PutError as exc:
                if not is_conditional_failure(exc.cause or exc):
                    raise
        raise RuntimeError(f"experiment {experiment_id}: {UPDATE_ATTEMPTS} writers in a row got in first")

    def release(self, record: ExperimentRecord) -> None:
        item = self._models.item
        for target in record.targets:
            try:
                item(lock_key(target)).delete(condition=item.experiment_id == record.id)
            except Exception as exc:  # noqa: BLE001 - narrowed below: someone else's lock is theirs to free
                if not is_conditional_failure(getattr(exc, "cause", exc)) and not is_conditional_failure(exc):
                    raise

    def listing(self, limit: int, after: Optional[Position] = None) -> list[ExperimentRecord]:
        # The index's own LastEvaluatedKey for the record at ``after``: its keys and the table's.
        start = None if after is None else {"listing": {"S": LISTING}, "started_at": {"S": index_key(*after)},
                                            "pk": {"S": after.id}}
        return [ExperimentRecord.from_json(item.document)
                for item in self._models.item.by_started.query(LISTING, scan_index_forward=False, limit=limit,
                                                                last_evaluated_key=start)]

    def running_on(self, now: float) -> dict[str, str]:
        item = self._models.item
        return {entry.pk.removeprefix("TARGET#"): entry.experiment_id
                for entry in item.scan(item.pk.startswith("TARGET#") & (item.lock_expires_at > now),
                                       consistent_read=True)}
