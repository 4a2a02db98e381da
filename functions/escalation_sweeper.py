"""Scheduled every minute: start again the escalations whose workflow ended while nobody acknowledged."""
from __future__ import annotations

from typing import Any

from chalicelib import wiring


def handler(event: Any, context: Any) -> dict[str, Any]:
    wired = wiring.current()
    resumed = wired.incident_service.resume_lost_escalations()
    for incident in resumed:
        wired.logger.warning("escalation resumed by the sweeper",
                             extra={"incident_id": incident.id, "escalation_level": incident.escalation_level or 1})
    return {"resumed": [incident.id for incident in resumed]}
