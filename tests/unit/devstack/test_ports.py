import socket
import subprocess
import sys
from pathlib import Path

import pytest

from devstack.ports import PortInUse, ensure_free

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def taken_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


def test_a_taken_port_is_reported_with_what_wanted_it(taken_port):
    with pytest.raises(PortInUse, match=f"app server: 127.0.0.1:{taken_port} is already in use"):
        ensure_free("127.0.0.1", taken_port, "app server")


def test_the_runner_exits_with_a_clear_message_when_its_port_is_taken(taken_port):
    result = subprocess.run([sys.executable, "-m", "devstack", "--port", str(taken_port)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"127.0.0.1:{taken_port} is already in use" in result.stderr


def test_a_port_whose_last_connection_is_in_time_wait_counts_as_free():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = listener.accept()
        accepted.close()  # the server side closes first, so its end of the connection lingers in TIME-WAIT
        client.recv(1)
        client.close()
    ensure_free("127.0.0.1", port, "app server")

