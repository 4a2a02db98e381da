"""Every environment variable the service reads, with its default, in one place.

One small frozen dataclass per capability; ``Settings.from_env()`` reads them all.
Nothing else reads the environment: ``chalicelib.wiring`` turns these into objects,
and tests build a fresh wiring after changing the environment (``wiring.reset()``).
Chaos experiments, capacity planning and the dashboard add their own dataclass here
and a field on ``Settings``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping, Optional

Environ = Mapping[str, str]
LATENCY_LADDER_MS = (25, 50, 100, 200, 400, 800, 1600)


def _text(env: Environ, name: str, default: str) -> str:
    value = env.get(name)
    return default if value is None or value == "" else value


def _stripped(env: Environ, name: str) -> str:
    return env.get(name, "").strip()


def _flag(env: Environ, name: str, default: bool) -> bool:
    return _text(env, name, "true" if default else "false").strip().lower() in {"1", "true", "yes", "on"}


def _int(env: Environ, name: str, default: int) -> int:
    return int(_text(env, name, str(default)))


def _float(env: Environ, name: str, default: float) -> float:
    return float(_text(env, name, str(default)))


def _ints(env: Environ, name: str, default: str) -> tuple[int, ...]:
    return tuple(sorted(int(part) for part in _text(env, name, default).split(",") if part.strip()))


@dataclass(frozen=True)
class ServiceSettings:
    """What every capability shares: region, names in logs and metrics, the HTTP edge, operators."""
    region: str = "us-east-1"
    service_name: str = "user-api"
    metrics_namespace: str = "ServerlessSRE"
    tracing_enabled: bool = False
    # Locally there is no EMF agent: the metrics sink also calls PutMetricData.
    local_metrics_sink: bool = False
    # Latency thresholds (ms) the middleware counts good-latency events under: a ladder, since
    # moto's CloudWatch computes no percentiles; the dashboard shows the distribution, and the
    # latency SLO reads the one rung its own threshold names (slos/latency.yaml).
    latency_thresholds_ms: tuple[int, ...] = LATENCY_LADDER_MS
    max_body_bytes: int = 16384
    operator_token_secret: str = "serverless-sre/operator-token"
    # Reads of the SRE plane (GET /sre/...) take a viewer token (or an operator's); the local
    # stack turns this off so the dashboard and curl work without one.
    viewer_token_secret: str = "serverless-sre/viewer-token"
    sre_reads_require_token: bool = True
    secret_cache_seconds: int = 300
    # Base URL of the API as a person receiving a page reaches it (ack links).
    public_base_url: str = "http://localhost:8000"
    # Where page and alert runbook links point (the repository's runbooks/ folder on the code host).
    runbooks_base_url: str = "https://github.com/serverless-sre/serverless-sre/blob/main/runbooks"

    @classmethod
    def from_env(cls, env: Environ) -> "ServiceSettings":
        return cls(
            region=_text(env, "AWS_REGION", _text(env, "AWS_DEFAULT_REGION", "us-east-1")),
            service_name=_text(env, "POWERTOOLS_SERVICE_NAME", "user-api"),
            metrics_namespace=_text(env, "POWERTOOLS_METRICS_NAMESPACE", "ServerlessSRE"),
            tracing_enabled=not _flag(env, "POWERTOOLS_TRACE_DISABLED", True),
            local_metrics_sink=_flag(env, "LOCAL_METRICS_SINK", False),
            latency_thresholds_ms=_ints(env, "LATENCY_THRESHOLDS_MS", ",".join(map(str, LATENCY_LADDER_MS))),
            max_body_bytes=_int(env, "MAX_BODY_BYTES", 16384),
            operator_token_secret=_text(env, "OPERATOR_TOKEN_SECRET", "serverless-sre/operator-token"),
            viewer_token_secret=_text(env, "VIEWER_TOKEN_SECRET", "serverless-sre/viewer-token"),
            sre_reads_require_token=_flag(env, "SRE_READS_REQUIRE_TOKEN", True),
            secret_cache_seconds=_int(env, "SECRET_CACHE_SECONDS", 300),
            public_base_url=_text(env, "PUBLIC_BASE_URL", "http://localhost:8000"),
            runbooks_base_url=_text(env, "RUNBOOKS_BASE_URL", cls.runbooks_base_url),
        )


@dataclass(frozen=True)
class UserSettings:
    table: str = "serverless-sre-users"
    # Where users live: "dynamodb" (the serverless stack) or "postgres" (the ECS/RDS variant).
    store: str = "dynamodb"

    @classmethod
    def from_env(cls, env: Environ) -> "UserSettings":
        return cls(table=_text(env, "USERS_TABLE", "serverless-sre-users"),
                   store=_text(env, "USERS_STORE", "dynamodb").strip().lower())


@dataclass(frozen=True)
class DatabaseSettings:
    """PostgreSQL (USERS_STORE=postgres): where it is, the Secrets Manager secret with the
    credentials (the JSON RDS manages: {"username", "password"}; its host/port are used when
    set), and the connection pool of each server process."""
    host: str = ""
    port: int = 5432
    name: str = "postgres"
    secret_id: str = ""
    sslmode: str = "require"
    connect_timeout_seconds: int = 3
    pool_min_size: int = 1
    # One connection per server thread is enough (container/gunicorn_conf.py: WEB_THREADS).
    pool_max_size: int = 8
    # How long a request waits for a free pooled connection before the store counts as unavailable.
    pool_timeout_seconds: float = 2.0
    # How long the pool keeps retrying a failed connection with growing delays before it gives up
    # and lets the next request try at once: bounds how long the pool lags a recovered database.
    pool_reconnect_seconds: float = 10.0

    @classmethod
    def from_env(cls, env: Environ) -> "DatabaseSettings":
        return cls(
            host=_stripped(env, "DB_HOST"),
            port=_int(env, "DB_PORT", 5432),
            name=_text(env, "DB_NAME", "postgres"),
            secret_id=_stripped(env, "DB_SECRET_ID"),
            sslmode=_text(env, "DB_SSLMODE", "require"),
            connect_timeout_seconds=_int(env, "DB_CONNECT_TIMEOUT_SECONDS", 3),
            pool_min_size=_int(env, "DB_POOL_MIN_SIZE", 1),
            pool_max_size=_int(env, "DB_POOL_MAX_SIZE", _int(env, "WEB_THREADS", 8)),
            pool_timeout_seconds=_float(env, "DB_POOL_TIMEOUT_SECONDS", 2),
            pool_reconnect_seconds=_float(env, "DB_POOL_RECONNECT_SECONDS", 10),
        )


@dataclass(frozen=True)
class BreakerSettings:
    """Circuit breakers (chalicelib/resilience): shared state table, read cache, storage fallback."""
    table: str = "serverless-sre-breakers"
    # "dynamodb" (fleet-wide state) or "memory" (per process; tests and single-process tools).
    storage: str = "dynamodb"
    cache_seconds: float = 2.0
    storage_retry_seconds: float = 5.0
    storage_timeout_seconds: float = 1.0
    # JSON object of per-breaker overrides, e.g. {"database": {"fail_max": 3}}; merged over code defaults.
    overrides_json: str = ""
    stale_cache_entries: int = 2000
    # Oldest last-known-good value a fallback serves; bounds fleet-wide staleness after a write.
    stale_max_age_seconds: float = 300.0
    # Where transitions are handed off to the incident flow (infra/queues.json, set at provisioning).
    transitions_queue_url: str = ""

    @classmethod
    def from_env(cls, env: Environ) -> "BreakerSettings":
        return cls(
            table=_text(env, "BREAKERS_TABLE", "serverless-sre-breakers"),
            storage=_text(env, "BREAKER_STORAGE", "dynamodb"),
            cache_seconds=_float(env, "BREAKER_CACHE_SECONDS", 2),
            storage_retry_seconds=_float(env, "BREAKER_STORAGE_RETRY_SECONDS", 5),
            storage_timeout_seconds=_float(env, "BREAKER_STORAGE_TIMEOUT_SECONDS", 1),
            overrides_json=_text(env, "CIRCUIT_BREAKERS", ""),
            stale_cache_entries=_int(env, "STALE_CACHE_ENTRIES", 2000),
            stale_max_age_seconds=_float(env, "STALE_MAX_AGE_SECONDS", 300),
            transitions_queue_url=_stripped(env, "BREAKER_TRANSITIONS_QUEUE_URL"),
        )


@dataclass(frozen=True)
class WebhookSettings:
    """Webhooks (chalicelib/webhooks): an empty URL disables the user.created notification."""
    url: str = ""
    signing_secret: str = "serverless-sre/webhook-signing-key"
    timeout_seconds: float = 2.0
    outbox_table: str = "serverless-sre-webhook-outbox"
    backoff_base_seconds: int = 30
    backoff_max_seconds: int = 3600
    max_attempts: int = 15
    batch_size: int = 50
    # How long delivered and dead events stay in the outbox (its TTL) for inspection.
    keep_finished_seconds: int = 7 * 24 * 3600

    @classmethod
    def from_env(cls, env: Environ) -> "WebhookSettings":
        return cls(
            url=_stripped(env, "WEBHOOK_URL"),
            signing_secret=_text(env, "WEBHOOK_SIGNING_SECRET", "serverless-sre/webhook-signing-key"),
            timeout_seconds=_float(env, "WEBHOOK_TIMEOUT_SECONDS", 2),
            outbox_table=_text(env, "OUTBOX_TABLE", "serverless-sre-webhook-outbox"),
            backoff_base_seconds=_int(env, "OUTBOX_BACKOFF_BASE_SECONDS", 30),
            backoff_max_seconds=_int(env, "OUTBOX_BACKOFF_MAX_SECONDS", 3600),
            max_attempts=_int(env, "OUTBOX_MAX_ATTEMPTS", 15),
            batch_size=_int(env, "OUTBOX_BATCH_SIZE", 50),
            keep_finished_seconds=_int(env, "OUTBOX_KEEP_FINISHED_SECONDS", 7 * 24 * 3600),
        )


@dataclass(frozen=True)
class IncidentSettings:
    """Incidents (chalicelib/incidents): table, escalation workflow, pages, ack links, templates."""
    table: str = "serverless-sre-incidents"
    # Pages topic name (provisioning); the escalation state machine receives its ARN as ${PagesTopicArn}.
    pages_topic: str = "serverless-sre-incident-pages"
    # Its ARN, for the direct page sent when an incident cannot be recorded.
    pages_topic_arn: str = ""
    # Tickets (ticket-tier SLO alerts) go to their own topic, never to the pages topic.
    tickets_topic: str = "serverless-sre-incident-tickets"
    tickets_topic_arn: str = ""
    # An SLO incident resolves only once no page tier has fired for this long; firing again
    # within it reopens the same incident.
    hold_down_seconds: int = 600
    escalation_state_machine_arn: str = ""
    # Ack deadline per severity before the next escalation level is paged, in seconds.
    response_seconds: str = "P0=900,P1=3600,P2=14400,P3=86400"
    # JSON list of levels [{"level": 1, "role": "...", "topic_arn": optional}]; empty = the four default roles.
    escalation_levels: str = ""
    escalation_repeat_last_level: bool = True
    escalation_max_repeats: int = 200
    # Sources whose recovery signal (SLO alert resolved, breaker closed) resolves the incident.
    auto_resolve_sources: str = "slo,breaker"
    ack_link_secret: str = "serverless-sre/incident-ack-link-key"
    ack_link_ttl_seconds: int = 86400
    # Folder the API reads the communication/postmortem templates from; empty = the repository's runbooks/.
    runbooks_dir: str = ""

    @classmethod
    def from_env(cls, env: Environ) -> "IncidentSettings":
        return cls(
            table=_text(env, "INCIDENTS_TABLE", "serverless-sre-incidents"),
            pages_topic=_text(env, "INCIDENT_PAGES_TOPIC", "serverless-sre-incident-pages"),
            pages_topic_arn=_stripped(env, "INCIDENT_PAGES_TOPIC_ARN"),
            tickets_topic=_text(env, "INCIDENT_TICKETS_TOPIC", "serverless-sre-incident-tickets"),
            tickets_topic_arn=_stripped(env, "INCIDENT_TICKETS_TOPIC_ARN"),
            hold_down_seconds=_int(env, "INCIDENT_HOLD_DOWN_SECONDS", 600),
            escalation_state_machine_arn=_stripped(env, "ESCALATION_STATE_MACHINE_ARN"),
            response_seconds=_text(env, "INCIDENT_RESPONSE_SECONDS", "P0=900,P1=3600,P2=14400,P3=86400"),
            escalation_levels=_stripped(env, "ESCALATION_LEVELS"),
            escalation_repeat_last_level=_flag(env, "ESCALATION_REPEAT_LAST_LEVEL", True),
            escalation_max_repeats=_int(env, "ESCALATION_MAX_REPEATS", 200),
            auto_resolve_sources=_text(env, "INCIDENT_AUTO_RESOLVE_SOURCES", "slo,breaker"),
            ack_link_secret=_text(env, "INCIDENT_ACK_LINK_SECRET", "serverless-sre/incident-ack-link-key"),
            ack_link_ttl_seconds=_int(env, "INCIDENT_ACK_LINK_TTL_SECONDS", 86400),
            runbooks_dir=_stripped(env, "RUNBOOKS_DIR"),
        )


@dataclass(frozen=True)
class SloSettings:
    """SLO engine (chalicelib/slo): OpenSLO files, DynamoDB tables, evaluator and probe knobs."""
    slo_dir: str = ""  # "" = <repo>/slos
    buckets_table: str = "serverless-sre-slo-buckets"
    status_table: str = "serverless-sre-slo-status"
    alerts_table: str = "serverless-sre-slo-alerts"
    reread_minutes: int = 5
    catchup_hours: int = 24
    history_days: int = 7
    # How much of its period an SLO must have data for before its budget state means anything
    # (until then it is insufficient_history and the budget policy does not act on it).
    min_history: str = "1d"
    stale_after_seconds: int = 300
    # "incidents" (default: alerts open incidents), "log", or "package.module:factory" returning an AlertSink.
    alert_sink: str = "incidents"
    # Deployed only: with an API name the success SLI counts what API Gateway saw.
    api_gateway_name: str = ""
    api_gateway_stage: str = "api"
    probe_url: str = ""
    probe_timeout_seconds: float = 5.0

    @classmethod
    def from_env(cls, env: Environ) -> "SloSettings":
        return cls(
            slo_dir=_stripped(env, "SLO_DIR"),
            buckets_table=_text(env, "SLO_BUCKETS_TABLE", "serverless-sre-slo-buckets"),
            status_table=_text(env, "SLO_STATUS_TABLE", "serverless-sre-slo-status"),
            alerts_table=_text(env, "SLO_ALERTS_TABLE", "serverless-sre-slo-alerts"),
            reread_minutes=_int(env, "SLO_REREAD_MINUTES", 5),
            catchup_hours=_int(env, "SLO_CATCHUP_HOURS", 24),
            history_days=_int(env, "SLO_HISTORY_DAYS", 7),
            min_history=_text(env, "SLO_MIN_HISTORY", "1d"),
            stale_after_seconds=_int(env, "SLO_STALE_AFTER_SECONDS", 300),
            alert_sink=_text(env, "SLO_ALERT_SINK", "incidents").strip(),
            api_gateway_name=_stripped(env, "API_GATEWAY_NAME"),
            api_gateway_stage=_text(env, "API_GATEWAY_STAGE", "api"),
            probe_url=_stripped(env, "PROBE_URL"),
            probe_timeout_seconds=_float(env, "PROBE_TIMEOUT_SECONDS", 5),
        )


@dataclass(frozen=True)
class CapacitySettings:
    """Capacity planning (chalicelib/capacity): what is collected, forecast and recommended."""
    table: str = "serverless-sre-capacity"
    # The API function whose AWS/Lambda figures and configuration are read (deployed name).
    api_function_name: str = "serverless-sre-api"
    # Days of hourly CloudWatch data read per collection, and recent hours kept in the report.
    window_days: int = 28
    hourly_hours: int = 48
    min_history_days: int = 14
    # Share of a limit a forecast peak may reach before a recommendation asks for more.
    target_utilization: float = 0.7
    # Days ahead a forecast peak is planned for (DynamoDB warm throughput, task bounds).
    planning_days: int = 30
    # ECS variant: the service and its load balancer target group (dimensions of AWS/ECS and AWS/ApplicationELB).
    ecs_cluster_name: str = ""
    ecs_service_name: str = ""
    alb_target_group: str = ""
    alb_load_balancer: str = ""

    @classmethod
    def from_env(cls, env: Environ) -> "CapacitySettings":
        return cls(
            table=_text(env, "CAPACITY_TABLE", "serverless-sre-capacity"),
            api_function_name=_text(env, "API_FUNCTION_NAME", "serverless-sre-api"),
            window_days=_int(env, "CAPACITY_WINDOW_DAYS", 28),
            hourly_hours=_int(env, "CAPACITY_HOURLY_HOURS", 48),
            min_history_days=_int(env, "CAPACITY_MIN_HISTORY_DAYS", 14),
            target_utilization=_float(env, "CAPACITY_TARGET_UTILIZATION", 0.7),
            planning_days=_int(env, "CAPACITY_PLANNING_DAYS", 30),
            ecs_cluster_name=_stripped(env, "ECS_CLUSTER_NAME"),
            ecs_service_name=_stripped(env, "ECS_SERVICE_NAME"),
            alb_target_group=_stripped(env, "ALB_TARGET_GROUP"),
            alb_load_balancer=_stripped(env, "ALB_LOAD_BALANCER"),
        )


@dataclass(frozen=True)
class ChaosSettings:
    """Chaos experiments (chalicelib/chaos): fault records, the journal, the workflow, the catalog."""
    faults_table: str = "serverless-sre-chaos-faults"
    journal_table: str = "serverless-sre-chaos-journal"
    # "dynamodb" (fleet-wide) or "memory" (per process: single-process tools and benchmarks).
    fault_store: str = "dynamodb"
    # How long a process answers from its copy of the fault records (one store read per period).
    cache_seconds: float = 5.0
    state_machine_arn: str = ""
    catalog_dir: str = ""  # "" = <repo>/experiments
    # Faults and target locks outlive the planned end (duration + recovery) by this much at most.
    expiry_grace_seconds: int = 120
    max_duration_seconds: int = 3600

    @classmethod
    def from_env(cls, env: Environ) -> "ChaosSettings":
        return cls(
            faults_table=_text(env, "CHAOS_FAULTS_TABLE", "serverless-sre-chaos-faults"),
            journal_table=_text(env, "CHAOS_JOURNAL_TABLE", "serverless-sre-chaos-journal"),
            fault_store=_text(env, "CHAOS_FAULT_STORE", "dynamodb"),
            cache_seconds=_float(env, "CHAOS_FAULT_CACHE_SECONDS", 5),
            state_machine_arn=_stripped(env, "CHAOS_STATE_MACHINE_ARN"),
            catalog_dir=_stripped(env, "CHAOS_CATALOG_DIR"),
            expiry_grace_seconds=_int(env, "CHAOS_EXPIRY_GRACE_SECONDS", 120),
            max_duration_seconds=_int(env, "CHAOS_MAX_DURATION_SECONDS", 3600),
        )


@dataclass(frozen=True)
class LocalSettings:
    """Local stack only (set by devstack): the webhook may go to the local receiver on plain http."""
    webhook_receiver: bool = False

    @classmethod
    def from_env(cls, env: Environ) -> "LocalSettings":
        return cls(webhook_receiver=_flag(env, "LOCAL_WEBHOOK_RECEIVER", False))


@dataclass(frozen=True)
class DashboardSettings:
    """The dashboard (chalicelib/dashboard): how much it shows and how often the page refreshes."""
    history_hours: int = 168
    incident_window_days: int = 30
    recent_incidents: int = 20
    refresh_seconds: int = 30
    recent_tickets: int = 20
    recent_experiments: int = 10
    cache_seconds: int = 60

    @classmethod
    def from_env(cls, env: Environ) -> "DashboardSettings":
        return cls(history_hours=_int(env, "DASHBOARD_HISTORY_HOURS", 168),
                   incident_window_days=_int(env, "DASHBOARD_INCIDENT_WINDOW_DAYS", 30),
                   recent_incidents=_int(env, "DASHBOARD_RECENT_INCIDENTS", 20),
                   refresh_seconds=_int(env, "DASHBOARD_REFRESH_SECONDS", 30),
                   recent_tickets=_int(env, "DASHBOARD_RECENT_TICKETS", 20),
                   recent_experiments=_int(env, "DASHBOARD_RECENT_EXPERIMENTS", 10),
                   cache_seconds=_int(env, "DASHBOARD_CACHE_SECONDS", 60))


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
        return cls(service=ServiceSettings.from_env(env), users=UserSettings.from_env(env),
                   database=DatabaseSettings.from_env(env), breakers=BreakerSettings.from_env(env), webhooks=WebhookSettings.from_env(env),
                   incidents=IncidentSettings.from_env(env), slo=SloSettings.from_env(env),
                   capacity=CapacitySettings.from_env(env), chaos=ChaosSettings.from_env(env),
                   local=LocalSettings.from_env(env), dashboard=DashboardSettings.from_env(env))
