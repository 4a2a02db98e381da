"""Multi-window multi-burn-rate rules (SRE Workbook ch. 5): which tiers fire, pure logic.

A tier fires when both its long and its short window burn at least its burn rate. Fewer than
``min_events`` valid events in the long window (or none in the short one) is insufficient
data: the tier neither fires nor resolves. Tiers are ordered fastest first; while one fires,
the slower tiers of the same SLO are ``suppressed`` by it (an alert of theirs closes, saying by
which tier; they open none while it fires).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

from chalicelib.slo.budget import WindowFigures
from chalicelib.slo.config import BurnRateTier

FIRING, OK, INSUFFICIENT, SUPPRESSED = "firing", "ok", "insufficient_data", "suppressed"


@dataclass(frozen=True)
class TierVerdict:
    tier: BurnRateTier
    state: str
    long_burn_rate: Optional[float]
    short_burn_rate: Optional[float]
    long_valid: int
    short_valid: int
    suppressed_by: Optional[str] = None  # the faster tier firing, when state is suppressed

    def to_json(self) -> dict:
        return {**self.tier.describe(), "state": self.state, "long_burn_rate": self.long_burn_rate,
                "short_burn_rate": self.short_burn_rate, "long_valid": self.long_valid,
                "short_valid": self.short_valid, "suppressed_by": self.suppressed_by}


def tier_state(tier: BurnRateTier, long: WindowFigures, short: WindowFigures, min_events: int) -> str:
    if long.valid < max(1, min_events) or short.valid == 0:
        return INSUFFICIENT
    threshold = tier.burn_rate * (1 - 1e-9)  # 1.44% errors on 99.9% is 14.4x, not 14.399999x
    if long.burn_rate >= threshold and short.burn_rate >= threshold:
        return FIRING
    return OK


def evaluate_tiers(tiers: tuple[BurnRateTier, ...], figures_by_minutes: Mapping[int, WindowFigures],
                   min_events: int) -> list[TierVerdict]:
    verdicts = []
    firing: Optional[str] = None  # the fastest tier firing so far
    for tier in tiers:
        long, short = figures_by_minutes[tier.long_minutes], figures_by_minutes[tier.short_minutes]
        state = tier_state(tier, long, short, min_events)
        suppressed_by = None
        if state == FIRING and firing is not None:
            state, suppressed_by = SUPPRESSED, firing
        elif state == FIRING:
            firing = tier.name
        verdicts.append(TierVerdict(tier, state, long.burn_rate, short.burn_rate, long.valid, short.valid,
                                    suppressed_by))
    return verdicts
