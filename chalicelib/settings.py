"""Every environment variable the service reads, with its default, in one place.

One small frozen dataclass per capability, each field naming its variable (``setting``);
``Settings.from_env()`` reads them all.
Nothing else reads the environment: ``chalicelib.wiring`` turns these into objects,
and tests build a fresh wiring after changing the environment (``wiring.reset()``).
Chaos experiments, capacity planning and the dashboard add their own dataclass here
and a field on ``Settings``.
"""
from __future__ import annotations

import os
from dataclasses import Field, dataclass, field, fields
from typing import Any, Mapping, Optional

Environ = Mapping[str, str]
LATENCY_LADDER_MS = (25, 50, 100, 200, 400, 800, 1600)


def _text(env: Environ, name: str, default: str) -> str:
    value = env.get(name)
    return default if value is None or value == "" else value


def _flag(env: Environ, name: str, default: bool) -> bool:
    return _text(env, name, "true" if default else "false").strip().lower() in {"1", "true", "yes", "on"}


def _int(env: Environ, name: str, default: int) -> int:
    return int(_text(env, name, str(default)))


def _ints(env: Environ, name: str, default: str) -> tuple[int, ...]:
    return tuple(sorted(int(part) for part in _text(env, name, default).split(",") if part.strip()))


def setting(variable: str, default: Any, *, strip: bool = False) -> Any:
    """A field read from the environment variable ``variable`` (unset or empty: ``default``), parsed
    as its default is typed: a flag, a whole number, a number, comma-separated whole numbers, or
    text (``strip``: without surrounding spaces)."""
    return field(default=default, metadata={"variable": variable, "strip": strip})


def _read(env: Environ, setting_field: Field) -> Any:
    name, default = setting_field.metadata["variable"], setting_field.default
    if isinstance(default, bool):
        return _flag(env, name, default)
    if isinstance(default, int):
        return _int(env, name, default)
    if isinstance(default, float):
        return float(_text(env, name, str(default)))
    if isinstance(default, tuple):
        return _ints(env, name, ",".join(map(str, default)))
    value = _text(env, name, default)
    return value.strip() if setting_field.metadata["strip"] else value


class FromEnvironment:
    """``from_env`` of a settings dataclass: each ``setting`` field read from its variable."""

    @classmethod
    def from_env(cls, env: Environ) -> Any:
        return cls._read(env)

    @classmethod
    def _read(cls, env: Environ, **derived: Any) -> Any:
        """``derived``: the fields read some other way (a fallback variable, an inverted flag)."""
        return cls(**{item.name: _read(env, item) for item in fields(cls) if "variable" in item.metadata},
                     **derived)


@dataclass(frozen=True)
class ServiceSettings(FromEnvironment):
    """What every capability shares: region, names in logs and metrics, the HTTP edge, operators."""
    region: str = "us-east-1"  # AWS_REGION, else AWS_DEFAULT_REGION (from_env)
    service_name: str = setting("POWERTOOLS_SERVICE_NAME", "user-api")
    metrics_namespace: str = setting("POWERTOOLS_METRICS_NAMESPACE", "ServerlessSRE")
    tracing_enabled: bool = False  # unless POWERTOOLS_TRACE_DISABLED is false (from_env)
    # Locally there is no EMF agent: the metrics sink also calls PutMetricData.
    local_metrics_sink: bool = setting("LOCAL_METRICS_SINK", False)
    # Connections each AWS client keeps open (botocore's default). A Lambda instance serves one
    # request at a time; the local gateway serves every client at once from one process.
    aws_max_pool_connections: int = setting("AWS_MAX_POOL_CONNECTIONS", 10)
    # Latency thresholds (ms) the middleware counts good-latency events under: a ladder, since
    # moto's CloudWatch computes no percentiles; the dashboard shows the distribution, and the
    # latency SLO reads the one rung its own threshold names (slos/latency.yaml).
    latency_thresholds_ms: tuple[int, ...] = setting("LATENCY_THRESHOLDS_MS", LATENCY_LADDER_MS)
    max_body_bytes: int = setting("MAX_BODY_BYTES", 16384)
    operator_token_secret: str = setting("OPERATOR_TOKEN_SECRET", "serverless-sre/operator-token")
    # Reads of the SRE plane (GET /sre/...) take a viewer token (or an operator's); the local
    # stack turns this off so the dashboard and curl work without one.
    viewer_token_secret: str = setting("VIEWER_TOKEN_SECRET", "serverless-sre/viewer-token")
    sre_reads_require_token: bool = setting("SRE_READS_REQUIRE_TOKEN", True)
    secret_cache_seconds: int = setting("SECRET_CACHE_SECONDS", 300)
    # Base URL of the API as a person receiving a page reaches it (ack links).
    public_base_url: str = setting("PUBLIC_BASE_URL", "http://localhost:8000")
    # Where page and alert runbook links point (the repository's runbooks/ folder on the code host).
    runbooks_base_url: str = setting("RUNBOOKS_BASE_URL",
                                     "https://github.com/serverless-sre/serverless-sre/blob/main/runbooks")

    @classmethod
    def from_env(cls, env: Environ) -> "ServiceSettings":
        return cls._read(env, region=_text(env, "AWS_REGION", _text(env, "AWS_DEFAULT_REGION", "us-east-1")),
                         tracing_enabled=not _flag(env, "POWERTOOLS_TRACE_DISABLED", True))


@dataclass(frozen=True)
class UserSettings(FromEnvironment):
    table: str = setting("USERS_TABLE", "serverless-sre-users")
    # Where users live: "dynamodb" (the serverless stack) or "postgres" (the ECS/RDS variant).
    store: str = "dynamodb"  # USERS_STORE, in lower case (from_env)

    @classmethod
    def from_env(cls, env: Environ) -> "UserSettings":
        return cls._read(env, store=_text(env, "USERS_STORE", "dynamodb").strip().lower())


@dataclass(frozen=True)
class DatabaseSettings(FromEnvironment):
    """PostgreSQL (USERS_STORE=postgres): where it is, the Secrets Manager secret with the
    credentials (the JSON RDS manages: {"username", "password"}; its host/port are used when
    set), and the connection pool of each server process."""
    host: str = setting("DB_HOST", "", strip=True)
    port: int = setting("DB_PORT", 5432)
    name: str = setting("DB_NAME", "postgres")
    secret_id: str = setting("DB_SECRET_ID", "", strip=True)
    sslmode: str = setting("DB_SSLMODE", "require")
    connect_timeout_seconds: int = setting("DB_CONNECT_TIMEOUT_SECONDS", 3)
    # One statement's bound: the server cancels it after this (statement_timeout), and the client
    # gives up on the connection a second later when no answer came (a stopped or unreachable
    # server cancels nothing): the request is a 503 and the breaker counts it.
    statement_timeout_seconds: float = setting("DB_STATEMENT_TIMEOUT_SECONDS", 2.0)
    pool_min_size: int = setting("DB_POOL_MIN_SIZE", 1)
    # One connection per server thread is enough (container/gunicorn_conf.py: WEB_THREADS).
    pool_max_size: int = 8  # DB_POOL_MAX_SIZE, else WEB_THREADS (from_env)
    # How long a request waits for a free pooled connection before the store counts as unavailable.
    pool_timeout_seconds: float = setting("DB_POOL_TIMEOUT_SECONDS", 2.0)
    # How long the pool keeps retrying a failed connection with growing delays before it gives up
    # and lets the next request try at once: bounds how long the pool lags a recovered database.
    pool_reconnect_seconds: float = setting("DB_POOL_RECONNECT_SECONDS", 10.0)

    @classmethod
    def from_env(cls, env: Environ) -> "DatabaseSettings":
        return cls._read(env, pool_max_size=_int(env, "DB_POOL_MAX_SIZE", _int(env, "WEB_THREADS", 8)))


@dataclass(frozen=True)
class BreakerSettings(FromEnvironment):
    """Circuit breakers (chalicelib/resilience): shared state table, read cache, storage fallback."""
    table: str = setting("BREAKERS_TABLE", "serverless-sre-breakers")
    # "dynamodb" (fleet-wide state) or "memory" (per process; tests and single-process tools).
    storage: str = setting("BREAKER_STORAGE", "dynamodb")
    cache_seconds: float = setting("BREAKER_CACHE_SECONDS", 2.0)
    storage_retry_seconds: float = setting("BREAKER_STORAGE_RETRY_SECONDS", 5.0)
    storage_timeout_seconds: float = setting("BREAKER_STORAGE_TIMEOUT_SECONDS", 1.0)
    # JSON object of per-breaker overrides, e.g. {"database": {"fail_max": 3}}; merged over code defaults.
    overrides_json: str = setting("CIRCUIT_BREAKERS", "")
    stale_cache_entries: int = setting("STALE_CACHE_ENTRIES", 2000)
    # Oldest last-known-good value a fallback serves; bounds fleet-wide staleness after a write.
    stale_max_age_seconds: float = setting("STALE_MAX_AGE_SECONDS", 300.0)
    # Where transitions are handed off to the incident flow (infra/queues.json, set at provisioning).
    transitions_queue_url: str = setting("BREAKER_TRANSITIONS_QUEUE_URL", "", strip=True)


@dataclass(frozen=True)
class WebhookSettings(FromEnvironment):
    """Webhooks (chalicelib/webhooks): an empty URL disables the user.created notification."""
    url: str = setting("WEBHOOK_URL", "", strip=True)
    signing_secret: str = setting("WEBHOOK_SIGNING_SECRET", "serverless-sre/webhook-signing-key")
    timeout_seconds: float = setting("WEBHOOK_TIMEOUT_SECONDS", 2.0)
    outbox_table: str = setting("OUTBOX_TABLE", "serverless-sre-webhook-outbox")
    backoff_base_seconds: int = setting("OUTBOX_BACKOFF_BASE_SECONDS", 30)
    backoff_max_seconds: int = setting("OUTBOX_BACKOFF_MAX_SECONDS", 3600)
    max_attempts: int = setting("OUTBOX_MAX_ATTEMPTS", 15)
    batch_size: int = setting("OUTBOX_BATCH_SIZE", 50)
    # How long delivered and dead events stay in the outbox (its TTL) for inspection.
    keep_finished_seconds: int = setting("OUTBOX_KEEP_FINISHED_SECONDS", 7 * 24 * 3600)


@dataclass(frozen=True)
class IncidentSettings(FromEnvironment):
    """Incidents (chalicelib/incidents): table, escalation workflow, pages, ack links, templates."""
    table: str = setting("INCIDENTS_TABLE", "serverless-sre-incidents")
    # Pages topic name (provisioning); the escalation state machine receives its ARN as ${PagesTopicArn}.
    pages_topic: str = setting("INCIDENT_PAGES_TOPIC", "serverless-sre-incident-pages")
    # Its ARN, for the direct page sent when an incident cannot be recorded.
    pages_topic_arn: str = setting("INCIDENT_PAGES_TOPIC_ARN", "", strip=True)
    # Tickets (ticket-tier SLO alerts) go to their own topic, never to the pages topic.
    tickets_topic: str = setting("INCIDENT_TICKETS_TOPIC", "serverless-sre-incident-tickets")
    tickets_topic_arn: str = setting("INCIDENT_TICKETS_TOPIC_ARN", "", strip=True)
    # An SLO incident resolves only once no page tier has fired for this long; firing again
    # within it reopens the same incident.
    hold_down_seconds: int = setting("INCIDENT_HOLD_DOWN_SECONDS", 600)
    escalation_state_machine_arn: str = setting("ESCALATION_STATE_MACHINE_ARN", "", strip=True)
    # Ack deadline per severity before the next escalation level is paged, in seconds.
    response_seconds: str = setting("INCIDENT_RESPONSE_SECONDS", "P0=900,P1=3600,P2=14400,P3=86400")
    # JSON list of levels [{"level": 1, "role": "...", "topic_arn": optional}]; empty = the four default roles.
    escalation_levels: str = setting("ESCALATION_LEVELS", "", strip=True)
    escalation_repeat_last_level: bool = setting("ESCALATION_REPEAT_LAST_LEVEL", True)
    escalation_max_repeats: int = setting("ESCALATION_MAX_REPEATS", 200)
    # Sources whose recovery signal (SLO alert resolved, breaker closed) resolves the incident.
    auto_resolve_sources: str = setting("INCIDENT_AUTO_RESOLVE_SOURCES", "slo,breaker")
    ack_link_secret: str = setting("INCIDENT_ACK_LINK_SECRET", "serverless-sre/incident-ack-link-key")
    ack_link_ttl_seconds: int = setting("INCIDENT_ACK_LINK_TTL_SECONDS", 86400)
    # Folder the API reads the communication/postmortem templates from; empty = the repository's runbooks/.
    runbooks_dir: str = setting("RUNBOOKS_DIR", "", strip=True)


@dataclass(frozen=True)
class SloSettings(FromEnvironment):
    """SLO engine (chalicelib/slo): OpenSLO files, DynamoDB tables, evaluator and probe knobs."""
    slo_dir: str = setting("SLO_DIR", "", strip=True)  # "" = <repo>/slos
    buckets_table: str = setting("SLO_BUCKETS_TABLE", "serverless-sre-slo-buckets")
    status_table: str = setting("SLO_STATUS_TABLE", "serverless-sre-slo-status")
    alerts_table: str = setting("SLO_ALERTS_TABLE", "serverless-sre-slo-alerts")
    reread_minutes: int = setting("SLO_REREAD_MINUTES", 5)
    catchup_hours: int = setting("SLO_CATCHUP_HOURS", 24)
    history_days: int = setting("SLO_HISTORY_DAYS", 7)
    # How much of its period an SLO must have data for before its budget state means anything
    # (until then it is insufficient_history and the budget policy does not act on it).
    min_history: str = setting("SLO_MIN_HISTORY", "1d")
    stale_after_seconds: int = setting("SLO_STALE_AFTER_SECONDS", 300)
    # "incidents" (default: alerts open incidents), "log", or "package.module:factory" returning an AlertSink.
    alert_sink: str = setting("SLO_ALERT_SINK", "incidents", strip=True)
    # Deployed only: with an API name the success SLI counts what API Gateway saw.
    api_gateway_name: str = setting("API_GATEWAY_NAME", "", strip=True)
    api_gateway_stage: str = setting("API_GATEWAY_STAGE", "api")
    probe_url: str = setting("PROBE_URL", "", strip=True)
    probe_timeout_seconds: float = setting("PROBE_TIMEOUT_SECONDS", 5.0)


@dataclass(frozen=True)
class CapacitySettings(FromEnvironment):
    """Capacity planning (chalicelib/capacity): what is collected, forecast and recommended."""
    table: str = setting("CAPACITY_TABLE", "serverless-sre-capacity")
    # The API function whose AWS/Lambda figures and configuration are read (deployed name).
    api_function_name: str = setting("API_FUNCTION_NAME", "serverless-sre-api")
    # Days of hourly CloudWatch data read per collection, and recent hours kept in the report.
    window_days: int = setting("CAPACITY_WINDOW_DAYS", 28)
    hourly_hours: int = setting("CAPACITY_HOURLY_HOURS", 48)
    min_history_days: int = setting("CAPACITY_MIN_HISTORY_DAYS", 14)
    # Share of a limit a forecast peak may reach before a recommendation asks for more.
    target_utilization: float = setting("CAPACITY_TARGET_UTILIZATION", 0.7)
    # Days ahead a forecast peak is planned for (DynamoDB warm throughput, task bounds).
    planning_days: int = setting("CAPACITY_PLANNING_DAYS", 30)
    # ECS variant: the service and its load balancer target group (dimensions of AWS/ECS and AWS/ApplicationELB).
    ecs_cluster_name: str = setting("ECS_CLUSTER_NAME", "", strip=True)
    ecs_service_name: str = setting("ECS_SERVICE_NAME", "", strip=True)
    alb_target_group: str = setting("ALB_TARGET_GROUP", "", strip=True)
    alb_load_balancer: str = setting("ALB_LOAD_BALANCER", "", strip=True)


@dataclass(frozen=True)
class ChaosSettings(FromEnvironment):
    """Chaos experiments (chalicelib/chaos): fault records, the journal, the workflow, the catalog."""
    faults_table: str = setting("CHAOS_FAULTS_TABLE", "serverless-sre-chaos-faults")
    journal_table: str = setting("CHAOS_JOURNAL_TABLE", "serverless-sre-chaos-journal")
    # "dynamodb" (fleet-wide) or "memory" (per process: single-process tools and benchmarks).
    fault_store: str = setting("CHAOS_FAULT_STORE", "dynamodb")
    # How long a process answers from its copy of the fault records (one store read per period).
    cache_seconds: float = setting("CHAOS_FAULT_CACHE_SECONDS", 5.0)
    state_machine_arn: str = setting("CHAOS_STATE_MACHINE_ARN", "", strip=True)
    # The sweeper rolls back what an experiment left behind (its deadline passed): never throttled either.
    sweeper_function_name: str = setting("CHAOS_SWEEPER_FUNCTION_NAME", "serverless-sre-chaos-sweeper", strip=True)
    catalog_dir: str = setting("CHAOS_CATALOG_DIR", "", strip=True)  # "" = <repo>/experiments
    # Faults and target locks outlive the planned end (duration + recovery) by this much at most.
    expiry_grace_seconds: int = setting("CHAOS_EXPIRY_GRACE_SECONDS", 120)
    max_duration_seconds: int = setting("CHAOS_MAX_DURATION_SECONDS", 3600)


@dataclass(frozen=True)
class LocalSettings(FromEnvironment):
    """Local stack only (set by devstack): the webhook may go to the local receiver on plain http."""
    webhook_receiver: bool = setting("LOCAL_WEBHOOK_RECEIVER", False)


@dataclass(frozen=True)
class DashboardSettings(FromEnvironment):
    """The dashboard (chalicelib/dashboard): how much it shows and how often the page refreshes."""
    history_hours: int = setting("DASHBOARD_HISTORY_HOURS", 168)
    incident_window_days: int = setting("DASHBOARD_INCIDENT_WINDOW_DAYS", 30)
    recent_incidents: int = setting("DASHBOARD_RECENT_INCIDENTS", 20)
    refresh_seconds: int = setting("DASHBOARD_REFRESH_SECONDS", 30)
    recent_tickets: int = setting("DASHBOARD_RECENT_TICKETS", 20)
    recent_experiments: int = setting("DASHBOARD_RECENT_EXPERIMENTS", 10)
    cache_seconds: int = setting("DASHBOARD_CACHE_SECONDS", 60)


@dataclass(frozen=True)
class Settings:
    service: ServiceSettings = field(default_factory=ServiceSettings)
    users: UserSettings = field(default_factory=UserSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    breakers: BreakerSettings = field(default_factory=BreakerSettings)
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)
    incidents: IncidentSettings = field(default_factory=IncidentSettings)
    slo: SloSettings = field(default_factory=SloSettings)
    capacity: CapacitySettings = field(default_factory=CapacitySettings)
    chaos: ChaosSettings = field(default_factory=ChaosSettings)
    local: LocalSettings = field(default_factory=LocalSettings)
    dashboard: DashboardSettings = field(default_factory=DashboardSettings)

    @classmethod
    def from_env(cls, env: Optional[Environ] = None) -> "Settings":
        env = os.environ if env is None else env
        # Each field's default factory is its capability's settings class.
        return cls(**{item.name: item.default_factory.from_env(env) for item in fields(cls)})
