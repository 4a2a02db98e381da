import os
import subprocess
import sys

from devstack.procfs import children_of, process_running


def _child(seconds: str = "30") -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", f"import time; time.sleep({seconds})"])


def test_this_process_runs():
    assert process_running(os.getpid())


def test_an_exited_and_reaped_process_does_not_run():
    child = _child("0")
    child.wait()
    assert not process_running(child.pid)


def test_an_exited_process_not_yet_reaped_does_not_run():
    child = _child("0")
    try:
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # exited, left a zombie
        assert not process_running(child.pid)
    finally:
        child.wait()


def test_children_of_lists_the_processes_a_process_started():
    child = _child()
    try:
        assert child.pid in children_of(os.getpid())
        assert children_of(child.pid) == []
    finally:
        child.kill()
        child.wait()
