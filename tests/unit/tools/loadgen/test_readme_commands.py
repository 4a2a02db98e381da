"""The loadgen commands the README shows run as shown: the shell hands loadgen what they say."""
import re
import shlex
from pathlib import Path

import pytest

from tools.loadgen.cli import parse_arguments, profile_from

README = Path(__file__).resolve().parents[4] / "README.md"


def readme_loadgen_commands():
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    return [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()
            if line.startswith("loadgen ")]


def test_the_readme_shows_loadgen_commands():
    assert len(readme_loadgen_commands()) >= 3


@pytest.mark.parametrize("command", readme_loadgen_commands())
def test_a_readme_loadgen_command_has_no_shell_redirection_and_parses(command):
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    words = list(lexer)
    assert not [word for word in words if set(word) <= set("<>|&;")], f"the shell would redirect: {command}"
    profile_from(parse_arguments(words[1:]))
