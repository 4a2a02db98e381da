"""An alert's life: opened once per (SLO, tier) while the tier fires, handed to the sink until
the sink takes it, resolved when the burn rate is back under the threshold, when a faster tier
of the same SLO fires (suppressed, saying by which tier) or when the tier is gone. After each
SLO the sink gets the SLO's whole page picture (``SloEvaluation``).

The open lock in the alerts table makes "one open alert per tier" hold across concurrent runs;
a sink that raises on ``alert_opened`` is retried on the next run until it succeeds.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping, Optional, Protocol

from chalicelib.slo import alerting
from chalicelib.slo.config import BurnRateTier, SloDefinition
from chalicelib.slo.paging import AlertSink
from chalicelib.slo.records import Alert, SloEvaluation, SloSnapshot
from chalicelib.slo.timeutil import bucket_key, format_minutes, iso

TIER_REMOVED = "tier removed from the SLO"
BURN_RATE_RECOVERED = "burn rate back under the threshold"


class OpenAlert(Protocol):
    """The store's handle on an open alert: its record, and whether the sink has taken it."""
    alert: Alert
    handed_off: bool


class AlertLocks(Protocol):
    def open_alerts(self, slo: str) -> dict[str, OpenAlert]: ...

    def open(self, alert: Alert) -> Optional[OpenAlert]: ...

    def mark_handed_off(self, lock: OpenAlert) -> None: ...

    def resolve(self, lock: OpenAlert, alert: Alert) -> None: ...


def build_alert(slo: SloDefinition, tier: BurnRateTier, verdict: Mapping[str, Any], opened: datetime,
                remaining_ratio: Optional[float], runbooks_base_url: str) -> Alert:
    long_rate, short_rate = verdict["long_burn_rate"], verdict["short_burn_rate"]
    return Alert(
        id=f"{slo.name}/{tier.name}/{bucket_key(opened)}", slo=slo.name, slo_display_name=slo.display_name,
        tier=tier.name, severity=tier.severity, state="open", opened_at=iso(opened), resolved_at=None,
        burn_rate_threshold=tier.burn_rate, long_window=format_minutes(tier.long_minutes),
        short_window=format_minutes(tier.short_minutes), long_burn_rate=long_rate, short_burn_rate=short_rate,
        budget_remaining_ratio=remaining_ratio, runbook=f"runbooks/{tier.runbook}",
        runbook_url=f"{runbooks_base_url.rstrip('/')}/{tier.runbook}",
        summary=(f"{slo.display_name}: error budget burning at {long_rate:.1f}x over "
                 f"{format_minutes(tier.long_minutes)} and {short_rate:.1f}x over "
                 f"{format_minutes(tier.short_minutes)} (threshold {tier.burn_rate:g}x, {tier.severity})"))


def resolved(alert: Alert, end: datetime, verdict: Mapping[str, Any], reason: str) -> Alert:
    from dataclasses import replace

    return replace(alert, state="resolved", resolved_at=iso(end), resolution=reason,
                   resolved_long_burn_rate=verdict.get("long_burn_rate"),
                   resolved_short_burn_rate=verdict.get("short_burn_rate"))


def evaluation_of(slo: SloDefinition, snapshot: SloSnapshot, open_alerts: list[Alert],
                  end: datetime) -> SloEvaluation:
    return SloEvaluation(
        slo=slo.name, display_name=slo.display_name, at=iso(end),
        page_tiers=tuple(tier.name for tier in slo.tiers if tier.severity == "page"),
        firing_pages=tuple(alert for alert in open_alerts if alert.severity == "page"),
        budget_state=snapshot.budget.state, budget_remaining_ratio=snapshot.budget.remaining_ratio)


class AlertLifecycle:
    def __init__(self, locks: AlertLocks, sink: AlertSink, logger: Any, runbooks_base_url: str) -> None:
        self.locks = locks
        self.sink = sink
        self.logger = logger
        self.runbooks_base_url = runbooks_base_url

    def process(self, slo: SloDefinition, snapshot: SloSnapshot, end: datetime) -> tuple[list[str], list[str], list[str]]:
        """Open, retry and resolve ``slo``'s alerts; returns (open ids, opened ids, resolved ids)."""
        locks = self.locks.open_alerts(slo.name)
        verdicts = {verdict["name"]: verdict for verdict in snapshot.tiers}
        open_ids: list[str] = []
        open_alerts: list[Alert] = []
        opened: list[str] = []
        resolved_ids: list[str] = []
        for tier in slo.tiers:
            verdict = verdicts[tier.name]
            lock = locks.pop(tier.name, None)
            if verdict["state"] == alerting.FIRING and lock is None:
                alert = build_alert(slo, tier, verdict, end, snapshot.budget.remaining_ratio,
                                    self.runbooks_base_url)
                lock = self.locks.open(alert)
                if lock is not None:
                    opened.append(alert.id)
                    self._hand_off(lock)
                else:  # a run overlapping this one opened it since our read: it is open all the same
                    lock = self.locks.open_alerts(slo.name).get(tier.name)
            elif verdict["state"] == alerting.OK and lock is not None:
                resolved_ids.append(self._resolve(lock, end, verdict, BURN_RATE_RECOVERED))
                lock = None
            elif verdict["state"] == alerting.SUPPRESSED and lock is not None:
                resolved_ids.append(self._resolve(lock, end, verdict, f"suppressed by {verdict['suppressed_by']}"))
                lock = None
            elif lock is not None and not lock.handed_off:
                self._hand_off(lock)
            if lock is not None:
                open_ids.append(lock.alert.id)
                open_alerts.append(lock.alert)
        for lock in locks.values():  # tiers no longer configured
            resolved_ids.append(self._resolve(lock, end, {}, TIER_REMOVED))
        self._settle(evaluation_of(slo, snapshot, open_alerts, end))
        return open_ids, opened, resolved_ids

    def _settle(self, evaluation: SloEvaluation) -> None:
        """Hand the SLO's whole page picture to the sink: it keeps one incident per problem."""
        try:
            self.sink.slo_evaluated(evaluation)
        except Exception:  # the next run hands the same picture over again
            self.logger.exception("alert sink failed on the SLO's page state; next run retries",
                                  extra={"slo": evaluation.slo})

    def _hand_off(self, lock: OpenAlert) -> None:
        # Whatever the sink does with it, the transition is a log line (the local console shows it).
        self.logger.warning("slo alert opened", extra={"alert": lock.alert.to_json()})
        try:
            self.sink.alert_opened(lock.alert)
        except Exception:  # the lock stays not-handed-off and the next run retries
            self.logger.exception("alert sink failed; will retry", extra={"alert_id": lock.alert.id})
            return
        self.locks.mark_handed_off(lock)

    def _resolve(self, lock: OpenAlert, end: datetime, verdict: Mapping[str, Any], reason: str) -> str:
        alert = resolved(lock.alert, end, verdict, reason)
        self.locks.resolve(lock, alert)
        self.logger.info("slo alert resolved", extra={"alert": alert.to_json()})
        try:
            self.sink.alert_resolved(alert)
        except Exception:  # the resolution is stored; the incident side can reconcile from it
            self.logger.exception("alert sink failed on resolve", extra={"alert_id": alert.id})
        return alert.id
