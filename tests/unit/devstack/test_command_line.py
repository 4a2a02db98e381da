"""`python -m devstack` refuses a command line it cannot start with, saying why, before starting anything."""
import os
import signal

import pytest

from devstack.__main__ import StopRequest, main, parse_args
from devstack.token import token_command


def refusal(capsys, argv):
    with pytest.raises(SystemExit) as exit_info:
        parse_args(argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("port", ["0", "-1", "70000", "abc", "80.5"])
def test_an_app_port_outside_1_to_65535_is_refused(capsys, port):
    assert "a port is a number from 1 to 65535" in refusal(capsys, ["--port", port])


def test_a_port_from_the_environment_is_checked_like_the_option(capsys, monkeypatch):
    monkeypatch.setenv("DEVSTACK_PORT", "99999")
    assert "a port is a number from 1 to 65535, not '99999'" in refusal(capsys, [])


def test_zero_is_any_free_port_for_the_embedded_aws_and_the_control_api():
    config, _ = parse_args(["--aws-port", "0", "--control-port", "0"])
    assert (config.aws_port, config.control_port) == (0, 0)


def test_two_servers_on_one_port_are_refused(capsys):
    assert "--port and --aws-port are both 8000" in refusal(capsys, ["--aws-port", "8000"])


@pytest.mark.parametrize("host", ["256.1.1.1", "no-such-host.invalid"])
def test_a_host_this_machine_cannot_listen_on_is_refused(capsys, host):
    assert f"--host {host}: no address of this machine to listen on" in refusal(capsys, ["--host", host])


def test_a_schedule_for_a_function_without_one_is_refused_naming_the_scheduled_ones(capsys):
    printed = refusal(capsys, ["--schedule", "nosuch=5"])
    assert "--schedule: nosuch has no schedule; scheduled: " in printed and "slo-evaluator" in printed


@pytest.mark.parametrize("seconds", ["nan", "inf", "0", "-5", "0.0001"])
def test_a_schedule_period_under_a_second_or_not_a_number_is_refused(capsys, seconds):
    assert "--schedule takes FUNCTION=SECONDS (1 or more)" in refusal(capsys, ["--schedule", f"slo-evaluator={seconds}"])


def test_a_log_file_that_cannot_be_appended_to_is_refused_before_anything_starts(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr("devstack.__main__.LocalStack", lambda config: pytest.fail("a stack was started"))
    assert main(["--log-file", str(tmp_path)]) == 2
    assert f"--log-file {tmp_path}: cannot append to it (Is a directory)" in capsys.readouterr().err


def test_ctrl_c_while_starting_stops_the_stack_without_announcing_it(capsys, monkeypatch, tmp_path):
    handlers = {}
    monkeypatch.setattr(signal, "signal", lambda signum, handler: handlers.__setitem__(signum, handler))
    monkeypatch.chdir(tmp_path)

    class InterruptedWhileStarting:
        def __init__(self, config):
            self.config = config

        def start(self):
            handlers[signal.SIGINT](signal.SIGINT, None)

        def stop(self):
            return ["everything"]

    monkeypatch.setattr("devstack.__main__.LocalStack", InterruptedWhileStarting)
    assert main(["--log-file", str(tmp_path / "service.log")]) == 0
    printed = capsys.readouterr().out
    assert "is running" not in printed and "stopped everything" in printed
    assert not (tmp_path / ".devstack" / "stack-8000.json").exists()


def test_the_banner_names_the_token_command_for_its_own_port():
    assert token_command(8000) == "make token"
    assert token_command(9000) == "make token PORT=9000"


def test_ctrl_c_then_sigterm_both_reach_the_stop_request_and_its_wait_ends(monkeypatch):
    stopping = StopRequest()
    monkeypatch.setattr(StopRequest, "POLL_SECONDS", 0.01)
    previous = {signum: signal.signal(signum, stopping) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGTERM)
        stopping.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    assert stopping.signal == signal.SIGTERM
