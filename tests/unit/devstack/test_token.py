import os

import pytest

from devstack import token


def test_the_token_of_a_running_stack_is_printed(tmp_path, capsys):
    token.write_state(token.state_path(8123, tmp_path), {"pid": os.getpid(), "operator_token": "t0k"})
    assert token.main(["--port", "8123", "--dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "t0k\n"


def test_the_state_file_is_readable_by_its_owner_only(tmp_path):
    path = token.state_path(8123, tmp_path)
    token.write_state(path, {"pid": os.getpid(), "operator_token": "t0k"})
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_stack_that_is_gone_has_no_token(tmp_path, capsys):
    token.write_state(token.state_path(8123, tmp_path), {"pid": 2 ** 22 + 1, "operator_token": "stale"})
    assert token.main(["--port", "8123", "--dir", str(tmp_path)]) == 1
    assert "no local stack is running on port 8123" in capsys.readouterr().err


def test_no_state_file_means_no_stack(tmp_path):
    assert token.main(["--port", "8124", "--dir", str(tmp_path)]) == 1


def test_no_stack_on_another_port_says_how_to_start_one_on_that_port(tmp_path, capsys):
    assert token.main(["--port", "9000", "--dir", str(tmp_path)]) == 1
    assert '(start one with `make run PORT=9000`)' in capsys.readouterr().err


def test_a_port_in_the_environment_that_is_no_port_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.setenv("DEVSTACK_PORT", "abc")
    with pytest.raises(SystemExit) as exit_info:
        token.main([])
    assert exit_info.value.code == 2 and "a port is a number from 1 to 65535" in capsys.readouterr().err
