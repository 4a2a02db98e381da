"""What the API renders from stored incidents: postmortem drafts, status updates, MTTA/MTTR/MTBF.

The templates are the runbooks themselves (``runbooks/postmortem-template.md`` and
``runbooks/communication-templates.md``), with ``{{name}}`` placeholders.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Protocol

from chalicelib.incidents.model import SEVERITIES, Incident, iso, parse_iso
from chalicelib.incidents.pages import runbook_url
from chalicelib.settings import ServiceSettings
from chalicelib.slo.records import HistoryPoint

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
COMMENT = re.compile(r"<!--.*?-->\n?", re.DOTALL)
TEMPLATE_BLOCK = re.compile(r"<!-- template: ([a-z_-]+) -->\s*```[a-z]*\n(.*?)```", re.DOTALL)
STAGES = ("investigating", "identified", "monitoring", "resolved")


class TemplateMissing(LookupError):
    pass


REPOSITORY_RUNBOOKS = Path(__file__).resolve().parents[2] / "runbooks"
DEFAULT_RUNBOOKS_BASE_URL = ServiceSettings.runbooks_base_url


def fill(template: str, values: Mapping[str, str]) -> str:
    """Replace ``{{name}}``; an unknown name is a bug in the template, so it raises."""
    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"template placeholder {{{{{name}}}}} has no value")
        return values[name]

    return PLACEHOLDER.sub(value, template)


def communication_templates(text: Optional[str] = None, directory: Path = REPOSITORY_RUNBOOKS) -> dict[str, str]:
    if text is None:
        text = (directory / "communication-templates.md").read_text(encoding="utf-8")
    return {name: body for name, body in TEMPLATE_BLOCK.findall(text)}


def _duration(start: Optional[str], end: Optional[str]) -> Optional[float]:
    if not start or not end:
        return None
    return (parse_iso(end) - parse_iso(start)).total_seconds()


def human_duration(seconds: Optional[float]) -> str:
    if seconds is None:
        return "n/a"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    return " ".join(part for part in parts if part) or f"{secs}s"


def _milestone(opened_at: str, at: Optional[str], pending: str, by: str = "") -> str:
    """When an incident reached a milestone, by whom and how long after it opened; ``pending`` if it has not."""
    return f"{at}{by} (after {human_duration(_duration(opened_at, at))})" if at else pending


def _incident_values(incident: Incident, now: datetime, runbooks_base_url: str) -> dict[str, str]:
    return {
        "id": incident.id, "title": incident.title, "severity": incident.severity, "status": incident.status,
        "source": incident.source, "summary": incident.summary or incident.title,
        "opened_at": incident.opened_at, "acknowledged_at": incident.acknowledged_at or "not acknowledged",
        "acknowledged_by": incident.acknowledged_by or "nobody yet",
        "mitigated_at": incident.mitigated_at or "not mitigated", "resolved_at": incident.resolved_at or "open",
        "runbook_url": runbook_url(incident.runbook, runbooks_base_url),
        "duration": human_duration(_duration(incident.opened_at, incident.resolved_at or iso(now))),
        "now": iso(now),
    }


def render_update(incident: Incident, stage: str, now: datetime, message: str = "",
                  templates: Optional[Mapping[str, str]] = None,
                  runbooks_base_url: str = DEFAULT_RUNBOOKS_BASE_URL) -> str:
    templates = templates if templates is not None else communication_templates()
    if stage not in templates:
        raise TemplateMissing(stage)
    # Only an update that promises another one may say so; the resolution is the last word.
    default = "" if stage == "resolved" else "More details in the next update."
    text = fill(templates[stage], {**_incident_values(incident, now, runbooks_base_url), "message": message or default})
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


# -- SLO impact ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SloImpact:
    slo: str
    budget_remaining_before: Optional[float]
    budget_remaining_after: Optional[float]

    @property
    def budget_burned(self) -> Optional[float]:
        if self.budget_remaining_before is None or self.budget_remaining_after is None:
            return None
        return max(0.0, self.budget_remaining_before - self.budget_remaining_after)


class SloImpactSource(Protocol):
    def impact(self, start: datetime, end: datetime) -> list[SloImpact]: ...


class SloHistory(Protocol):
    """The SLO engine's history points (``chalicelib.slo.store.StatusStore``)."""

    def history(self, name: str, start: datetime, end: datetime) -> list[HistoryPoint]: ...


class SloHistoryImpact:
    """Error budget remaining at the SLO engine's history points around the incident."""

    def __init__(self, history: SloHistory, slo_names: Iterable[str]) -> None:
        self._history = history
        self._names = tuple(slo_names)

    def impact(self, start: datetime, end: datetime) -> list[SloImpact]:
        impacts = []
        for name in self._names:
            points = self._history.history(name, start - timedelta(hours=1), end + timedelta(hours=1))
            ratios = [point.budget_remaining_ratio for point in points if point.budget_remaining_ratio is not None]
            impacts.append(SloImpact(name, ratios[0] if ratios else None, ratios[-1] if ratios else None))
        return impacts


def _ratio(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def render_postmortem(incident: Incident, now: datetime, *, related: Iterable[Incident] = (),
                      impact: Optional[SloImpactSource] = None, template: Optional[str] = None,
                      runbooks_base_url: str = DEFAULT_RUNBOOKS_BASE_URL) -> str:
    """The Markdown draft: template filled with the timeline, SLO impact, breakers and experiments."""
    if template is None:
        template = (REPOSITORY_RUNBOOKS / "postmortem-template.md").read_text(encoding="utf-8")
    end = parse_iso(incident.resolved_at) if incident.resolved_at else now
    start = parse_iso(incident.opened_at)
    timeline = "\n".join(
        f"| {event.at} | {event.kind} | {event.actor or ''} | {event.message.replace('|', '/')} |"
        for event in incident.timeline) or "| | | | |"
    impact_lines = "No SLO data source configured."
    if impact is not None:
        try:
            rows = impact.impact(start, end)
        except Exception as exc:  # the draft is still useful without SLO figures; say why they are missing
            impact_lines = f"SLO figures unavailable: {type(exc).__name__}"
        else:
            impact_lines = "\n".join(
                f"| {row.slo} | {_ratio(row.budget_remaining_before)} | {_ratio(row.budget_remaining_after)} "
                f"| {_ratio(row.budget_burned)} |" for row in rows) or "| (no SLOs) | | | |"
            impact_lines = ("| SLO | Budget remaining before | after | Burned during incident |\n"
                            "|---|---|---|---|\n" + impact_lines)
    breakers = [other for other in [incident, *related] if other.source == "breaker"]
    breaker_lines = "\n".join(
        f"- `{other.fingerprint.removeprefix('breaker:')}` opened {other.opened_at}, "
        f"{'closed/resolved ' + other.resolved_at if other.resolved_at else 'still open'} ({other.id})"
        for other in {item.id: item for item in breakers}.values()) or "- None recorded."
    experiments = sorted({experiment for other in [incident, *related] for experiment in other.experiment_ids})
    values = {
        **_incident_values(incident, now, runbooks_base_url),
        "time_to_acknowledge": human_duration(_duration(incident.opened_at, incident.acknowledged_at)),
        "time_to_mitigate": human_duration(_duration(incident.opened_at, incident.mitigated_at)),
        "time_to_resolve": human_duration(_duration(incident.opened_at, incident.resolved_at)),
        # Each milestone as one phrase: a template line "{{acknowledged_at}} by {{acknowledged_by}}" read
        # "not acknowledged by nobody yet (after n/a)" for an incident nobody had acknowledged.
        "acknowledged": _milestone(incident.opened_at, incident.acknowledged_at, "not acknowledged yet",
                                   f" by {incident.acknowledged_by}" if incident.acknowledged_by else ""),
        "mitigated": _milestone(incident.opened_at, incident.mitigated_at, "not mitigated yet"),
        "resolved": _milestone(incident.opened_at, incident.resolved_at, "open"),
        "escalation_level": str(incident.escalation_level),
        "timeline": "| At (UTC) | Event | By | Detail |\n|---|---|---|---|\n" + timeline,
        "slo_impact": impact_lines,
        "breaker_transitions": breaker_lines,
        "experiment_ids": ", ".join(f"`{experiment}`" for experiment in experiments) or "None.",
        "details": "\n".join(f"- {key}: {value}" for key, value in sorted(incident.details.items())) or "- None.",
    }
    return fill(COMMENT.sub("", template), values).strip() + "\n"


class IncidentReports:
    """The drafts and updates the API renders, from the configured runbooks folder."""

    def __init__(self, runbooks_dir: Path, runbooks_base_url: str, impact: Optional[SloImpactSource]) -> None:
        self.runbooks_dir = runbooks_dir
        self.runbooks_base_url = runbooks_base_url
        self.impact = impact

    def has_runbook(self, name: str) -> bool:
        return (self.runbooks_dir / name).is_file()

    def postmortem(self, incident: Incident, now: datetime, related: Iterable[Incident] = ()) -> str:
        template = (self.runbooks_dir / "postmortem-template.md").read_text(encoding="utf-8")
        return render_postmortem(incident, now, related=related, impact=self.impact, template=template,
                                 runbooks_base_url=self.runbooks_base_url)

    def update(self, incident: Incident, stage: str, now: datetime, message: str = "") -> str:
        return render_update(incident, stage, now, message,
                             templates=communication_templates(directory=self.runbooks_dir),
                             runbooks_base_url=self.runbooks_base_url)


# -- MTTA / MTTR / MTBF ---------------------------------------------------------------------------

def _mean(values: list[float]) -> Optional[float]:
    return round(sum(values) / len(values), 1) if values else None


def reliability_stats(incidents: Iterable[Incident], start: datetime, end: datetime) -> dict[str, Any]:
    """Per severity and overall, for incidents opened in [start, end].

    MTTA: opened -> acknowledged; MTTR: opened -> resolved (both over the incidents that got
    there). MTBF: the mean time from one failure's start to the next one's (uptime plus repair
    between consecutive incidents), so it needs at least two incidents in the window; with fewer
    it is null and ``mtbf_reason`` says why, rather than passing the window length off as a figure. Incidents
    linked to a chaos experiment (opened while it ran on their target, as it expected) are
    counted but are no failures: MTBF leaves them out.
    """
    window_seconds = (end - start).total_seconds()
    chosen = [incident for incident in incidents if start <= parse_iso(incident.opened_at) <= end]

    def figures(group: list[Incident]) -> dict[str, Any]:
        acked = [_duration(item.opened_at, item.acknowledged_at) for item in group if item.acknowledged_at]
        resolved = [_duration(item.opened_at, item.resolved_at) for item in group if item.resolved_at]
        failures = [item for item in group if not item.experiment_ids]
        starts = sorted(parse_iso(item.opened_at) for item in failures)
        gaps = [(later - earlier).total_seconds() for earlier, later in zip(starts, starts[1:])]
        reason = None if gaps else (
            f"{len(failures)} failure{'' if len(failures) == 1 else 's'} in the window; "
            f"MTBF needs at least two")
        return {"incidents": len(group), "acknowledged": len(acked), "resolved": len(resolved),
                "during_experiments": len(group) - len(failures),
                "mtta_seconds": _mean(acked), "mttr_seconds": _mean(resolved),
                "mtbf_seconds": _mean(gaps), "mtbf_reason": reason}

    return {
        "window": {"start": iso(start), "end": iso(end), "seconds": window_seconds},
        "by_severity": {severity: figures([item for item in chosen if item.severity == severity])
                        for severity in SEVERITIES},
        "all": figures(chosen),
    }
