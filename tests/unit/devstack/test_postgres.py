import subprocess
import sys

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
