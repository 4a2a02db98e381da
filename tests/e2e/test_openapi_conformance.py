"""The OpenAPI document says what the server does: Schemathesis with every check, against a
local stack the other e2e modules do not change (its control-plane calls open breakers and incidents;
its SRE reads need a token, as deployed: ``closed_reads_stack``), once as an anonymous client and once
with the operator token; and with the operator token against the ECS variant (users in PostgreSQL:
``closed_reads_ecs_stack``). Bounded: a fixed seed, examples per operation and time budget per run."""
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

CONFIG = Path(__file__).with_name("schemathesis.toml")
# Three runs: the anonymous one mostly meets refusals, so it has less time than the operator's.
ANONYMOUS_SECONDS = 30
OPERATOR_SECONDS = 40
MAX_EXAMPLES = 20
SEED = 20261205


def schemathesis(stack, seconds, *extra):
    command = [str(Path(sys.executable).with_name("st")), "--config-file", str(CONFIG), "run",
               stack.url("/openapi.json"), "--checks", "all", "--max-examples", str(MAX_EXAMPLES),
               "--max-time", str(seconds), "--seed", str(SEED), "--request-timeout", "30",
               "--generation-database", "none", "--no-color", *extra]
    with tempfile.TemporaryDirectory(prefix="schemathesis-") as workdir:  # nothing left in the repo
        result = subprocess.run(command, cwd=workdir, capture_output=True, text=True,
                                timeout=seconds * 3)
    output = result.stdout + result.stderr
    # Response bodies can be long: the lines naming each failing operation come first in the message.
    named = "\n".join(line for line in output.splitlines() if line.startswith("_") or "\u274c" in line)
    return result.returncode, f"{named}\n...\n{output[-20000:]}"


def test_an_anonymous_client_finds_no_difference_between_document_and_server(closed_reads_stack):
    code, output = schemathesis(closed_reads_stack, ANONYMOUS_SECONDS)
    assert code == 0, output


def as_operator(stack):
    return schemathesis(stack, OPERATOR_SECONDS, "--header", f"Authorization: Bearer {stack.operator_token}")


def test_an_operator_finds_no_difference_between_document_and_server(closed_reads_stack):
    code, output = as_operator(closed_reads_stack)
    assert code == 0, output


def test_an_operator_finds_no_difference_between_document_and_the_ecs_variant(closed_reads_ecs_stack):
    code, output = as_operator(closed_reads_ecs_stack)
    assert code == 0, output
