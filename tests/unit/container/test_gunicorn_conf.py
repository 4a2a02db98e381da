"""The container's gunicorn settings that act on the process: stopping with the local stack."""
import os
import subprocess
import sys
import time
import urllib.request

from container import SERVER_COMMAND
from devstack.ecs import ROOT, _from_this_environment
from devstack.procfs import process_running
from devstack.ports import free_port

# A parent that starts the server as the local stack does, prints its pid, then waits to be killed.
PARENT = """
import os, subprocess, sys, time
server = subprocess.Popen(sys.argv[1:], env={**os.environ, "STOP_WITH_PARENT": str(os.getpid())},
                          start_new_session=True)
print(server.pid, flush=True)
time.sleep(120)
"""


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def test_a_server_whose_stack_was_killed_stops_and_frees_its_port():
    port = free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": "1", "WEB_THREADS": "2",
           "AWS_DEFAULT_REGION": "us-east-1", "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen([sys.executable, "-c", PARENT, *_from_this_environment(SERVER_COMMAND)], cwd=ROOT,
                              env=env, stdout=subprocess.PIPE, text=True)
    server = int(parent.stdout.readline())
    try:
        deadline = time.monotonic() + 30
        while not _answers(port):
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 15
        while process_running(server):
            assert time.monotonic() < deadline, "the server outlived its stack"
            time.sleep(0.2)
        assert not _answers(port)
    finally:
        parent.kill()
        if process_running(server):
            os.killpg(server, 9)
