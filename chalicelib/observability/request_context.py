"""Per-request facts that views report and the middleware turns into SLI counts."""
from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Optional


@dataclass
class RequestFacts:
    data_queries: int = 0
    stale_data_queries: int = 0
    # Why the request failed with a 5xx, for the middleware's log line (never sent to the client).
    failure_cause: Optional[str] = None
    # Requests that are not the service's users being served (the local stack's own tools).
    excluded_from_sli: bool = False
    # The chaos experiment whose fault touched this request (route, DynamoDB or webhook fault).
    chaos_experiment: Optional[str] = None

    @property
    def served_stale(self) -> bool:
        return self.stale_data_queries > 0


_facts: ContextVar[RequestFacts] = ContextVar("request_facts", default=RequestFacts())


def begin_request() -> RequestFacts:
    facts = RequestFacts()
    _facts.set(facts)
    return facts


def current_facts() -> RequestFacts:
    return _facts.get()


def record_data_query(*, fresh: bool) -> None:
    facts = _facts.get()
    facts.data_queries += 1
    if not fresh:
        facts.stale_data_queries += 1


def record_failure_cause(cause: str) -> None:
    _facts.get().failure_cause = cause


def exclude_from_sli() -> None:
    """This request is no SLI event: it counts as a request, never as a valid one or an error."""
    _facts.get().excluded_from_sli = True


def record_chaos_experiment(experiment_id: Optional[str]) -> None:
    """A chaos fault touched this request: its logs and metrics name the experiment."""
    if experiment_id:
        _facts.get().chaos_experiment = experiment_id
