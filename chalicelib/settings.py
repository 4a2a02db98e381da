"""Every environment variable the service reads, with its default, in one place.

Settings are read once per process (``get_settings``); tests call
``get_settings.cache_clear()`` after changing the environment.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache, wraps
from typing import Any, Callable, TypeVar


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def _env_bool(name: str, default: bool) -> bool:
    return _env(name, "true" if default else "false").strip().lower() in {"1", "true", "yes", "on"}


def _env_ints(name: str, default: str) -> tuple[int, ...]:
    return tuple(sorted(int(part) for part in _env(name, default).split(",") if part.strip()))


@dataclass(frozen=True)
class Settings:
    region: str = field(default_factory=lambda: _env("AWS_REGION", _env("AWS_DEFAULT_REGION", "us-east-1")))
    service_name: str = field(default_factory=lambda: _env("POWERTOOLS_SERVICE_NAME", "user-api"))
    metrics_namespace: str = field(default_factory=lambda: _env("POWERTOOLS_METRICS_NAMESPACE", "ServerlessSRE"))
    users_table: str = field(default_factory=lambda: _env("USERS_TABLE", "serverless-sre-users"))
    # Latency thresholds (ms) the middleware counts good-latency events under.
    latency_thresholds_ms: tuple[int, ...] = field(default_factory=lambda: _env_ints("LATENCY_THRESHOLDS_MS", "200"))
    max_body_bytes: int = field(default_factory=lambda: int(_env("MAX_BODY_BYTES", "16384")))
    tracing_enabled: bool = field(default_factory=lambda: not _env_bool("POWERTOOLS_TRACE_DISABLED", True))
    # Locally there is no EMF agent: the metrics sink also calls PutMetricData.
    local_metrics_sink: bool = field(default_factory=lambda: _env_bool("LOCAL_METRICS_SINK", False))
    operator_token_secret: str = field(
        default_factory=lambda: _env("OPERATOR_TOKEN_SECRET", "serverless-sre/operator-token"))
    secret_cache_seconds: int = field(default_factory=lambda: int(_env("SECRET_CACHE_SECONDS", "300")))
    page_size_default: int = 100
    page_size_max: int = 1000
    # Circuit breakers (chalicelib/resilience): shared state table, read cache, storage fallback.
    breakers_table: str = field(default_factory=lambda: _env("BREAKERS_TABLE", "serverless-sre-breakers"))
    # "dynamodb" (fleet-wide state) or "memory" (per process; tests and single-process tools).
    breaker_storage: str = field(default_factory=lambda: _env("BREAKER_STORAGE", "dynamodb"))
    breaker_cache_seconds: float = field(default_factory=lambda: float(_env("BREAKER_CACHE_SECONDS", "2")))
    breaker_storage_retry_seconds: float = field(
        default_factory=lambda: float(_env("BREAKER_STORAGE_RETRY_SECONDS", "5")))
    breaker_storage_timeout_seconds: float = field(
        default_factory=lambda: float(_env("BREAKER_STORAGE_TIMEOUT_SECONDS", "1")))
    # JSON object of per-breaker overrides, e.g. {"database": {"fail_max": 3}}; merged over code defaults.
    circuit_breakers: str = field(default_factory=lambda: _env("CIRCUIT_BREAKERS", ""))
    stale_cache_entries: int = field(default_factory=lambda: int(_env("STALE_CACHE_ENTRIES", "2000")))
    # Oldest last-known-good value a fallback serves; bounds fleet-wide staleness after a write.
    stale_max_age_seconds: float = field(default_factory=lambda: float(_env("STALE_MAX_AGE_SECONDS", "300")))
    # Webhooks (chalicelib/webhooks): empty URL disables the user.created notification.
    webhook_url: str = field(default_factory=lambda: os.environ.get("WEBHOOK_URL", "").strip())
    webhook_signing_secret: str = field(
        default_factory=lambda: _env("WEBHOOK_SIGNING_SECRET", "serverless-sre/webhook-signing-key"))
    webhook_timeout_seconds: float = field(default_factory=lambda: float(_env("WEBHOOK_TIMEOUT_SECONDS", "2")))
    outbox_table: str = field(default_factory=lambda: _env("OUTBOX_TABLE", "serverless-sre-webhook-outbox"))
    outbox_backoff_base_seconds: int = field(default_factory=lambda: int(_env("OUTBOX_BACKOFF_BASE_SECONDS", "30")))
    outbox_backoff_max_seconds: int = field(default_factory=lambda: int(_env("OUTBOX_BACKOFF_MAX_SECONDS", "3600")))
    outbox_max_attempts: int = field(default_factory=lambda: int(_env("OUTBOX_MAX_ATTEMPTS", "15")))
    outbox_batch_size: int = field(default_factory=lambda: int(_env("OUTBOX_BATCH_SIZE", "50")))
    # Local stack only: the webhook receiver routes and the DynamoDB fault switch.
    local_webhook_receiver: bool = field(default_factory=lambda: _env_bool("LOCAL_WEBHOOK_RECEIVER", False))
    local_fault_control: bool = field(default_factory=lambda: _env_bool("LOCAL_FAULT_CONTROL", False))

    # Incidents (chalicelib/incidents): table, escalation workflow, pages, ack links, runbooks.
    incidents_table: str = field(default_factory=lambda: _env("INCIDENTS_TABLE", "serverless-sre-incidents"))
    # Pages topic name (provisioning); the escalation state machine receives its ARN as ${PagesTopicArn}.
    incident_pages_topic: str = field(
        default_factory=lambda: _env("INCIDENT_PAGES_TOPIC", "serverless-sre-incident-pages"))
    # Its ARN, for the direct page sent when an incident cannot be recorded.
    incident_pages_topic_arn: str = field(default_factory=lambda: os.environ.get("INCIDENT_PAGES_TOPIC_ARN", "").strip())
    escalation_state_machine_arn: str = field(
        default_factory=lambda: os.environ.get("ESCALATION_STATE_MACHINE_ARN", "").strip())
    # Ack deadline per severity before the next escalation level is paged, in seconds.
    incident_response_seconds: str = field(
        default_factory=lambda: _env("INCIDENT_RESPONSE_SECONDS", "P0=900,P1=3600,P2=14400,P3=86400"))
    # JSON list of levels [{"level": 1, "role": "...", "topic_arn": optional}]; empty = the four default roles.
    escalation_levels: str = field(default_factory=lambda: os.environ.get("ESCALATION_LEVELS", "").strip())
    escalation_repeat_last_level: bool = field(
        default_factory=lambda: _env_bool("ESCALATION_REPEAT_LAST_LEVEL", True))
    escalation_max_repeats: int = field(default_factory=lambda: int(_env("ESCALATION_MAX_REPEATS", "200")))
    # Sources whose recovery signal (SLO alert resolved, breaker closed) resolves the incident.
    incident_auto_resolve_sources: str = field(
        default_factory=lambda: _env("INCIDENT_AUTO_RESOLVE_SOURCES", "slo,breaker"))
    incident_ack_link_secret: str = field(
        default_factory=lambda: _env("INCIDENT_ACK_LINK_SECRET", "serverless-sre/incident-ack-link-key"))
    incident_ack_link_ttl_seconds: int = field(
        default_factory=lambda: int(_env("INCIDENT_ACK_LINK_TTL_SECONDS", "86400")))
    # Base URL of the API as a person receiving a page reaches it (ack links).
    public_base_url: str = field(default_factory=lambda: _env("PUBLIC_BASE_URL", "http://localhost:8000"))
    # Where page runbook links point (e.g. the repository's runbooks/ folder on the code host).
    runbooks_base_url: str = field(default_factory=lambda: _env(
        "RUNBOOKS_BASE_URL", "https://github.com/serverless-sre/serverless-sre/blob/main/runbooks"))
    # Folder the API reads the communication/postmortem templates from; empty = the repository's runbooks/.
    runbooks_dir: str = field(default_factory=lambda: os.environ.get("RUNBOOKS_DIR", "").strip())
    # SLO engine (chalicelib/slo): OpenSLO files, DynamoDB tables, evaluator and probe knobs.
    slo_dir: str = field(default_factory=lambda: os.environ.get("SLO_DIR", "").strip())  # "" = <repo>/slos
    slo_buckets_table: str = field(default_factory=lambda: _env("SLO_BUCKETS_TABLE", "serverless-sre-slo-buckets"))
    slo_status_table: str = field(default_factory=lambda: _env("SLO_STATUS_TABLE", "serverless-sre-slo-status"))
    slo_alerts_table: str = field(default_factory=lambda: _env("SLO_ALERTS_TABLE", "serverless-sre-slo-alerts"))
    slo_reread_minutes: int = field(default_factory=lambda: int(_env("SLO_REREAD_MINUTES", "5")))
    slo_catchup_hours: int = field(default_factory=lambda: int(_env("SLO_CATCHUP_HOURS", "24")))
    slo_history_days: int = field(default_factory=lambda: int(_env("SLO_HISTORY_DAYS", "7")))
    slo_stale_after_seconds: int = field(default_factory=lambda: int(_env("SLO_STALE_AFTER_SECONDS", "300")))
    # "log", or "package.module:factory" returning an AlertSink; by default pages open incidents.
    slo_alert_sink: str = field(default_factory=lambda: _env(
        "SLO_ALERT_SINK", "chalicelib.incidents.adapters:SloAlertIncidentSink"))
    # Deployed only: with an API name the success SLI counts what API Gateway saw.
    api_gateway_name: str = field(default_factory=lambda: os.environ.get("API_GATEWAY_NAME", "").strip())
    api_gateway_stage: str = field(default_factory=lambda: _env("API_GATEWAY_STAGE", "api"))
    probe_url: str = field(default_factory=lambda: os.environ.get("PROBE_URL", "").strip())
    probe_timeout_seconds: float = field(default_factory=lambda: float(_env("PROBE_TIMEOUT_SECONDS", "5")))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


T = TypeVar("T")


def settings_scoped(factory: Callable[[], T]) -> Callable[[], T]:
    """A getter of one process-wide ``factory()``, rebuilt when the settings are re-read (as tests do).

    The getter's ``reset()`` drops the instance.
    """
    state: dict[str, Any] = {}

    @wraps(factory)
    def get() -> T:
        settings = get_settings()
        if state.get("settings") is not settings:
            state["value"], state["settings"] = factory(), settings
        return state["value"]

    get.reset = state.clear  # type: ignore[attr-defined]
    return get
