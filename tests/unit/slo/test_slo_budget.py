"""Hand-computed SLI, budget and burn-rate cases, and the SRE Workbook's own examples."""
import pytest

from chalicelib.slo import alerting, budget
from chalicelib.slo.config import DEFAULT_TIERS, scaled_tiers

TIERS_30D = scaled_tiers(DEFAULT_TIERS, 43200)


def test_budget_exactly_spent_burns_at_one():
    figures = budget.window_figures("30d", 43200, good=990, valid=1000, target=0.99)
    assert (figures.sli, figures.bad, figures.budget_total, figures.budget_consumed) == (0.99, 10, 10.0, 10)
    assert (figures.budget_remaining, figures.budget_remaining_ratio, figures.burn_rate) == (0.0, 0.0, 1.0)


def test_half_spent_budget_of_a_three_nines_slo():
    figures = budget.window_figures("30d", 43200, good=9995, valid=10000, target=0.999)
    assert (figures.budget_total, figures.budget_remaining, figures.budget_consumed_ratio) == (10.0, 5.0, 0.5)
    assert (figures.budget_remaining_ratio, figures.burn_rate) == (0.5, 0.5)


def test_no_events_leave_the_sli_and_budget_unknown_with_the_reason():
    figures = budget.window_figures("5m", 5, good=0, valid=0, target=0.99)
    assert (figures.sli, figures.burn_rate, figures.budget_remaining_ratio, figures.budget_consumed_ratio) == (
        None, None, None, None)
    assert (figures.budget_total, figures.budget_remaining, figures.budget_consumed) == (None, None, 0)
    assert figures.unknown_reason == "no requests in the 5m window yet: the SLI and error budget are unknown"
    assert budget.seconds_to_exhaustion(figures.budget_remaining_ratio, 5, figures.burn_rate) is None


def test_overspent_budget_goes_negative():
    figures = budget.window_figures("1h", 60, good=90, valid=100, target=0.99)
    assert (figures.budget_remaining, figures.budget_remaining_ratio, figures.burn_rate) == (-9.0, -9.0, 10.0)


def test_half_the_budget_at_twice_the_rate_lasts_a_quarter_period():
    assert budget.seconds_to_exhaustion(0.5, 43200, 2.0) == 43200 * 60 / 4


def test_exhausted_budget_has_no_time_left_and_unspent_budget_never_runs_out():
    assert budget.seconds_to_exhaustion(0.0, 43200, 3.0) == 0.0
    assert budget.seconds_to_exhaustion(0.8, 43200, 0.0) is None


@pytest.mark.parametrize("remaining, state", [(1.0, "healthy"), (0.25, "healthy"), (0.2499, "warning"),
                                              (0.0, "exhausted"), (-2.0, "exhausted")])
def test_budget_policy_states(remaining, state):
    assert budget.budget_state(remaining, warning_below=0.25) == state


def test_only_an_exhausted_budget_freezes_releases_by_default():
    assert [budget.freezes_releases(s, "exhausted") for s in ("healthy", "warning", "exhausted")] == [
        False, False, True]


def timeline_figures(minute_counts, target, tiers=TIERS_30D):
    """Window figures at the end of a list of per-minute (good, valid), newest last."""
    wanted = {m for tier in tiers for m in (tier.long_minutes, tier.short_minutes)}
    figures = {}
    for minutes in wanted:
        window = minute_counts[-minutes:]
        figures[minutes] = budget.window_figures(str(minutes), minutes, sum(g for g, _ in window),
                                                 sum(v for _, v in window), target)
    return figures


def states(minute_counts, target=0.999, min_events=100, tiers=TIERS_30D):
    verdicts = alerting.evaluate_tiers(tiers, timeline_figures(minute_counts, target, tiers), min_events)
    return {verdict.tier.name: verdict.state for verdict in verdicts}


HEALTHY_3D = [(1000, 1000)] * 4320


def test_full_outage_of_three_nines_pages_after_its_first_minute():
    # Workbook: at 100% errors the 14.4x/1h rule fires after 0.864 minutes; minute buckets see it at 1.
    assert states(HEALTHY_3D + [(0, 1000)])["page-fast"] == "firing"


def test_healthy_traffic_fires_nothing():
    assert set(states(HEALTHY_3D).values()) == {"ok"}


def test_two_tenths_of_a_percent_errors_page_nobody():
    # 0.2% errors on a 99.9% SLO is a 2x burn: under both page tiers (14.4x, 6x) and the 3x ticket.
    verdicts = states([(998, 1000)] * 4320)
    assert (verdicts["page-fast"], verdicts["page-slow"], verdicts["ticket-fast"]) == ("ok", "ok", "ok")


def test_low_traffic_is_insufficient_data_even_when_every_request_fails():
    assert set(states([(0, 0)] * 4260 + [(0, 1)] * 60, min_events=100).values()) == {"insufficient_data"}


def test_faster_tier_suppresses_slower_ones_of_the_same_slo():
    verdicts = states([(0, 1000)] * 4320)
    assert verdicts == {"page-fast": "firing", "page-slow": "suppressed", "ticket-fast": "suppressed",
                        "ticket-slow": "suppressed"}


def test_slow_burn_opens_only_the_slow_tier():
    # 1.5x for three days: over 1x (3d and 6h) but under the 3x ticket.
    assert states([(9985, 10000)] * 4320) == {"page-fast": "ok", "page-slow": "ok", "ticket-fast": "ok",
                                             "ticket-slow": "firing"}


def test_recovered_short_window_stops_the_page():
    # An hour-long burn that ended 5 minutes ago: the 1h window still burns, the 5m window does not.
    assert states(HEALTHY_3D + [(900, 1000)] * 55 + [(1000, 1000)] * 5)["page-fast"] == "ok"


def test_exactly_the_threshold_fires():
    # 1.44% errors over the hour on 99.9% is exactly 14.4x.
    minutes = HEALTHY_3D + [(98560, 100000)] * 60
    assert states(minutes)["page-fast"] == "firing"


def test_seven_day_period_scales_windows_so_the_same_budget_share_fires():
    tiers_7d = scaled_tiers(DEFAULT_TIERS, 10080)
    # 14.4x burn for 14 minutes spends 2% of a 7-day budget: the scaled page-fast fires.
    minutes = [(1000, 1000)] * 1008 + [(928, 1000)] * 14
    assert states(minutes, target=0.995, tiers=tiers_7d)["page-fast"] == "firing"
