"""The OpenAPI document carries experiments/schema.json as its inline definition schema, unchanged."""
import json

from chalicelib.chaos.definition import schema
from chalicelib.web.openapi import openapi_document

PREFIX = "ChaosExperimentDefinition"


def as_components(document):
    """experiments/schema.json as OpenAPI components: the document, then each $defs entry beside it."""
    text = json.dumps(document)
    for name in document.get("$defs", {}):
        text = text.replace(f'"#/$defs/{name}"', f'"#/components/schemas/{PREFIX}{name.capitalize()}"')
    converted = json.loads(text)
    defs = converted.pop("$defs", {})
    for key in ("$schema", "$id"):
        converted.pop(key, None)
    return {PREFIX: converted, **{f"{PREFIX}{name.capitalize()}": value for name, value in defs.items()}}


def test_the_document_states_the_definition_schema_as_shipped():
    schemas = openapi_document()["components"]["schemas"]
    expected = as_components(schema())
    assert {name: schemas.get(name) for name in expected} == expected


def test_the_start_body_refers_to_it():
    body = openapi_document()["paths"]["/sre/chaos/experiments"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]
    assert body["properties"]["definition"] == {"$ref": f"#/components/schemas/{PREFIX}"}
