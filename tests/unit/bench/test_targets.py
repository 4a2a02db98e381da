"""A benchmark's server process leaves its logs behind only when something failed."""
from pathlib import Path

from bench._targets import Target


def target(tmp_path):
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    (log_dir / "service.log").write_text("one record per request\n")
    return Target("server", ["true"], "http://127.0.0.1:9", "/", log_dir=log_dir)


def test_a_target_that_ran_without_failure_removes_its_logs(tmp_path):
    server = target(tmp_path)
    server.__exit__(None, None, None)
    assert not server.log_dir.exists()


def test_a_target_left_by_a_failure_keeps_its_logs(tmp_path):
    server = target(tmp_path)
    failure = RuntimeError("the benchmark failed")
    server.__exit__(type(failure), failure, None)
    assert (server.log_dir / "service.log").exists()


def test_a_benchmark_ended_with_sigterm_stops_the_server_it_started(tmp_path):
    """SIGTERM (a supervisor, `timeout`, `kill`) ended the benchmark without unwinding: its local stack
    ran on, orphaned, with its embedded AWS, until someone found it."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from devstack.ports import free_port

    port = free_port()
    script = (
        "import sys, time\n"
        "from bench._targets import Target\n"
        f"server = Target('server', [sys.executable, '-m', 'http.server', '{port}', '--bind', '127.0.0.1'],"
        f" 'http://127.0.0.1:{port}', '/', log_dir=__import__('pathlib').Path({str(tmp_path)!r}))\n"
        "with server:\n"
        "    print(server.process.pid, flush=True)\n"
        "    time.sleep(60)\n")
    root = Path(__file__).resolve().parents[3]
    benchmark = subprocess.Popen([sys.executable, "-c", script], cwd=root, stdout=subprocess.PIPE, text=True)
    server_pid = int(benchmark.stdout.readline())
    try:
        benchmark.send_signal(signal.SIGTERM)
        assert benchmark.wait(timeout=30) == 128 + signal.SIGTERM
        deadline = time.monotonic() + 10
        while _alive(server_pid):
            assert time.monotonic() < deadline, f"the server {server_pid} outlived the benchmark"
            time.sleep(0.05)
    finally:  # a failing run leaves nothing behind either
        if _alive(server_pid):
            os.kill(server_pid, signal.SIGKILL)


def _alive(pid):
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie has ended; only its parent has yet to reap it
        return stat.read().split(")")[-1].split()[0] != "Z"
