"""The composition root: the one place where settings become objects.

``current()`` is this process's ``Wiring``, built from the environment on first use;
``reset()`` drops it (tests do, after changing the environment). Every object below is
built once per ``Wiring``, on first use (so importing the app builds nothing), and is
handed its table, client and collaborators; nothing else builds or caches process-wide
instances. ``app.py`` and every ``functions/*`` entry point take what they need from here.

How the capabilities depend on each other is visible here and only here:
SLO alerts -> incidents (``slo_alert_sink``), breaker transitions -> incidents
(``breaker_listeners``, through a queue), users -> the ``database`` breaker and the webhook outbox.
"""
from __future__ import annotations

import threading
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Optional

from chalicelib.settings import Settings

# Heavy modules (pynamodb, boto3, powertools' tracer) are imported inside the properties:
# a Lambda cold start pays only for what its first request touches.


class Wiring:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.relay_loop: Optional[Any] = None  # started by start_background_work

    # -- shared ----------------------------------------------------------------------------------
    @cached_property
    def clients(self) -> Any:
        from chalicelib.aws import Clients

        return Clients(self.settings.service.region, self.settings.service.aws_max_pool_connections)

    def client(self, service: str) -> Any:
        """A client of ``service`` that is built when first used."""
        return self.clients.lazy(service)

    @cached_property
    def logger(self) -> Any:
        from chalicelib.observability.logging import build_logger

        return build_logger(self.settings.service.service_name)

    @cached_property
    def tracer(self) -> Optional[Any]:
        if not self.settings.service.tracing_enabled:
            return None
        from aws_lambda_powertools import Tracer  # aws_xray_sdk costs ~140 ms: only when tracing is on

        return Tracer(service=self.settings.service.service_name)

    @cached_property
    def counters(self) -> Any:
        from chalicelib.observability.metrics import Counters

        return Counters(self.settings.service.metrics_namespace, self.settings.service.service_name)

    @cached_property
    def secrets(self) -> Any:
        from chalicelib.auth import SecretReader

        return SecretReader(self.client("secretsmanager"), ttl_seconds=self.settings.service.secret_cache_seconds)

    @cached_property
    def operator_auth(self) -> Any:
        from chalicelib.auth import OperatorAuth

        return OperatorAuth(self.secrets, self.settings.service.operator_token_secret)

    @cached_property
    def viewer_auth(self) -> Any:
        from chalicelib.auth import OperatorAuth

        service = self.settings.service
        return OperatorAuth(self.secrets, service.viewer_token_secret, service.operator_token_secret, kind="viewer")

    # -- circuit breakers ------------------------------------------------------------------------
    @cached_property
    def breaker_configs(self) -> dict[str, Any]:
        from chalicelib.resilience.config import load_breaker_configs
        from chalicelib.users.repository import CLIENT_CAUSED_ERRORS

        # The users store's own errors (email taken, user missing, bad cursor) say nothing
        # about the database's health: the database breaker does not count them.
        return load_breaker_configs(self.settings.breakers.overrides_json,
                                    exclusions={"database": CLIENT_CAUSED_ERRORS})

    @cached_property
    def breaker_model(self) -> Any:
        from chalicelib.dynamodb import with_client_built
        from chalicelib.resilience.storage import breaker_model

        breakers = self.settings.breakers
        return with_client_built(breaker_model(breakers.table, self.settings.service.region,
                                               breakers.storage_timeout_seconds))

    def breaker_listeners(self, breaker_name: str) -> list[Any]:
        """What a transition of ``breaker_name`` is told to, besides its metric and log line."""
        return [self.breaker_transition_queue]

    @cached_property
    def breaker_transition_queue(self) -> Any:
        """Breaker transitions go to the incident flow through a queue, so no request waits for it;
        one that cannot be queued pages the on-call level directly."""
        from chalicelib.resilience.handoff import TransitionQueue

        return TransitionQueue(self.client("sqs"), self.settings.breakers.transitions_queue_url,
                               on_unsent=lambda transition, reason: self.breaker_incidents.page_unrecorded(
                                   transition, reason),
                               logger=self.logger)

    @cached_property
    def breakers(self) -> Any:
        from chalicelib.resilience.listeners import TransitionAnnouncer
        from chalicelib.resilience.registry import BreakerRegistry, dynamodb_storage_factory, memory_storage_factory

        breakers = self.settings.breakers
        if breakers.storage == "memory":
            storage_factory = memory_storage_factory
        else:
            storage_factory = dynamodb_storage_factory(
                self.breaker_model, cache_seconds=breakers.cache_seconds,
                retry_seconds=breakers.storage_retry_seconds,
                on_fallback=TransitionAnnouncer([], self.counters, self.logger).storage_fallback)
        return BreakerRegistry(
            self.breaker_configs, storage_factory,
            announcer=lambda name: TransitionAnnouncer(self.breaker_listeners(name), self.counters, self.logger))

    @cached_property
    def breaker_operations(self) -> Any:
        from chalicelib.resilience.operations import BreakerOperations

        return BreakerOperations(self.breakers)

    @cached_property
    def database_guard(self) -> Any:
        from chalicelib.resilience.fallback import DatabaseGuard, LastKnownGood
        from chalicelib.users.service import LIST_KEY_PREFIX

        breakers = self.settings.breakers
        return DatabaseGuard(self.breakers.get("database"), LastKnownGood(breakers.stale_cache_entries),
                             max_stale_seconds=breakers.stale_max_age_seconds, ledger=self.write_ledger,
                             cache_prefixes=[LIST_KEY_PREFIX], write_within_seconds=self.users_write_within_seconds)

    @property
    def users_write_within_seconds(self) -> float:
        """How long one users-store write call may take before it gives up: its client timeouts."""
        if self.settings.users.store == "postgres":
            from chalicelib.users.postgres_connection import answer_timeout

            return self.settings.database.pool_timeout_seconds + answer_timeout(self.settings.database)
        from chalicelib.dynamodb import FAST

        return float(FAST["connect_timeout_seconds"] + FAST["read_timeout_seconds"])

    @cached_property
    def write_ledger(self) -> Any:
        """When, fleet-wide, a write may have changed a cached user or page (breakers table items)."""
        from chalicelib.resilience.write_ledger import DynamoDBWriteLedger, MemoryWriteLedger

        breakers = self.settings.breakers
        if breakers.storage == "memory":
            return MemoryWriteLedger()
        # Kept past the oldest value a fallback serves plus the announcement margin (write, settle, skew).
        keep_seconds = breakers.stale_max_age_seconds + self.users_write_within_seconds + 120
        return DynamoDBWriteLedger(breakers.table, keep_seconds=keep_seconds,
                                   boto3_client=self.breaker_storage_client)

    @cached_property
    def breaker_storage_client(self) -> Any:
        """A DynamoDB client with the breaker storage's short timeouts: a slow SRE table must not
        hold every user request."""
        from chalicelib.aws import LazyClient

        def build() -> Any:
            import boto3  # on the first ledger call, not when the guard is wired
            from botocore.config import Config

            timeout = self.settings.breakers.storage_timeout_seconds
            return boto3.session.Session().client("dynamodb", region_name=self.settings.service.region, config=Config(
                connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 2, "mode": "standard"},
                max_pool_connections=self.settings.service.aws_max_pool_connections))

        return LazyClient(build)

    # -- users -----------------------------------------------------------------------------------
    @cached_property
    def user_models(self) -> Any:
        from chalicelib.users.dynamodb import table_models

        return table_models(self.settings.users.table, self.settings.service.region)

    @cached_property
    def user_repository(self) -> Any:
        """The users store USERS_STORE names: DynamoDB, or PostgreSQL through a pool (ECS/RDS variant)."""
        store = self.settings.users.store
        if store == "dynamodb":
            from chalicelib.dynamodb import parse_attribute_values_directly
            from chalicelib.users.dynamodb import DynamoDBUserRepository

            models = self.user_models
            connections = [models.user._get_connection().connection, models.claim._get_connection().connection,
                           models.connection]
            for connection in connections:  # every user request parses items: a page of 100 is 101
                parse_attribute_values_directly(connection)
            # Chaos DynamoDB faults act below the ``database`` breaker, on the store's own botocore clients.
            self.attach_chaos_dynamodb_faults([connection.client for connection in connections])
            return DynamoDBUserRepository(models, created_events=self.user_created_staging)
        if store == "postgres":
            from chalicelib.users.postgres import PostgresUserRepository
            from chalicelib.users.postgres_connection import PoolRecheck, answer_timeout, create_pool
            from chalicelib.webhooks.events import new_user_event

            from chalicelib.observability.logging import adopt_library_logs

            # The pool's own warnings (a connection discarded, a failed reconnection) in the service's log.
            adopt_library_logs(self.logger, "psycopg")
            pool = create_pool(self.settings.database, self.database_credentials)
            # The same chaos users-store faults, met by each statement below the ``database`` breaker.
            return PostgresUserRepository(pool.connection, close=pool.close,
                                          answer_timeout=answer_timeout(self.settings.database),
                                          faults=self.chaos_store_faults, on_connection_lost=PoolRecheck(pool),
                                          created_event=new_user_event if self.postgres_keeps_user_events else None)
        raise ValueError(f"USERS_STORE={store!r}: expected one of dynamodb, postgres")

    @cached_property
    def database_credentials(self) -> Any:
        from chalicelib.users.postgres_connection import DatabaseCredentials

        return DatabaseCredentials(self.settings.database, self.secrets, self.settings.service.service_name)

    def database_connection(self) -> Any:
        """One new PostgreSQL connection (the migration command's)."""
        from chalicelib.users.postgres_connection import connect

        return connect(self.database_credentials)

    def start_background_work(self) -> None:
        """What a long-running server process (the container's worker) runs beside its requests: the
        relay of the webhook events the PostgreSQL store kept with their users. Nothing is built or
        connected here: a worker boots even while the database or a secret is unreachable."""
        from chalicelib.webhooks.relay import RelayLoop

        if self.postgres_keeps_user_events and self.relay_loop is None:
            self.relay_loop = RelayLoop(lambda: self.stored_event_relay, self.logger)
            self.relay_loop.start()

    def close(self) -> None:
        """Release what holds connections (a server process stopping): the relay, the PostgreSQL pool."""
        if self.relay_loop is not None:
            self.relay_loop.stop()
        repository = self.__dict__.get("user_repository")
        if repository is not None and hasattr(repository, "close"):
            repository.close()

    @cached_property
    def user_service(self) -> Any:
        from chalicelib.users.events import CountedUserEvents
        from chalicelib.users.service import UserService
        from chalicelib.webhooks.delivery import WebhookUserEvents

        # Reads/writes through the fleet-wide "database" breaker; a registration is counted
        # (users_registered, for the dashboard), then user.created goes to the webhook outbox.
        return UserService(self.user_repository, guard=self.database_guard,
                           events=CountedUserEvents(self.counters,
                                                    WebhookUserEvents(self.webhook_delivery, self.logger)))

    # -- webhooks --------------------------------------------------------------------------------
    @cached_property
    def outbox(self) -> Any:
        from chalicelib.dynamodb import with_client_built
        from chalicelib.webhooks.outbox import Backoff, Outbox, outbox_model

        webhooks = self.settings.webhooks
        return Outbox(with_client_built(outbox_model(webhooks.outbox_table, self.settings.service.region)),
                      Backoff(webhooks.backoff_base_seconds, webhooks.backoff_max_seconds),
                      max_attempts=webhooks.max_attempts, keep_finished_seconds=webhooks.keep_finished_seconds)

    @cached_property
    def webhook_sender(self) -> Any:
        from chalicelib.observability.request_context import record_chaos_experiment
        from chalicelib.webhooks.sender import WebhookSender

        webhooks = self.settings.webhooks
        return WebhookSender(webhooks.url, lambda: self.secrets.read_field(webhooks.signing_secret, "key"),
                             webhooks.timeout_seconds, allow_plain_http=self.settings.local.webhook_receiver,
                             faults=self.chaos_faults,
                             on_inject=lambda fault: record_chaos_experiment(fault.experiment_id))

    @cached_property
    def user_created_staging(self) -> Any:
        """With webhooks on and users in DynamoDB, the user.created outbox entry joins the user's own
        transaction (a user never exists without its event); None otherwise (written after the user)."""
        from chalicelib.webhooks.delivery import UserCreatedStaging

        if self.settings.users.store != "dynamodb" or not self.settings.webhooks.url:
            return None
        return UserCreatedStaging(self.outbox)

    @property
    def postgres_keeps_user_events(self) -> bool:
        """With webhooks on and users in PostgreSQL, a new user's user.created event is stored by the
        user's own statement, until the request has delivered it or put it in the outbox (or else the
        relay has)."""
        return self.settings.users.store == "postgres" and bool(self.settings.webhooks.url)

    def _forget_kept_event(self, event_id: str) -> None:
        self.user_repository.forget_event(event_id)

    @cached_property
    def stored_event_relay(self) -> Any:
        from chalicelib.webhooks.relay import StoredEventRelay

        return StoredEventRelay(self.user_repository, self.outbox, self.logger)

    @cached_property
    def webhook_delivery(self) -> Any:
        from chalicelib.webhooks.delivery import WebhookDelivery

        return WebhookDelivery(self.outbox, self.webhook_sender, self.breakers.get("webhook"), self.counters,
                               self.logger, batch_size=self.settings.webhooks.batch_size,
                               staged_by_store=self.user_created_staging is not None,
                               forget_kept=self._forget_kept_event if self.postgres_keeps_user_events else None)

    # -- chaos -----------------------------------------------------------------------------------
    @cached_property
    def chaos_fault_store(self) -> Any:
        from chalicelib.chaos.store import DynamoDBFaultStore, MemoryFaultStore, fault_model

        if self.settings.chaos.fault_store == "memory":
            return MemoryFaultStore()
        return DynamoDBFaultStore(fault_model(self.settings.chaos.faults_table, self.settings.service.region))

    @cached_property
    def chaos_faults(self) -> Any:
        """This process's cache of the active fault records (the request path asks it)."""
        from chalicelib.chaos.active import ActiveFaults

        return ActiveFaults(self.chaos_fault_store, self.settings.chaos.cache_seconds, logger=self.logger)

    @cached_property
    def chaos_journal(self) -> Any:
        from chalicelib.chaos.journal import DynamoDBJournal, journal_models

        return DynamoDBJournal(journal_models(self.settings.chaos.journal_table, self.settings.service.region))

    @cached_property
    def chaos_actions(self) -> Any:
        from chalicelib.chaos.actions import InfrastructureActions, state_machine_functions

        return InfrastructureActions(self.client("lambda"), self.client("ecs"), workflow_functions=lambda: (
            state_machine_functions(self.client("stepfunctions"), self.settings.chaos.state_machine_arn)),
            sweeper_function=self.settings.chaos.sweeper_function_name)

    def new_chaos_steps(self, *, clock: Optional[Callable[[], float]] = None) -> Any:
        """The experiment workflow's steps (tests hand them a clock the fast-forwarded waits advance)."""
        import time

        from chalicelib.chaos.definition import REPOSITORY_CATALOG
        from chalicelib.chaos.steps import ExperimentSteps

        chaos, service = self.settings.chaos, self.settings.service
        return ExperimentSteps(
            faults=self.chaos_fault_store, active_faults=self.chaos_faults, journal=self.chaos_journal,
            slo_status=self.slo_status, breakers=self.breakers, incidents=self.incident_store,
            cloudwatch=self.client("cloudwatch"), actions=self.chaos_actions,
            namespace=service.metrics_namespace, service=service.service_name,
            catalog_dir=Path(chaos.catalog_dir) if chaos.catalog_dir else REPOSITORY_CATALOG,
            max_duration_seconds=chaos.max_duration_seconds, expiry_grace_seconds=chaos.expiry_grace_seconds,
            load_base_url=service.public_base_url, logger=self.logger, clock=clock or time.time)

    @cached_property
    def chaos_steps(self) -> Any:
        return self.new_chaos_steps()

    @cached_property
    def chaos_service(self) -> Any:
        from chalicelib.chaos.service import ChaosService

        return ChaosService(self.chaos_steps, self.chaos_journal, self.chaos_fault_store, self.chaos_faults,
                            self.chaos_actions, self.client("stepfunctions"), self.settings.chaos.state_machine_arn)

    @cached_property
    def experiment_lookup(self) -> Any:
        """Which experiment is running on an incident's target (pages and incidents say so)."""
        from chalicelib.chaos.service import JournalExperimentLookup

        return JournalExperimentLookup(self.chaos_journal, lambda: [slo.name for slo in self.slos],
                                       logger=self.logger, api_function=self.settings.capacity.api_function_name)

    @cached_property
    def chaos_store_faults(self) -> Any:
        """The users-store faults of chaos experiments (``database`` target), for either store."""
        from chalicelib.chaos.active import DynamoDBFaultSwitch
        from chalicelib.observability.request_context import record_chaos_experiment
        from chalicelib.resilience.faults import FaultInjector

        return FaultInjector(DynamoDBFaultSwitch(self.chaos_faults),
                             on_inject=lambda fault: record_chaos_experiment(fault.experiment_id))

    def attach_chaos_dynamodb_faults(self, clients: list[Any]) -> None:
        for client in {id(client): client for client in clients}.values():
            self.chaos_store_faults.attach(client)

    # -- incidents -------------------------------------------------------------------------------
    @cached_property
    def incident_store(self) -> Any:
        from chalicelib.incidents.store import DynamoDBIncidentStore, table_models

        return DynamoDBIncidentStore(table_models(self.settings.incidents.table, self.settings.service.region))

    def escalation_policy(self) -> Any:
        """Read on each use: a misconfigured policy fails the one workflow or request that needs it."""
        from chalicelib.incidents.policy import EscalationPolicy

        return EscalationPolicy.from_settings(self.settings.incidents)

    @cached_property
    def escalations(self) -> Any:
        from chalicelib.incidents.service import StepFunctionsEscalations

        return StepFunctionsEscalations(self.settings.incidents.escalation_state_machine_arn,
                                        self.client("stepfunctions"))

    @cached_property
    def incident_service(self) -> Any:
        from chalicelib.incidents.service import IncidentService

        return IncidentService(self.incident_store, self.escalations, self.escalation_policy(),
                               experiments=self.experiment_lookup)

    @cached_property
    def ack_link_signer(self) -> Any:
        from chalicelib.incidents.ack_links import AckLinkSigner

        incidents = self.settings.incidents
        return AckLinkSigner(lambda: self.secrets.read_field(incidents.ack_link_secret, "key").encode("utf-8"),
                             ttl_seconds=incidents.ack_link_ttl_seconds,
                             base_url=self.settings.service.public_base_url)

    @cached_property
    def escalation_steps(self) -> Any:
        from chalicelib.incidents.escalation import EscalationSteps

        return EscalationSteps(self.incident_store, load_policy=self.escalation_policy, sns=self.client("sns"),
                               sfn=self.client("stepfunctions"), signer=self.ack_link_signer,
                               runbooks_base_url=self.settings.service.runbooks_base_url,
                               api_base_url=self.settings.service.public_base_url,
                               experiments=self.experiment_lookup)

    @cached_property
    def unrecorded_pager(self) -> Any:
        from chalicelib.incidents.unrecorded import UnrecordedIncidentPager

        return UnrecordedIncidentPager(self.client("sns"), self.settings.incidents.pages_topic_arn,
                                       self.settings.service.runbooks_base_url)

    @cached_property
    def ticket_store(self) -> Any:
        from chalicelib.incidents.tickets import DynamoDBTicketStore, ticket_model

        return DynamoDBTicketStore(ticket_model(self.settings.incidents.table, self.settings.service.region))

    @cached_property
    def ticket_service(self) -> Any:
        from chalicelib.incidents.tickets import SnsTicketPublisher, TicketService

        incidents, service = self.settings.incidents, self.settings.service
        return TicketService(self.ticket_store,
                             SnsTicketPublisher(self.client("sns"), incidents.tickets_topic_arn,
                                                service.runbooks_base_url, service.public_base_url))

    @cached_property
    def breaker_incidents(self) -> Any:
        """What the breaker-transitions queue's consumer (functions/breaker_incidents.py) records with."""
        from chalicelib.incidents.adapters import BreakerIncidents

        return BreakerIncidents(self.incident_service, self.unrecorded_pager)

    @cached_property
    def incident_reports(self) -> Any:
        from chalicelib.incidents.reports import REPOSITORY_RUNBOOKS, IncidentReports, SloHistoryImpact

        configured = self.settings.incidents.runbooks_dir
        return IncidentReports(Path(configured) if configured else REPOSITORY_RUNBOOKS,
                               self.settings.service.runbooks_base_url,
                               SloHistoryImpact(self.slo_status_store, [slo.name for slo in self.slos]))

    # -- SLOs ------------------------------------------------------------------------------------
    @cached_property
    def slos(self) -> tuple[Any, ...]:
        from chalicelib.slo.config import load_slos

        return load_slos(settings=self.settings)

    def _slo_model(self, factory_name: str, table: str) -> Any:
        from chalicelib.slo import store

        return getattr(store, factory_name)(table, self.settings.service.region)

    @cached_property
    def slo_bucket_store(self) -> Any:
        from chalicelib.slo.store import BucketStore

        return BucketStore(self._slo_model("bucket_model", self.settings.slo.buckets_table))

    @cached_property
    def slo_status_store(self) -> Any:
        from chalicelib.slo.store import StatusStore

        return StatusStore(self._slo_model("status_model", self.settings.slo.status_table))

    @cached_property
    def slo_alert_store(self) -> Any:
        from chalicelib.slo.store import AlertStore

        return AlertStore(self._slo_model("alert_model", self.settings.slo.alerts_table))

    @cached_property
    def slo_alert_sink(self) -> Any:
        from chalicelib.slo.paging import LoggingAlertSink, load_alert_sink_plugin

        choice = self.settings.slo.alert_sink
        if choice == "incidents":
            from chalicelib.incidents.adapters import SloAlertIncidentSink

            return SloAlertIncidentSink(self.incident_service, self.ticket_service,
                                        timedelta(seconds=self.settings.incidents.hold_down_seconds))
        if choice == "log":
            return LoggingAlertSink(self.logger)
        return load_alert_sink_plugin(choice)

    def slo_evaluator(self, *, sink: Any = None, clock: Optional[Callable[[], Any]] = None) -> Any:
        """A fresh evaluator over the shared stores (its CloudWatch call count is per run)."""
        from chalicelib.slo.alert_lifecycle import AlertLifecycle
        from chalicelib.slo.cloudwatch import MetricReader
        from chalicelib.slo.evaluation import Evaluator, service_counter_names
        from chalicelib.slo.sources import service_counter
        from chalicelib.slo.timeutil import utc_now

        thresholds = self.settings.service.latency_thresholds_ms
        lifecycle = AlertLifecycle(self.slo_alert_store, sink if sink is not None else self.slo_alert_sink,
                                   self.logger, self.settings.service.runbooks_base_url)
        return Evaluator(self.slos, reader=MetricReader(self.client("cloudwatch")), buckets=self.slo_bucket_store,
                         status=self.slo_status_store, alerts=lifecycle,
                         service_counters=[service_counter(self.settings, name)
                                           for name in service_counter_names(thresholds)],
                         settings=self.settings.slo, latency_thresholds_ms=thresholds, logger=self.logger,
                         clock=clock or utc_now)

    @cached_property
    def slo_status(self) -> Any:
        from chalicelib.slo.status import SloStatusReader

        return SloStatusReader(self.slos, status=self.slo_status_store, alerts=self.slo_alert_store,
                               buckets=self.slo_bucket_store,
                               stale_after_seconds=self.settings.slo.stale_after_seconds,
                               history_days=self.settings.slo.history_days)

    @cached_property
    def health_probe(self) -> Any:
        from chalicelib.slo.probe import HealthProbe

        service = self.settings.service
        return HealthProbe(self.settings.slo.probe_url, cloudwatch=self.client("cloudwatch"),
                           namespace=service.metrics_namespace, service=service.service_name,
                           timeout_seconds=self.settings.slo.probe_timeout_seconds)

    # -- capacity --------------------------------------------------------------------------------
    @cached_property
    def capacity_store(self) -> Any:
        from chalicelib.capacity.store import DynamoDBCapacityStore, capacity_model

        return DynamoDBCapacityStore(capacity_model(self.settings.capacity.table, self.settings.service.region))

    def capacity_collector(self, *, clock: Optional[Callable[[], Any]] = None) -> Any:
        from chalicelib.capacity.collector import CapacityCollector, table_names
        from chalicelib.slo.timeutil import utc_now

        service = self.settings.service
        return CapacityCollector(
            self.settings.capacity, namespace=service.metrics_namespace, service=service.service_name,
            tables=table_names(self.settings), local=service.local_metrics_sink,
            cloudwatch=self.client("cloudwatch"), lambda_client=self.client("lambda"),
            dynamodb=self.client("dynamodb"), ecs=self.client("ecs"),
            autoscaling=self.client("application-autoscaling"), store=self.capacity_store,
            clock=clock or utc_now, latency_threshold_ms=min(service.latency_thresholds_ms, default=None))

    @cached_property
    def capacity_planner(self) -> Any:
        from chalicelib.capacity.plan import CapacityPlanner

        return CapacityPlanner(self.settings.capacity, self.capacity_store,
                               latency_objective=self.latency_objective)

    @cached_property
    def latency_objective(self) -> Optional[float]:
        """The target of the SLO counting requests under a latency threshold, if one is configured."""
        for slo in self.slos:
            good = slo.indicator.good
            if good is not None and any(ref.name.startswith("latency_good_") for ref in good.metrics()):
                return slo.target
        return None

    # -- dashboard -------------------------------------------------------------------------------
    @cached_property
    def business_figures(self) -> Any:
        from chalicelib.dashboard.business import CloudWatchBusinessFigures

        service = self.settings.service
        return CloudWatchBusinessFigures(self.client("cloudwatch"), namespace=service.metrics_namespace,
                                         service=service.service_name)

    @cached_property
    def dashboard(self) -> Any:
        from chalicelib.dashboard.sections import CapacitySection, ExperimentsSection, TicketsSection
        from chalicelib.dashboard.service import DashboardPorts, DashboardService, latency_slo_threshold

        arn = self.settings.incidents.escalation_state_machine_arn
        dashboard = self.settings.dashboard
        ports = DashboardPorts(
            slo_status=self.slo_status, incidents=self.incident_service, breakers=self.breaker_operations,
            business=self.business_figures, ping_users_table=self.user_repository.ping,
            describe_escalation_workflow=(lambda: self.client("stepfunctions").describe_state_machine(
                stateMachineArn=arn)) if arn else None,
            latency_thresholds_ms=self.settings.service.latency_thresholds_ms,
            latency_slo_threshold_ms=latency_slo_threshold(self.slos),
            tickets=TicketsSection(self.ticket_service, window_days=dashboard.incident_window_days,
                                   limit=dashboard.recent_tickets),
            experiments=ExperimentsSection(self.chaos_journal, limit=dashboard.recent_experiments),
            capacity=CapacitySection(self.capacity_planner))
        return DashboardService(ports, history_hours=dashboard.history_hours,
                                incident_window_days=dashboard.incident_window_days,
                                refresh_seconds=dashboard.refresh_seconds,
                                recent_incidents=dashboard.recent_incidents, cache_seconds=dashboard.cache_seconds,
                                logger=self.logger)


_current: Optional[Wiring] = None
_lock = threading.Lock()


def current() -> Wiring:
    """This process's wiring (built from the environment on first use)."""
    global _current
    wiring = _current
    if wiring is None:
        with _lock:
            if _current is None:
                _current = Wiring(Settings.from_env())
            wiring = _current
    return wiring


def install(wiring: Optional[Wiring]) -> Optional[Wiring]:
    """Make ``wiring`` this process's (tests, tools); ``None`` rebuilds it on next use. Returns the previous one."""
    global _current
    with _lock:
        previous, _current = _current, wiring
    return previous


def reset() -> None:
    """Forget every process-wide instance; the next ``current()`` re-reads the environment."""
    install(None)
