"""Cold starts in the request counts: capacity planning reads their share of slow requests."""
from chalicelib.observability import middleware
from chalicelib.observability.metrics import request_counts
from chalicelib.observability.request_context import RequestFacts


def counts(status=200, latency_ms=300.0, cold_start=True):
    return request_counts(status, latency_ms, RequestFacts(), (200, 500), cold_start)


def test_a_slow_cold_start_counts_as_both():
    assert (counts()["cold_starts"], counts()["slow_cold_starts"]) == (1, 1)


def test_a_fast_cold_start_is_not_slow_for_the_tightest_threshold():
    assert (counts(latency_ms=150)["cold_starts"], counts(latency_ms=150)["slow_cold_starts"]) == (1, 0)


def test_a_client_error_is_not_a_slow_request():
    assert counts(status=404)["slow_cold_starts"] == 0


def test_a_warm_request_is_neither():
    assert (counts(cold_start=False)["cold_starts"], counts(cold_start=False)["slow_cold_starts"]) == (0, 0)


def test_only_the_first_request_of_a_process_is_a_cold_start(monkeypatch):
    monkeypatch.setattr(middleware, "_cold_start_pending", True)
    assert [middleware._take_cold_start() for _ in range(3)] == [True, False, False]
