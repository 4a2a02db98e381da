"""The Step Functions tasks of ``statemachines/chaos_experiment.asl.json``.

Every task takes the experiment's state document and answers it updated, so the workflow's
input, each step and the journal read the same fields::

    {"experiment_id", "plan": {definition, targets, times...}, "gate", "before", "injected",
     "watch": {checks, fired, done, observations}, "rolled_back", "after", "error"?}

Validate -> BudgetGate -> SteadyStateBefore -> Inject -> (Wait -> Watch)* -> Rollback ->
(Wait -> VerifyRecovery)* -> Journal. Every task's Catch leads to Rollback (or, from Rollback
and later, to Journal); faults and target locks expire at ``plan.ends_by`` whatever happens.
"""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Optional

from chalicelib.chaos import definition as definitions
from chalicelib.chaos.journal import (
    ABORTED, COMPLETED, ERRORED, FAILED_HYPOTHESIS, REFUSED, RUNNING, ExperimentFinished, ExperimentMissing,
    ExperimentRecord, TargetBusy)
from chalicelib.chaos.model import FaultRecord

INPUT_FIELDS = {"experiment", "definition", "started_by"}


def shipped_load_scenarios() -> Optional[list[str]]:
    """The load generator's shipped scenarios, or None where it is not installed.

    tools/ is the operator's side: the Lambda package ships chalicelib only, so a deployed
    function cannot drive a load phase; the local stack and the container image can.
    """
    try:
        from tools.loadgen.scenario import shipped_scenarios
    except ImportError:
        return None
    return list(shipped_scenarios())


def new_experiment_id() -> str:
    return f"exp-{uuid.uuid4().hex[:12]}"


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


class ExperimentSteps:
    def __init__(self, *, faults: Any, active_faults: Any, journal: Any, slo_status: Any, breakers: Any,
                 incidents: Any, cloudwatch: Any, actions: Any, namespace: str, service: str,
                 catalog_dir: Any = definitions.REPOSITORY_CATALOG, max_duration_seconds: int = 3600,
                 expiry_grace_seconds: int = 120, load_base_url: str = "", logger: Any = None,
                 clock: Callable[[], float] = time.time,
                 load_scenarios: Callable[[], Optional[list[str]]] = shipped_load_scenarios) -> None:
        self._faults = faults
        self._active = active_faults
        self._journal = journal
        self._slo = slo_status
        self._breakers = breakers
        self._incidents = incidents
        self._cloudwatch = cloudwatch
        self._actions = actions
        self._namespace = namespace
        self._service = service
        self._catalog = catalog_dir
        self._max_duration = max_duration_seconds
        self._grace = expiry_grace_seconds
        self._load_base_url = load_base_url
        self._load_scenarios = load_scenarios
        self._logger = logger
        self._clock = clock

    # -- the plan ----------------------------------------------------------------------------------
    def resolve(self, request: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """(source, definition) of a request naming a catalog ``experiment`` or an inline ``definition``."""
        if not isinstance(request, Mapping):
            raise definitions.DefinitionError("(input)", "a JSON object")
        unknown = sorted(set(request) - INPUT_FIELDS)
        if unknown:
            raise definitions.DefinitionError(unknown[0], "unknown field")
        if ("experiment" in request) == ("definition" in request):
            raise definitions.DefinitionError("experiment", "give a catalog name in experiment or an inline definition")
        if "experiment" in request:
            name = request["experiment"]
            return name, definitions.catalog_entry(name, self._catalog)
        return "inline", request["definition"]

    def new_record(self, source: str, definition: Mapping[str, Any], started_by: str,
                   experiment_id: Optional[str] = None) -> ExperimentRecord:
        problem = (definitions.validate(definition, self._catalog, max_duration_seconds=self._max_duration)
                   or self._names_problem(definition) or self._load_problem(definition)
                   or self._infrastructure_problem(definition))
        if problem is not None:
            raise problem
        now = self._clock()
        ends_by = now + definition["duration_seconds"] + definition.get("recovery_seconds", 120) + self._grace
        record = ExperimentRecord(id=experiment_id or new_experiment_id(), title=definition["title"], source=source,
                                  definition=dict(definition), targets=tuple(definitions.targets(definition)),
                                  status=RUNNING, started_at=iso(now), started_by=started_by, ends_by=ends_by)
        return record.with_event(iso(now), "started", by=started_by, source=source)

    def _names_problem(self, definition: Mapping[str, Any]) -> Optional[definitions.DefinitionError]:
        """Every SLO, window and breaker the definition names exists: a probe of an unknown one observes
        nothing, so a hypothesis would hold and a stop condition never fire, whatever happened."""
        from chalicelib.slo.evaluation import DISPLAY_WINDOWS
        from chalicelib.slo.timeutil import format_minutes

        slos = {slo.name: slo for slo in self._slo.slos}
        breakers = list(self._breakers.names())

        def unknown(where: str, kind: str, name: str, known: list[str]) -> definitions.DefinitionError:
            return definitions.DefinitionError(where, f"no {kind} {name!r}; one of: {', '.join(known)}")

        sections = (("steady-state-hypothesis/probes", definition["steady-state-hypothesis"]["probes"]),
                    ("stop-conditions/conditions", (definition.get("stop-conditions") or {}).get("conditions", [])))
        for section, probes in sections:
            for index, probe in enumerate(probes):
                where = f"{section}/{index}"
                if probe["type"] == "breaker":
                    if probe["breaker"] not in breakers:
                        return unknown(f"{where}/breaker", "circuit breaker", probe["breaker"], breakers)
                    continue
                slo = slos.get(probe["slo"])
                if slo is None:
                    return unknown(f"{where}/slo", "SLO", probe["slo"], sorted(slos))
                windows = [format_minutes(minutes) for minutes in sorted({*DISPLAY_WINDOWS, slo.period_minutes})]
                if probe["window"] not in windows:
                    return unknown(f"{where}/window", f"window of {slo.name}", probe["window"], windows)
        for index, expected in enumerate(definition.get("expected-responses", [])):
            if "breaker" in expected and expected["breaker"] not in breakers:
                return unknown(f"expected-responses/{index}/breaker", "circuit breaker", expected["breaker"], breakers)
            if "target" in expected and expected["target"] not in (*breakers, *slos):
                return unknown(f"expected-responses/{index}/target", "breaker or SLO", expected["target"],
                               [*breakers, *sorted(slos)])
        for index, name in enumerate((definition.get("budget") or {}).get("slos", [])):
            if name not in slos:
                return unknown(f"budget/slos/{index}", "SLO", name, sorted(slos))
        return None

    def _load_problem(self, definition: Mapping[str, Any]) -> Optional[definitions.DefinitionError]:
        loads = [(index, action) for index, action in enumerate(definition["method"]) if action["type"] == "load"]
        if not loads:
            return None
        scenarios = self._load_scenarios()
        for index, action in loads:
            if scenarios is None:
                return definitions.DefinitionError(
                    f"method/{index}/type", "a load phase needs the load generator (tools/loadgen), which this "
                    "runtime does not include (the Lambda package ships chalicelib only); run the experiment from "
                    "the local stack or the container, or drive the load from outside with `make load`")
            if action["scenario"] not in scenarios:
                return definitions.DefinitionError(f"method/{index}/scenario",
                                                   f"a shipped load scenario: {', '.join(sorted(scenarios))}")
        return None

    def _infrastructure_problem(self, definition: Mapping[str, Any]) -> Optional[definitions.DefinitionError]:
        for index, action in enumerate(definition["method"]):
            if action["type"] in ("fault", "load"):
                continue
            problem = self._actions.problem(action)
            if problem is not None:
                return definitions.DefinitionError(f"method/{index}/{problem[0]}", problem[1])
        return None

    def validate(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """First state: check the input; a console start (no ``experiment_id``) also locks the targets."""
        try:
            if isinstance(state, Mapping) and set(state) == {"experiment_id"}:  # started by the API
                record = self._journal.get(str(state["experiment_id"]))
            else:
                source, definition = self.resolve(state)
                record = self.new_record(source, definition, str(state.get("started_by") or "step-functions-console"))
                self._journal.create(record, self._clock())
        except definitions.DefinitionError as problem:
            return {"valid": False, "reason": f"{problem.field}: {problem.reason}"}
        except TargetBusy as busy:
            return {"valid": False, "reason": str(busy)}
        except ExperimentMissing:
            return {"valid": False, "reason": f"experiment_id: no experiment {state['experiment_id']!r} in the journal"}
        return {"valid": True, "experiment_id": record.id, "plan": self._plan(record)}

    def _plan(self, record: ExperimentRecord) -> dict[str, Any]:
        spec = record.definition
        stop = spec.get("stop-conditions") or {}
        return {"title": record.title, "targets": list(record.targets), "ends_by": record.ends_by,
                "duration_seconds": spec["duration_seconds"],
                "recovery_seconds": spec.get("recovery_seconds", 120),
                "interval_seconds": min(stop.get("interval_seconds", 10), spec["duration_seconds"])}

    def _record(self, state: Mapping[str, Any]) -> ExperimentRecord:
        return self._journal.get(state["experiment_id"])

    def _note(self, state: Mapping[str, Any], event: str, **detail: Any) -> None:
        at = iso(self._clock())
        self._journal.update(state["experiment_id"], lambda stored: stored.with_event(at, event, **detail))

    # -- the gate ----------------------------------------------------------------------------------
    def budget_gate(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """Refuse unless every budget SLO has enough budget left, burns below the limit, and no freeze."""
        spec = self._record(state).definition
        policy = spec.get("budget") or {}
        names = policy.get("slos") or [slo.name for slo in self._slo.slos]
        minimum = policy.get("min_remaining_ratio", 0.25)
        max_burn = policy.get("max_fast_burn_rate", 1)
        snapshots = self._slo.status.latest(names)
        reasons, figures = [], {}
        for name in names:
            snapshot = snapshots.get(name)
            if snapshot is None:
                figures[name] = {"evaluated": False}
                continue
            remaining = snapshot.budget.remaining_ratio
            burn = (snapshot.windows.get("1h") or {}).get("burn_rate")
            # Before the period holds enough history the budget figures are no evidence either way
            # (the release freeze ignores them alike); the 1h burn rate needs only its own window.
            short_history = snapshot.budget.state == "insufficient_history"
            figures[name] = {"evaluated": True, "remaining_ratio": remaining, "fast_burn_rate_1h": burn,
                             "state": snapshot.budget.state, "insufficient_history": short_history}
            if not short_history and remaining is not None and remaining < minimum:
                reasons.append(f"{name}: {remaining:.1%} of the error budget left, the experiment needs {minimum:.0%}")
            if burn is not None and burn >= max_burn:
                reasons.append(f"{name}: fast burn rate {burn:g} over 1h, the experiment needs below {max_burn:g}")
        decision = self._slo.release_decision()
        if decision["releases_frozen"]:
            reasons.append(f"release freeze in force (by {', '.join(decision['frozen_by'])})")
        gate = {"allowed": not reasons, "reasons": reasons, "slos": figures}
        self._note(state, "budget_gate", allowed=gate["allowed"], reasons=reasons)
        return {**state, "gate": gate}

    # -- probes ------------------------------------------------------------------------------------
    def _probe(self, probe: Mapping[str, Any]) -> dict[str, Any]:
        kind = probe["type"]
        if kind == "breaker":
            observed = self._breakers.describe(probe["breaker"]).to_json()["state"]
            return {"name": probe["name"], "observed": observed, "met": observed == probe["state"]}
        snapshot = self._slo.status.latest([probe["slo"]]).get(probe["slo"])
        window = (snapshot.windows.get(probe["window"]) if snapshot else None) or {}
        if kind == "sli":
            observed = window.get("sli")
            # No events in the window: nothing was served badly.
            return {"name": probe["name"], "observed": observed, "met": observed is None or observed >= probe["min"]}
        observed = window.get("burn_rate")
        return {"name": probe["name"], "observed": observed, "met": observed is None or observed <= probe["max"]}

    def _hypothesis(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        probes = [self._probe(probe) for probe in spec["steady-state-hypothesis"]["probes"]]
        return {"met": all(p["met"] for p in probes), "probes": probes, "at": iso(self._clock())}

    def steady_state_before(self, state: Mapping[str, Any]) -> dict[str, Any]:
        before = self._hypothesis(self._record(state).definition)
        self._journal.update(state["experiment_id"], lambda stored: replace(stored, steady_state_before=before).with_event(
            before["at"], "steady_state_before", met=before["met"]))
        return {**state, "before": before}

    # -- inject ------------------------------------------------------------------------------------
    def inject(self, state: Mapping[str, Any]) -> dict[str, Any]:
        record = self._record(state)
        now = self._clock()
        written, saved = [], []
        try:
            for index, action in enumerate(record.definition["method"]):
                if action["type"] == "fault":
                    spec = action["fault"]
                    fault = FaultRecord(fault_id=f"{record.id}#{index}", experiment_id=record.id, kind=spec["kind"],
                                        target=spec["target"], magnitude=float(spec.get("magnitude", 0)),
                                        blast_radius_pct=float(spec.get("blast_radius_pct", 100)),
                                        expires_at=record.ends_by, operations=tuple(spec.get("operations", ())))
                    self._faults.put(fault)
                    written.append(fault.to_json())
                elif action["type"] != "load":
                    saved.append(self._actions.apply(action))
                    # Saved at once: a rollback after a later failure must find what to restore.
                    actions = list(saved)
                    self._journal.update(record.id, lambda stored: replace(stored, saved={"actions": actions}))
            self._journal.update(record.id, lambda stored: replace(stored, saved={"actions": saved}).with_event(
                iso(now), "injected", faults=[f["kind"] for f in written], actions=[s["type"] for s in saved]))
        except ExperimentFinished:
            # Stopped while injecting: the stop has rolled back what it could see; what this step
            # wrote since is undone here (undo is idempotent), then the step fails.
            self._faults.remove_experiment(record.id)
            for done in saved:
                self._actions.undo(done)
            raise
        finally:
            self._active.invalidate()
        injected = {"at": now, "faults": written, "saved": saved,
                    "until": now + record.definition["duration_seconds"]}
        return {**state, "injected": injected, "watch": {"checks": 0, "done": False, "fired": None,
                                                          "observations": {}}}

    # -- watch -------------------------------------------------------------------------------------
    def _observe(self, spec: Mapping[str, Any], observations: dict[str, Any], since: float) -> dict[str, Any]:
        """Record when each expected response was first seen (seconds after ``since``)."""
        now = self._clock()
        for expected in spec.get("expected-responses") or []:
            name = expected["name"]
            if name in observations or expected["type"] == "breaker_closes":  # measured after rollback
                continue
            seen_at = self._seen_at(expected, since, now)
            if seen_at is not None:
                observations[name] = round(max(0.0, seen_at - since), 3)
        return observations

    def _seen_at(self, expected: Mapping[str, Any], since: float, now: float) -> Optional[float]:
        kind = expected["type"]
        if kind in ("breaker_opens", "breaker_closes"):
            wanted = "open" if kind == "breaker_opens" else "closed"
            described = self._breakers.describe(expected["breaker"]).to_json()
            moves = [t["at"] for t in described.get("recent_transitions", [])
                     if t.get("to") == wanted and t.get("at") and _epoch(t["at"]) >= since]
            if moves:
                return min(_epoch(at) for at in moves)
            return now if kind == "breaker_closes" and described["state"] == "closed" else None
        if kind in ("incident_opened", "page_delivered"):
            for incident in self._incidents.list(since=iso(since - 1)):
                if incident.target != expected["target"]:
                    continue
                if kind == "incident_opened":
                    return _epoch(incident.opened_at)
                paged = [e.at for e in incident.timeline if e.kind in ("paged", "page")]
                if paged or incident.escalation_level >= 1:
                    return _epoch(paged[0]) if paged else now
            return None
        if kind == "stale_reads_served":
            return now if self._stale_reads(since, now) > 0 else None
        return None

    def _stale_reads(self, since: float, now: float) -> float:
        """Data queries answered from the stale fallback since ``since`` (the service's own metrics)."""
        start = datetime.fromtimestamp(since - since % 60, tz=timezone.utc)
        end = datetime.fromtimestamp(now + 60, tz=timezone.utc)
        queries = [{"Id": name, "MetricStat": {"Metric": {"Namespace": self._namespace, "MetricName": name,
                                                           "Dimensions": [{"Name": "service", "Value": self._service}]},
                                                "Period": 60, "Stat": "Sum"}, "ReturnData": True}
                   for name in ("data_queries", "fresh_data_queries")]
        result = self._cloudwatch.get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=end)
        sums = {series["Id"]: sum(series.get("Values", [])) for series in result["MetricDataResults"]}
        return sums.get("data_queries", 0) - sums.get("fresh_data_queries", 0)

    def watch(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """One check of the stop conditions (and the expected responses) during the run."""
        record = self._record(state)
        spec = record.definition
        now = self._clock()
        watch = dict(state["watch"])
        watch["checks"] += 1
        for action in spec["method"]:
            if action["type"] == "load":
                watch.setdefault("load", []).append(self._load_burst(action, state["plan"]["interval_seconds"]))
        for condition in (spec.get("stop-conditions") or {}).get("conditions", []):
            result = self._probe(condition)
            if not result["met"]:
                watch["fired"] = result
                break
        watch["observations"] = self._observe(spec, dict(watch["observations"]), state["injected"]["at"])
        watch["done"] = watch["fired"] is not None or now >= state["injected"]["until"]
        fired = watch["fired"]
        if fired is not None:
            self._journal.update(record.id, lambda stored: replace(stored, stop_condition=fired).with_event(
                iso(now), "stop_condition_fired", condition=fired["name"], observed=fired["observed"]))
        return {**state, "watch": watch}

    def _load_burst(self, action: Mapping[str, Any], seconds: float) -> dict[str, Any]:
        """One interval of load from the load generator (tools/loadgen) against the service, which
        leaves its data as it found it: the scenario's seed data (setup) is not stored, and the users
        the burst created and did not delete are deleted after it (its cleanup). Before, crud-mix left
        half its creates and 100 seed users in the users table every interval of every run."""
        # tools/ is the operator's side: a deployment without it cannot run a load phase, and says so.
        from tools.loadgen import LoadProfile, load_scenario, run_load

        scenario = replace(load_scenario(action["scenario"]), setup=())
        report = run_load(self._load_base_url, scenario,
                          LoadProfile.concurrency(action["concurrency"], f"{max(1, int(seconds))}s"),
                          cleanup=scenario.cleanup is not None)
        return {"requests": report.get("requests"), "latency_ms": report.get("latency_ms"),
                "cleanup": report.get("cleanup")}

    # -- rollback and recovery ---------------------------------------------------------------------
    def rollback(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """Remove every fault of the experiment and restore what its actions replaced (idempotent)."""
        record = self._record(state)
        removed = self._faults.remove_experiment(record.id)
        self._active.invalidate()
        restored = [self._actions.undo(saved) for saved in (record.saved or {}).get("actions", [])]
        now = self._clock()
        done = {"at": now, "faults_removed": removed, "restored": restored}
        after_error = {"after_error": state["error"].get("Error")} if state.get("error") else {}
        self._journal.update(record.id, lambda stored: replace(
            stored, saved={**dict(stored.saved), "restored": restored}).with_event(
            iso(now), "rolled_back", faults_removed=removed, restored=[r["type"] for r in restored], **after_error))
        # Nothing was injected (refused steady state, an early error): nothing to recover from.
        recovery_seconds = state["plan"]["recovery_seconds"] if "injected" in state else 0
        return {**state, "rolled_back": done, "recovery": {"checks": 0, "settled": False,
                                                           "until": now + recovery_seconds}}

    def verify_recovery(self, state: Mapping[str, Any]) -> dict[str, Any]:
        record = self._record(state)
        spec = record.definition
        now = self._clock()
        recovery = dict(state["recovery"])
        recovery["checks"] += 1
        after = self._hypothesis(spec)
        watch = dict(state.get("watch") or {"observations": {}})
        if "injected" in state:
            watch["observations"] = self._observe(spec, dict(watch.get("observations") or {}), state["injected"]["at"])
            closes = [e for e in spec.get("expected-responses") or [] if e["type"] == "breaker_closes"]
            for expected in closes:  # "closes within N s of rollback": measured from the rollback
                seen = self._seen_at(expected, state["rolled_back"]["at"], now)
                if seen is not None:
                    watch["observations"][expected["name"]] = round(max(0.0, seen - state["rolled_back"]["at"]), 3)
                else:
                    watch["observations"].pop(expected["name"], None)
        pending = [e for e in spec.get("expected-responses") or [] if e["name"] not in watch["observations"]]
        recovery["settled"] = ("injected" not in state or (after["met"] and not pending)
                               or now >= recovery["until"])
        return {**state, "after": after, "watch": watch, "recovery": recovery}

    # -- journal -----------------------------------------------------------------------------------
    def write_journal(self, state: Mapping[str, Any]) -> dict[str, Any]:
        record = self._record(state)
        spec = record.definition
        now = self._clock()
        observations = (state.get("watch") or {}).get("observations") or {}
        injected = "injected" in state
        expected = []
        for item in spec.get("expected-responses") or []:
            seconds = observations.get(item["name"])
            within = item.get("within_seconds")
            met = seconds is not None and (within is None or seconds <= within)
            expected.append({"name": item["name"], "type": item["type"], "met": met, "seconds": seconds,
                             "within_seconds": within})
        status, reason = self._verdict(state, expected, injected, spec)
        budget = self._budget_consumed(state)
        breakers = self._breakers_moved(spec, state["injected"]["at"] if injected else None)
        incidents = self._incidents_during(record, state["injected"]["at"] if injected else None)
        fired = (state.get("watch") or {}).get("fired")
        final = self._journal.update(record.id, lambda stored: replace(
            stored, status=status, reason=reason, ended_at=iso(now), steady_state_after=state.get("after"),
            expected_responses=tuple(expected), budget=budget, breakers=tuple(breakers), incidents=tuple(incidents),
            stop_condition=fired or stored.stop_condition).with_event(iso(now), "journal", status=status, reason=reason))
        self._journal.release(final)
        return {"experiment_id": record.id, "status": status, "reason": reason}

    def _verdict(self, state: Mapping[str, Any], expected: list[dict[str, Any]], injected: bool,
                 spec: Mapping[str, Any]) -> tuple[str, str]:
        gate = state.get("gate")
        if gate is not None and not gate["allowed"]:
            return REFUSED, "; ".join(gate["reasons"])
        if state.get("error"):
            return ERRORED, _error_reason(state["error"])
        if state.get("before") is not None and not state["before"]["met"]:
            failed = [p["name"] for p in state["before"]["probes"] if not p["met"]]
            return FAILED_HYPOTHESIS, f"steady state not met before injection: {', '.join(failed)}"
        fired = (state.get("watch") or {}).get("fired")
        if fired:
            return ABORTED, f"stop condition fired: {fired['name']} (observed {fired['observed']})"
        after = state.get("after")
        if after is not None and not after["met"]:
            failed = [p["name"] for p in after["probes"] if not p["met"]]
            return FAILED_HYPOTHESIS, f"steady state not recovered: {', '.join(failed)}"
        defined = {item["name"]: item for item in spec.get("expected-responses") or []}
        unmet = [item["name"] + self._why_not_seen(defined[item["name"]]) for item in expected if not item["met"]]
        if unmet:
            return FAILED_HYPOTHESIS, f"expected responses not met: {', '.join(unmet)}"
        return COMPLETED, "the service responded as designed"

    def _why_not_seen(self, item: Mapping[str, Any]) -> str:
        """Why a breaker that should have closed after the rollback did not, when the breaker tells: a
        breaker half-opens on the next call past its reset timeout, so without traffic it stays open."""
        if item["type"] != "breaker_closes":
            return ""
        described = self._breakers.describe(item["breaker"])
        if described.state == "open" and not described.forced_open and described.seconds_until_half_open == 0:
            return " (still open past its reset timeout: no request has tried it since; run the experiment " \
                   "with traffic, e.g. a load action)"
        return ""

    def _budget_consumed(self, state: Mapping[str, Any]) -> dict[str, Any]:
        before = ((state.get("gate") or {}).get("slos")) or {}
        names = list(before)
        now = self._slo.status.latest(names) if names else {}
        consumed = {}
        for name in names:
            start = before[name].get("remaining_ratio")
            end = now[name].budget.remaining_ratio if name in now else None
            consumed[name] = {"remaining_ratio_before": start, "remaining_ratio_after": end,
                              "consumed_ratio": None if start is None or end is None else round(start - end, 6)}
        return consumed

    def _breakers_moved(self, spec: Mapping[str, Any], since: Optional[float]) -> list[dict[str, Any]]:
        if since is None:
            return []
        moved = []
        for name in self._breakers.names():
            for transition in self._breakers.describe(name).to_json().get("recent_transitions", []):
                if transition.get("at") and _epoch(transition["at"]) >= since:
                    moved.append({"breaker": name, "from": transition.get("from"), "to": transition.get("to"),
                                  "at": transition["at"]})
        return sorted(moved, key=lambda m: m["at"])

    def _incidents_during(self, record: ExperimentRecord, since: Optional[float]) -> list[dict[str, Any]]:
        if since is None:
            return []
        return [{"id": incident.id, "target": incident.target, "severity": incident.severity,
                 "title": incident.title, "opened_at": incident.opened_at, "status": incident.status,
                 "paged": incident.escalation_level >= 1, "linked": record.id in incident.experiment_ids}
                for incident in self._incidents.list(since=iso(since - 1))]


def _epoch(value: Any) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def _error_reason(error: Mapping[str, Any]) -> str:
    """``Error: message`` of a failed state. A Lambda task's cause is its error as JSON, stack trace
    included: the journal is served by the API, so it keeps the message only."""
    cause = error.get("Cause", "")
    try:
        parsed = json.loads(cause) if isinstance(cause, str) else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and "errorMessage" in parsed:
        cause = parsed["errorMessage"]
    return f"{error.get('Error')}: {str(cause)[:500]}"
