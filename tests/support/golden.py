"""Golden JSON of the records that cross a capability boundary (``tests/fixtures/records``).

The producer's test builds the record with the real producer and checks it against its
golden file (``UPDATE_GOLDEN=1`` rewrites the file instead, and the diff shows what changed);
every consumer's test builds its input from the same file with ``from_json``. A producer
that changes a record's shape therefore breaks its own test first, and the updated fixture
then runs through every consumer.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

RECORDS = Path(__file__).resolve().parents[1] / "fixtures" / "records"


def golden(name: str) -> Any:
    """The golden JSON of ``name`` (e.g. ``"slo_alert"``)."""
    return json.loads((RECORDS / f"{name}.json").read_text(encoding="utf-8"))


def check_golden(name: str, produced: Any) -> None:
    """Assert that ``produced`` (a record's ``to_json()``) is the golden ``name``; rewrite it with UPDATE_GOLDEN=1."""
    path = RECORDS / f"{name}.json"
    text = json.dumps(produced, indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(text), (
        f"{path.name} differs from what the producer makes now; rerun with UPDATE_GOLDEN=1 and check every "
        f"consumer test that reads it")
