import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from devstack.ports import PortInUse, ensure_free, next_free_port

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


def test_the_runner_exits_with_a_clear_message_when_its_port_is_taken(taken_port, tmp_path):
    result = subprocess.run([sys.executable, "-m", "devstack", "--port", str(taken_port),
                             "--log-file", str(tmp_path / "service.log")], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"127.0.0.1:{taken_port} is already in use" in result.stderr
    assert not (tmp_path / "service.log").exists()


def test_a_refused_start_keeps_a_log_that_was_there(taken_port, tmp_path):
    """The default log is per port: the stack holding the port may be the one writing it."""
    log = tmp_path / "service.log"
    log.write_text('{"message": "the running stack"}\n')
    result = subprocess.run([sys.executable, "-m", "devstack", "--port", str(taken_port), "--log-file", str(log)],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert log.read_text() == '{"message": "the running stack"}\n'


def test_a_taken_port_names_the_process_listening_on_it(taken_port):
    with pytest.raises(PortInUse, match=f"already in use by process {os.getpid()} "):
        ensure_free("127.0.0.1", taken_port, "app server")


def test_a_port_taken_by_a_running_local_stack_says_to_use_it_and_how_to_get_its_token(monkeypatch, tmp_path):
    from devstack.__main__ import port_advice
    from devstack.token import state_path, write_state

    monkeypatch.chdir(tmp_path)
    write_state(state_path(8000), {"pid": os.getpid(), "base_url": "http://127.0.0.1:8000"})
    monkeypatch.setattr("devstack.__main__.next_free_port", lambda host, after: 8001)
    advice = port_advice(8000, 8000)
    assert f"the local stack started by process {os.getpid()} runs at http://127.0.0.1:8000" in advice
    assert "`make token` prints its token" in advice and '`make run PORT=8001`' in advice


def test_the_port_offered_instead_of_a_taken_one_is_free(taken_port):
    """It was the taken port + 1 whatever held that one (often the stack started next to it), or 65536."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as next_one:
        next_one.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            next_one.bind(("127.0.0.1", taken_port + 1))
            next_one.listen(1)
        except (OSError, OverflowError):
            pass  # held by something else already (or past 65535): not offered either way
        offered = next_free_port("127.0.0.1", taken_port)
    assert offered not in (taken_port, taken_port + 1)
    ensure_free("127.0.0.1", offered, "app server")
    assert 1 <= next_free_port("127.0.0.1", 65535) <= 65535


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

