"""What a killed stack left behind is removed by the next one."""
import subprocess

import psycopg
import pytest

from devstack import leftovers
from tests.postgres_server import PostgresCluster


@pytest.fixture
def dead_pid():
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def _folder(tmp_path, name, owner=None):
    folder = tmp_path / name
    folder.mkdir()
    if owner is not None:
        (folder / leftovers.OWNER_FILE).write_text(str(owner))
    return folder


def test_a_journal_folder_whose_stack_is_gone_is_removed(tmp_path, dead_pid):
    folder = _folder(tmp_path, "devstack-aws-abc", dead_pid)
    assert leftovers.remove_abandoned(tmp_path) == [str(folder)]
    assert not folder.exists()


def test_a_folder_whose_owner_runs_is_kept(tmp_path):
    running = subprocess.Popen(["sleep", "30"])
    try:
        folder = _folder(tmp_path, "devstack-aws-abc", running.pid)
        assert leftovers.remove_abandoned(tmp_path) == []
        assert folder.exists()
    finally:
        running.kill()
        running.wait()


def test_a_folder_naming_no_owner_or_of_another_kind_is_kept(tmp_path, dead_pid):
    kept = [_folder(tmp_path, "devstack-aws-old"), _folder(tmp_path, "other-abc", dead_pid)]
    assert leftovers.remove_abandoned(tmp_path) == []
    assert all(folder.exists() for folder in kept)


def test_the_postgresql_of_a_killed_stack_is_stopped_and_removed(dead_pid):
    cluster = PostgresCluster()
    try:
        cluster.start()
        (cluster.base / leftovers.OWNER_FILE).write_text(str(dead_pid))
        assert leftovers.remove_abandoned(cluster.base.parent) == [f"PostgreSQL in {cluster.base} (stopped)"]
        assert not cluster.base.exists()
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(cluster.socket_dsn, connect_timeout=2)
    finally:
        cluster.destroy()
