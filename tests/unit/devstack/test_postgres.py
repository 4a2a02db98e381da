import subprocess
import sys
import time

import pytest

from devstack.postgres import PostgresCluster


def _exited_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_resume_skips_a_server_process_that_exited_after_being_listed(monkeypatch):
    cluster = PostgresCluster.__new__(PostgresCluster)  # no server: only the signalling is under test
    monkeypatch.setattr(cluster, "_processes", lambda: [_exited_pid()])

    cluster.resume()
    cluster.pause()


@pytest.fixture(scope="module")
def cluster():
    cluster = PostgresCluster()
    cluster.start()
    yield cluster
    cluster.destroy()


def test_each_switch_reports_the_state_the_server_is_in(cluster):
    cluster.pause()
    assert cluster.state() == "paused"
    cluster.resume()
    assert cluster.state() == "running"


def test_a_paused_server_stops_at_once_and_starts_again(cluster):
    """pause then stop waited pg_ctl's 60 s and said stopped; start and resume then said running while
    it stayed down."""
    cluster.pause()
    started = time.monotonic()
    cluster.stop()
    assert time.monotonic() - started < 30
    assert cluster.state() == "stopped"
    cluster.resume()
    assert cluster.state() == "stopped"
    cluster.start()
    assert cluster.state() == "running"


def test_start_resumes_a_paused_server(cluster):
    cluster.pause()
    cluster.start()
    assert cluster.state() == "running"
