"""Shared test helpers of the SLO tests (fixtures live in conftest.py)."""
from datetime import datetime, timezone

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
SERVICE = [{"Name": "service", "Value": "user-api"}]


class RecordingSink:
    def __init__(self, fail_opened: int = 0) -> None:
        self.opened, self.resolved, self.evaluations = [], [], []
        self.fail_opened = fail_opened

    def alert_opened(self, alert):
        if self.fail_opened:
            self.fail_opened -= 1
            raise ConnectionError("incident flow unavailable")
        self.opened.append(alert.to_json())

    def alert_resolved(self, alert):
        self.resolved.append(alert.to_json())

    def slo_evaluated(self, evaluation):
        self.evaluations.append(evaluation)
