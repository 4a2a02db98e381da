"""Lambda functions of ``infra/functions.json`` that a state machine invokes run in the local
stack's process: the invocation is forwarded to its control API (``POST /lambda/<key>/invoke``),
which answers what Lambda would."""
from __future__ import annotations

from typing import Any, Optional

from devstack.resources import definitions
from devstack.statemachines import FUNCTION_PREFIX

def function_key(function_name: str) -> Optional[str]:
    """The infra/functions.json key of a function name or ARN (with or without qualifier), if it is ours."""
    name = function_name.split(":function:", 1)[1] if ":function:" in function_name else function_name
    name = name.split(":", 1)[0]
    if not name.startswith(FUNCTION_PREFIX):
        return None
    key = name[len(FUNCTION_PREFIX):]
    return key if key in definitions("functions") else None


def forward_lambda_invocations(dispatch_url: str) -> None:
    import requests
    from moto.awslambda_simple.models import LambdaSimpleBackend

    original = LambdaSimpleBackend.invoke
    session = requests.Session()

    def invoke(backend: Any, function_name: str, qualifier: Optional[str], body: Any, headers: Any,
               response_headers: Any) -> Any:
        key = function_key(function_name)
        if key is None:
            return original(backend, function_name, qualifier, body, headers, response_headers)
        timeout = int(definitions("functions")[key].get("timeout_seconds", 60)) + 5
        payload = body.encode("utf-8") if isinstance(body, str) else (body or b"")
        response = session.post(f"{dispatch_url}/lambda/{key}/invoke", data=payload, timeout=timeout)
        error = response.headers.get("X-Amz-Function-Error")
        if error:
            response_headers["x-amz-function-error"] = error
        return response.content

    LambdaSimpleBackend.invoke = invoke
