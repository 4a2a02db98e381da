"""The embedded AWS's process (devstack/embedded_aws/server.py)."""
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from devstack.ports import free_port

REPOSITORY = Path(__file__).resolve().parents[4]


def _children(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as listing:
        return [int(child) for child in listing.read().split()]


def _answers(url):
    try:
        urllib.request.urlopen(url, timeout=1)
    except urllib.error.HTTPError:
        return True  # an answer, whatever it says
    except OSError:
        return False
    return True


def test_a_killed_worker_stops_the_server_instead_of_leaving_an_empty_aws_in_its_place():
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "devstack.embedded_aws", "--port", str(port),
                               "--dispatch-url", "http://127.0.0.1:9"], cwd=REPOSITORY,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not _answers(f"http://127.0.0.1:{port}/moto-api/") and time.monotonic() < deadline:
            assert server.poll() is None, server.stderr.read().decode()
            time.sleep(0.2)
        [worker] = _children(server.pid)
        os.kill(worker, signal.SIGKILL)
        assert server.wait(timeout=20) != 0
        assert b"exited, and with it the state of the embedded AWS" in server.stderr.read()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
