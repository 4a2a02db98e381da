"""Reading the resource definitions in infra/ that deployment and the local stack share."""
from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
INFRA = ROOT / "infra"


@lru_cache(maxsize=None)
def definitions(kind: str) -> dict[str, Any]:
    """``kind`` is one of tables, functions, topics, queues, secrets, statemachines."""
    return json.loads((INFRA / f"{kind}.json").read_text(encoding="utf-8"))


def resource_name(spec: dict[str, Any]) -> str:
    """The name the code will use: its setting's value if set, else the default."""
    setting = spec.get("name_setting")
    return (os.environ.get(setting) if setting else None) or spec["default_name"]


def create_table_request(spec: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB CreateTable request for one entry of infra/tables.json."""
    attributes: dict[str, str] = {}

    def key_schema(hash_key: dict[str, str], range_key: dict[str, str] | None) -> list[dict[str, str]]:
        schema = [{"AttributeName": hash_key["name"], "KeyType": "HASH"}]
        attributes[hash_key["name"]] = hash_key["type"]
        if range_key:
            schema.append({"AttributeName": range_key["name"], "KeyType": "RANGE"})
            attributes[range_key["name"]] = range_key["type"]
        return schema

    request: dict[str, Any] = {
        "TableName": resource_name(spec),
        "KeySchema": key_schema(spec["hash_key"], spec.get("range_key")),
        "BillingMode": "PAY_PER_REQUEST",
    }
    indexes = [
        {"IndexName": index["name"], "KeySchema": key_schema(index["hash_key"], index.get("range_key")),
         "Projection": {"ProjectionType": "ALL"}}
        for index in spec.get("global_secondary_indexes", [])
    ]
    if indexes:
        request["GlobalSecondaryIndexes"] = indexes
    request["AttributeDefinitions"] = [{"AttributeName": name, "AttributeType": kind}
                                       for name, kind in attributes.items()]
    return request
