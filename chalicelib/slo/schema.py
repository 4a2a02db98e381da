"""JSON Schemas of the OpenSLO v1 documents this engine reads, and of its own annotations.

Only the parts of OpenSLO v1 the engine acts on are accepted; anything it would silently
ignore (calendar windows, several objectives, raw/threshold metrics) is rejected instead.
"""
from __future__ import annotations

NAME = {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"}
DURATION = {"type": "string", "pattern": "^[1-9][0-9]*[mhdw]$"}
ANNOTATION_PREFIX = "serverless-sre/"

METADATA = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": NAME,
        "displayName": {"type": "string", "maxLength": 200},
        "labels": {"type": "object"},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "additionalProperties": False,
}

METRIC_SOURCE = {
    "type": "object",
    "required": ["metricSource"],
    "properties": {
        "metricSource": {
            "type": "object",
            "required": ["type", "spec"],
            "properties": {
                "type": {"type": "string", "minLength": 1},
                "metricSourceRef": {"type": "string"},
                "spec": {"type": "object"},
            },
            "additionalProperties": False,
        }
    },
    "additionalProperties": False,
}

SLI_SPEC = {
    "type": "object",
    "required": ["ratioMetric"],
    "properties": {
        "description": {"type": "string", "maxLength": 1050},
        "ratioMetric": {
            "type": "object",
            "required": ["counter", "total"],
            "properties": {
                "counter": {"const": True},
                "good": METRIC_SOURCE,
                "bad": METRIC_SOURCE,
                "total": METRIC_SOURCE,
            },
            "oneOf": [{"required": ["good"], "not": {"required": ["bad"]}},
                      {"required": ["bad"], "not": {"required": ["good"]}}],
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
}

SLI_DOCUMENT = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "openslo/v1"},
        "kind": {"const": "SLI"},
        "metadata": METADATA,
        "spec": SLI_SPEC,
    },
    "additionalProperties": False,
}

SLO_DOCUMENT = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "openslo/v1"},
        "kind": {"const": "SLO"},
        "metadata": METADATA,
        "spec": {
            "type": "object",
            "required": ["service", "timeWindow", "budgetingMethod", "objectives"],
            "properties": {
                "description": {"type": "string", "maxLength": 1050},
                "service": {"type": "string", "minLength": 1},
                "indicatorRef": NAME,
                "indicator": {
                    "type": "object",
                    "required": ["metadata", "spec"],
                    "properties": {"metadata": METADATA, "spec": SLI_SPEC},
                    "additionalProperties": False,
                },
                "timeWindow": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["duration", "isRolling"],
                        "properties": {
                            "duration": DURATION,
                            "isRolling": {"const": True, "description": "calendar windows are not supported"},
                        },
                        "additionalProperties": False,
                    },
                },
                "budgetingMethod": {"enum": ["Occurrences", "Timeslices"]},
                "objectives": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["target"],
                        "properties": {
                            "displayName": {"type": "string"},
                            "target": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
                            "timeSliceTarget": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                            "timeSliceWindow": {"const": "1m"},
                        },
                        "additionalProperties": False,
                    },
                },
                "alertPolicies": {"type": "array"},
            },
            "oneOf": [{"required": ["indicatorRef"], "not": {"required": ["indicator"]}},
                      {"required": ["indicator"], "not": {"required": ["indicatorRef"]}}],
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
}

BURN_RATE_TIERS = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["name", "severity", "burnRate", "longWindow", "shortWindow"],
        "properties": {
            "name": NAME,
            "severity": {"enum": ["page", "ticket"]},
            "burnRate": {"type": "number", "exclusiveMinimum": 0},
            "longWindow": DURATION,
            "shortWindow": DURATION,
            "runbook": {"type": "string", "pattern": "^[a-z0-9][-a-z0-9_]*\\.md$"},
        },
        "additionalProperties": False,
    },
}

BUDGET_POLICY = {
    "type": "object",
    "properties": {
        "warningBelow": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "freezeReleasesWhen": {"enum": ["exhausted", "warning", "never"]},
    },
    "additionalProperties": False,
}

ANNOTATIONS = {
    "tiers": ANNOTATION_PREFIX + "burn-rate-tiers",
    "min_events": ANNOTATION_PREFIX + "min-events",
    "policy": ANNOTATION_PREFIX + "budget-policy",
    "fallback": ANNOTATION_PREFIX + "fallback-indicator",
}
