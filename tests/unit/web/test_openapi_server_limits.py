"""The OpenAPI document declares what the HTTP server refuses before the API sees a request."""
from chalicelib.http import limits
from chalicelib.web.openapi import openapi_document


def operations():
    for path, item in openapi_document()["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield f"{method.upper()} {path}", operation["responses"]


def test_every_operation_declares_the_414_and_431_of_the_shared_request_limits():
    undeclared = [name for name, responses in operations() if not {"414", "431"} <= responses.keys()]
    assert not undeclared
    declared = openapi_document()["components"]["responses"]
    assert str(limits.MAX_REQUEST_LINE_BYTES) in declared["RequestLineTooLong"]["description"]
    assert {str(limits.MAX_HEADER_FIELD_BYTES), str(limits.MAX_HEADER_FIELDS), str(limits.MAX_HEAD_BYTES)} <= set(
        declared["HeaderFieldsTooLarge"]["description"].replace(",", " ").split())
