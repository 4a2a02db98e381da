"""Which chaos experiment is running on a target, so pages can say so.

The chaos package provides the real lookup; until then nothing is ever running.
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
