"""`python -m devstack` refuses a command line it cannot start with, saying why, before starting anything."""
import pytest

from devstack.__main__ import parse_args


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


@pytest.mark.parametrize("seconds", ["nan", "inf", "0", "-5"])
def test_a_schedule_period_that_is_not_a_positive_number_is_refused(capsys, seconds):
    assert "--schedule takes FUNCTION=SECONDS (positive)" in refusal(capsys, ["--schedule", f"slo-evaluator={seconds}"])
