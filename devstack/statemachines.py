"""Step Functions on the local stack: the real workflows, executed by moto, with the project's handlers.

``provision_statemachines(endpoint_url, region, resources)`` is called by the local
runner once the moto server has its tables, topics and secrets. It

1. turns on moto's state machine execution and Docker-free Lambda
   (``POST /moto-api/config``; moto's own Step Functions clients reach the server
   through ``MOTO_PORT``, which must equal the server's port),
2. creates a moto Lambda function for every entry of ``infra/functions.json``
   (a dummy zip: the code never runs in moto),
3. patches moto's ``LambdaSimpleBackend.invoke`` so invoking one of those functions
   calls ``functions.<module>.handler`` in this process (an exception becomes a
   Lambda function error whose ``errorType`` is the exception's class name, as in AWS);
   a moto server in another process forwards to ``call_handler`` instead
   (devstack/embedded_aws/lambdas.py),
4. renders every ``statemachines/*.asl.json`` listed in ``infra/statemachines.json``,
   replacing each quoted ``"${Placeholder}"`` by its resource, and creates (or
   updates) the state machine.

``resources`` is what the runner provisioned, by kind: ``{"topics": {key: ARN},
"tables": {key: name}, ...}``; a placeholder reference ``"topic:<key>"`` takes
``resources["topics"][key]`` (likewise ``table:``, ``secret:``); ``"function:<key>"``
and ``"statemachine:<key>"`` resolve to what is created here. A flat entry
``resources["topic:<key>"]`` also works. The result maps each state machine key
(``infra/statemachines.json``) to its ARN, e.g.
``{"escalation": "arn:aws:states:us-east-1:123456789012:stateMachine:serverless-sre-escalation"}``;
an entry's optional ``arn_setting`` names the environment variable the code reads that ARN
from, which is set in this process (as Terraform sets it on the functions).
"""
from __future__ import annotations

import io
import json
import os
import re
import threading
import traceback
import zipfile
from typing import Any, Callable, Mapping, Optional
from urllib.parse import urlparse

from devstack.resources import ROOT, definitions

FUNCTION_PREFIX = "serverless-sre-"
ROLE_NAME = "serverless-sre-local-execution"
MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
PLACEHOLDER = re.compile(r'"\$\{([A-Za-z][A-Za-z0-9_]*)\}"')

_dispatch: dict[str, str] = {}
_dispatch_lock = threading.Lock()
_original_invoke: Optional[Callable[..., Any]] = None


class ProvisioningError(RuntimeError):
    pass


def enable_execution(endpoint_url: str) -> None:
    """Make the moto server run state machines and Lambda tasks without Docker."""
    import requests  # dev-only dependency; the local runner has it

    port = str(urlparse(endpoint_url).port or 80)
    configured = os.environ.get("MOTO_PORT")
    if configured and configured != port:
        raise ProvisioningError(f"MOTO_PORT is {configured} but the moto server listens on {port}; "
                                f"moto's Step Functions would call the wrong server")
    os.environ["MOTO_PORT"] = port
    response = requests.post(f"{endpoint_url.rstrip('/')}/moto-api/config", json=MOTO_CONFIG, timeout=5)
    if response.status_code >= 300:
        raise ProvisioningError(f"moto refused its config: {response.status_code} {response.text[:200]}")


def _function_error(exc: BaseException) -> bytes:
    return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc),
                       "stackTrace": traceback.format_exception(exc)[-5:]}).encode("utf-8")


def call_handler(function_key: str, body: Any, response_headers: dict) -> bytes:
    from devstack.functions import invoke

    raw = body.decode("utf-8") if isinstance(body, bytes) else (body or "")
    try:
        return json.dumps(invoke(function_key, json.loads(raw) if raw.strip() else {})).encode("utf-8")
    except Exception as exc:  # becomes the function error Step Functions' Retry/Catch match on
        response_headers["x-amz-function-error"] = "Unhandled"
        return _function_error(exc)


def install_handler_dispatch(handlers: Mapping[str, str]) -> None:
    """Invoking a function whose name or ARN is in ``handlers`` runs that infra/functions.json key in-process."""
    global _original_invoke
    from moto.awslambda_simple.models import LambdaSimpleBackend

    with _dispatch_lock:
        _dispatch.update(handlers)
        if _original_invoke is not None:
            return
        _original_invoke = LambdaSimpleBackend.invoke

        def invoke(backend: Any, function_name: str, qualifier: Optional[str], body: Any, headers: Any,
                   response_headers: Any) -> Any:
            function_key = _dispatch.get(function_name)
            if function_key is None:
                return _original_invoke(backend, function_name, qualifier, body, headers, response_headers)
            return call_handler(function_key, body, response_headers)

        LambdaSimpleBackend.invoke = invoke


def uninstall_handler_dispatch() -> None:
    global _original_invoke
    from moto.awslambda_simple.models import LambdaSimpleBackend

    with _dispatch_lock:
        if _original_invoke is not None:
            LambdaSimpleBackend.invoke = _original_invoke
            _original_invoke = None
        _dispatch.clear()


def _execution_role(iam: Any) -> str:
    try:
        return iam.get_role(RoleName=ROLE_NAME)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]}}]}
        return iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def _dummy_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "Runs in-process on the local stack (devstack/statemachines.py).\n")
    return buffer.getvalue()


def create_functions(lambda_client: Any, role_arn: str, functions: Mapping[str, Mapping[str, Any]],
                     prefix: str = FUNCTION_PREFIX) -> dict[str, str]:
    """One moto Lambda function per ``infra/functions.json`` entry; key -> function ARN."""
    arns: dict[str, str] = {}
    code = _dummy_zip()
    for key, spec in functions.items():
        name = f"{prefix}{key}"
        try:
            arn = lambda_client.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
        except lambda_client.exceptions.ResourceNotFoundException:
            arn = lambda_client.create_function(
                FunctionName=name, Runtime="python3.11", Role=role_arn, Handler=spec["handler"],
                Code={"ZipFile": code}, Timeout=int(spec.get("timeout_seconds", 30)),
                MemorySize=int(spec.get("memory_mb", 256)))["FunctionArn"]
        arns[key] = arn
    return arns


def render_definition(text: str, placeholders: Mapping[str, str], resolve: Callable[[str], Any]) -> str:
    """Replace each quoted ``"${Name}"`` by the JSON of ``resolve(placeholders[Name])``."""
    def substitute(match: re.Match) -> str:
        name = match.group(1)
        if name not in placeholders:
            raise ProvisioningError(f"${{{name}}} has no entry in infra/statemachines.json placeholders")
        return json.dumps(resolve(placeholders[name]))

    rendered = PLACEHOLDER.sub(substitute, text)
    if "${" in rendered:
        raise ProvisioningError("A ${...} placeholder is not a whole quoted JSON string; it cannot be rendered")
    json.loads(rendered)
    return rendered


def provision_statemachines(endpoint_url: str, region: str, resources: Mapping[str, Any], *,
                            prefix: str = FUNCTION_PREFIX, dispatch_in_process: bool = True) -> dict[str, str]:
    """Provision functions and state machines on the moto server; returns state machine key -> ARN.

    ``dispatch_in_process=False`` when moto runs in another process, which forwards
    invocations itself (devstack/embedded_aws/lambdas.py).
    """
    import boto3

    enable_execution(endpoint_url)
    session = boto3.session.Session(region_name=region)
    lambda_client = session.client("lambda", endpoint_url=endpoint_url)
    sfn = session.client("stepfunctions", endpoint_url=endpoint_url)
    role_arn = _execution_role(session.client("iam", endpoint_url=endpoint_url))

    function_arns = create_functions(lambda_client, role_arn, definitions("functions"), prefix)
    if dispatch_in_process:
        install_handler_dispatch({**{arn: key for key, arn in function_arns.items()},
                                  **{f"{prefix}{key}": key for key in function_arns}})

    machines: dict[str, str] = {}

    def resolve(reference: str) -> Any:
        kind, _, key = reference.partition(":")
        if kind == "function" and key in function_arns:
            return function_arns[key]
        if kind == "statemachine" and key in machines:
            return machines[key]
        if reference in resources:
            return resources[reference]
        provisioned = resources.get(f"{kind}s")
        if isinstance(provisioned, Mapping) and key in provisioned:
            return provisioned[key]
        raise ProvisioningError(f"No resource for placeholder reference {reference!r}")

    existing = {machine["name"]: machine["stateMachineArn"]
                for page in sfn.get_paginator("list_state_machines").paginate()
                for machine in page["stateMachines"]}
    for key, spec in definitions("statemachines").items():
        definition = render_definition((ROOT / spec["definition"]).read_text(encoding="utf-8"),
                                       spec.get("placeholders", {}), resolve)
        name = f"{prefix}{key}"
        if name in existing:
            sfn.update_state_machine(stateMachineArn=existing[name], definition=definition, roleArn=role_arn)
            machines[key] = existing[name]
        else:
            machines[key] = sfn.create_state_machine(name=name, definition=definition,
                                                     roleArn=role_arn)["stateMachineArn"]
        if spec.get("arn_setting"):
            os.environ[spec["arn_setting"]] = machines[key]
    _reread_settings()
    return machines


def _reread_settings() -> None:
    """The state machine ARNs are settings now: the next use of the wiring re-reads them."""
    from chalicelib import wiring

    wiring.reset()
