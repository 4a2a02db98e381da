"""Which chaos experiment is running on a target, so pages can say so.

The real lookup is ``chalicelib.chaos.service.JournalExperimentLookup`` (the experiment journal's
target locks), wired in ``chalicelib.wiring``; ``NoExperiments`` is for code built without it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Protocol


@dataclass(frozen=True)
class ActiveExperiment:
    id: str
    target: str
    kind: str = ""


class ExperimentLookup(Protocol):
    def active_for(self, target: str) -> Optional[ActiveExperiment]: ...


class NoExperiments:
    def active_for(self, target: str) -> Optional[ActiveExperiment]:
        return None
