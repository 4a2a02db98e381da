"""The whole service on one machine: moto server, provisioned resources, the app, schedules."""
from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlsplit

from devstack.ports import ensure_free, free_port
from devstack.leftovers import claim, remove_abandoned
from devstack.resources import definitions
from devstack.webhook_receiver import RECEIVER_PATH

log = logging.getLogger("devstack")
CONTROL_HOST = "127.0.0.1"
AWS_START_TIMEOUT_SECONDS = 60
# An embedded AWS that exits by itself is started again (its journal replayed), at most this often: as
# the ECS variant's gunicorn, three times within a minute, then it is left stopped and /status says so.
AWS_WATCH_SECONDS = 1.0
AWS_MAX_RESTARTS, AWS_RESTART_WINDOW_SECONDS = 3, 60.0
# Delivered webhook events stay this long locally (7 days deployed): with TTL applied by the
# embedded AWS, the outbox then holds minutes of traffic instead of all of it.
LOCAL_OUTBOX_KEEP_FINISHED_SECONDS = 600

LOCAL_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "LOCAL_METRICS_SINK": "true",
    # The gateway serves every client at once from one process: with botocore's 10 connections,
    # the 11th concurrent request opened and discarded one per AWS call, warning on the console.
    "AWS_MAX_POOL_CONNECTIONS": "64",
    "PYNAMODB_CONFIG": str(Path(__file__).with_name("pynamodb_settings.py")),
    # The webhook goes to the local receiver (devstack.local_routes), on plain http.
    "LOCAL_WEBHOOK_RECEIVER": "true",
}


@dataclass
class StackConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    aws_port: int = 0  # 0: any free port
    control_port: Optional[int] = None  # None: any free port (the embedded AWS needs it to run functions)
    schedules: bool = True
    # Seconds per scheduled function key, replacing its infra/functions.json rate locally.
    schedule_overrides: dict[str, float] = field(default_factory=dict)
    metrics_interval: float = 1.0
    # "lambda": the app in-process behind Chalice's local gateway, users in DynamoDB;
    # "ecs": the container's command (gunicorn) against a local PostgreSQL (devstack/ecs.py).
    variant: str = "lambda"
    extra_env: dict[str, str] = field(default_factory=dict)


class LocalStack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.aws_port = config.aws_port or free_port(config.host)
        self.aws_endpoint = f"http://{config.host}:{self.aws_port}"
        self.base_url = f"http://{config.host}:{config.port}"
        # Loopback only: it runs functions on request.
        self.control_port = config.control_port or free_port(CONTROL_HOST)
        self.control_url = f"http://{CONTROL_HOST}:{self.control_port}"
        # The webhook receiver (devstack.local_routes): a route of the app the Lambda variant serves; the
        # ECS variant's container serves the service's app alone, so there it is an app on its own port.
        receiver_base = (f"http://{config.host}:{free_port(config.host)}" if config.variant == "ecs"
                         else self.base_url)
        self.webhook_receiver_url = f"{receiver_base}{RECEIVER_PATH}"
        self._receiver_gateway: Any = None
        self.resources: dict[str, dict[str, str]] = {}
        self._moto: Any = None
        self._gateway: Any = None
        self._control: Any = None
        self._scheduler: Any = None
        self._forwarder: Any = None
        self._heap: Any = None
        self._meter: Any = None
        self._meter_middleware: Any = None
        self._session: Any = None
        self._lambda: Any = None
        self._ready = threading.Event()
        self._consumers: list[Any] = []
        self._ecs: Any = None
        # The embedded AWS's state, kept across its restarts (devstack/embedded_aws/journal.py, StateJournal).
        self._state_dir = tempfile.mkdtemp(prefix="devstack-aws-")
        claim(self._state_dir)  # killed before stop(): the next stack removes it
        self.journal_path = os.path.join(self._state_dir, "journal.jsonl")
        self.restarts: dict[str, int] = {"embedded_aws": 0, "app_server": 0}
        # Held while the embedded AWS is stopped or started: the watch never races a restart or the stop.
        self._aws_lock = threading.Lock()
        self._stopping = threading.Event()
        self._aws_restarted_at: list[float] = []
        self._aws_given_up = False

    def client(self, service: str) -> Any:
        return self._session.client(service, endpoint_url=self.aws_endpoint)

    def _check_ports(self) -> None:
        ensure_free(self.config.host, self.config.port, "app server")
        ensure_free(self.config.host, self.aws_port, "embedded AWS")
        ensure_free(CONTROL_HOST, self.control_port, "control API")
        if self.config.variant == "ecs":
            ensure_free(self.config.host, urlsplit(self.webhook_receiver_url).port, "webhook receiver")

    def _start_embedded_aws(self) -> None:
        # Step Functions inside moto call back into the server through MOTO_PORT.
        os.environ["MOTO_PORT"] = str(self.aws_port)
        self._moto = subprocess.Popen(
            [sys.executable, "-m", "devstack.embedded_aws", "--host", self.config.host, "--port", str(self.aws_port),
             "--dispatch-url", self.control_url, "--journal", self.journal_path],
            # Its own session: Ctrl-C reaches the stack only, which stops the parts in order.
            stdout=sys.__stderr__, stderr=sys.__stderr__, start_new_session=True)
        deadline = time.monotonic() + AWS_START_TIMEOUT_SECONDS
        import requests

        while True:
            if self._moto.poll() is not None:
                raise RuntimeError(f"the embedded AWS exited with {self._moto.returncode} while starting")
            try:
                if requests.get(f"{self.aws_endpoint}/moto-api/", timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the embedded AWS did not answer within {AWS_START_TIMEOUT_SECONDS} s")
            time.sleep(0.1)

    def _provision(self, *, restoring: bool = False) -> None:
        """``restoring``: the embedded AWS replayed its journal (tables, items, secrets, metrics are
        back); everything else is created again from the same definitions, under the same names."""
        from devstack.provision import (provision_audience_inboxes, provision_queues, provision_secrets,
                                        provision_tables, provision_topics)

        if not restoring:
            self.resources["tables"] = provision_tables(self.client("dynamodb"))
        self.resources["topics"] = provision_topics(self.client("sns"))
        self.resources["inboxes"] = provision_audience_inboxes(self.client("sns"), self.client("sqs"),
                                                               self.resources["topics"])
        for key, spec in definitions("topics").items():  # Terraform sets these on every function
            if spec.get("arn_setting"):
                os.environ[spec["arn_setting"]] = self.resources["topics"][key]
        if not restoring:
            self.resources["secrets"] = provision_secrets(self.client("secretsmanager"))
        self.resources["queues"] = provision_queues(self.client("sqs"))
        for key, spec in definitions("queues").items():
            if spec.get("url_setting"):
                os.environ[spec["url_setting"]] = self.resources["queues"][key]
        if definitions("statemachines") and importlib.util.find_spec("devstack.statemachines"):
            from devstack.statemachines import provision_statemachines

            self.resources["statemachines"] = provision_statemachines(
                self.aws_endpoint, LOCAL_ENVIRONMENT["AWS_REGION"], self.resources, dispatch_in_process=False)

    def _kill_embedded_aws(self) -> None:
        """SIGKILL to its process group: gunicorn's master and the worker that holds moto's state."""
        try:
            os.killpg(self._moto.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._moto.wait(timeout=10)

    def restart_embedded_aws(self) -> dict[str, Any]:
        """Kill the embedded AWS (SIGKILL, as a crash: nothing is saved on the way out) and start it
        again on its port; it replays its journal before serving, then the rest is provisioned again."""
        with self._aws_lock:
            return self._restart_embedded_aws_locked()

    def check_embedded_aws(self) -> None:
        """Start the embedded AWS again when it exited without being asked (killed, crashed). Before, the
        stack went on answering 500s and 503s with /status ready, and never recovered."""
        with self._aws_lock:
            if self._stopping.is_set() or self._aws_given_up or self._moto is None or self._moto.poll() is None:
                return
            now = time.monotonic()
            self._aws_restarted_at = [at for at in self._aws_restarted_at if now - at < AWS_RESTART_WINDOW_SECONDS]
            if len(self._aws_restarted_at) >= AWS_MAX_RESTARTS:
                self._aws_given_up = True
                self._ready.clear()
                log.error("embedded AWS (pid %s) exited with %s, its %d restart within %.0f s: left stopped; "
                          "Ctrl-C and start the stack again", self._moto.pid, self._moto.returncode,
                          AWS_MAX_RESTARTS + 1, AWS_RESTART_WINDOW_SECONDS)
                return
            self._aws_restarted_at.append(now)
            log.warning("embedded AWS (pid %s) exited by itself with %s; starting it again from its journal",
                        self._moto.pid, self._moto.returncode)
            try:
                self._restart_embedded_aws_locked()
            except Exception:  # noqa: BLE001 - said on the console; the next check tries again
                log.exception("the embedded AWS did not start again")

    def _watch_embedded_aws(self) -> None:
        while not self._stopping.wait(AWS_WATCH_SECONDS):
            self.check_embedded_aws()

    def _restart_embedded_aws_locked(self) -> dict[str, Any]:
        started = time.monotonic()
        old_pid = self._moto.pid
        self._kill_embedded_aws()
        self._start_embedded_aws()
        self._provision(restoring=True)
        self.restarts["embedded_aws"] += 1
        log.warning("embedded AWS restarted (pid %s -> %s) in %.1f s", old_pid, self._moto.pid,
                    time.monotonic() - started)
        return {"embedded_aws": "restarted", "old_pid": old_pid, "pid": self._moto.pid,
                "seconds": round(time.monotonic() - started, 3)}

    def restart_app_server(self) -> dict[str, Any]:
        """Stop the API's server and start it again on its port. Lambda variant: the local gateway,
        and the process's wiring (clients, breakers' local views, caches) built anew, as a cold start;
        ECS variant: gunicorn stopped as ECS stops a task (SIGTERM, in-flight requests finish) and started."""
        started = time.monotonic()
        if self._ecs is not None:
            self._ecs.restart_server()
        else:
            from app import app
            from chalicelib import wiring
            from devstack.gateway import serve_gateway, stop_gateway

            stop_gateway(self._gateway)
            wiring.reset()
            self._gateway = serve_gateway(app, self.config.host, self.config.port, "devstack-gateway")
        self.restarts["app_server"] += 1
        log.warning("app server restarted in %.1f s", time.monotonic() - started)
        return {"app_server": "restarted", "seconds": round(time.monotonic() - started, 3)}

    def invoke(self, function_key: str, event: Any = None) -> Any:
        """Raises ``UnknownFunction`` for a key infra/functions.json does not have, before metering it."""
        from devstack.functions import function_spec, invoke

        function_spec(function_key)
        self._refuse_if_throttled(f"serverless-sre-{function_key}")
        if self._forwarder is not None:
            self._forwarder.flush()
        if self._meter is None:
            return invoke(function_key, event)
        with self._meter.invocation(f"serverless-sre-{function_key}"):
            return invoke(function_key, event)

    def _refuse_if_throttled(self, function_name: str) -> None:
        """As Lambda does with a reserved concurrency of 0 (a chaos ``lambda_throttle`` sets it): no run."""
        from botocore.exceptions import ClientError

        from devstack.functions import FunctionThrottled

        if self._lambda is None:
            self._lambda = self.client("lambda")  # one client: building one costs more than the call
        try:
            reserved = self._lambda.get_function_concurrency(FunctionName=function_name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return  # not deployed to the embedded AWS: nothing can throttle it
            raise
        if reserved.get("ReservedConcurrentExecutions") == 0:
            raise FunctionThrottled(function_name)

    def status(self) -> dict[str, Any]:
        return {"ready": self._ready.is_set(), "variant": self.config.variant, "base_url": self.base_url,
                "webhook_receiver": self.webhook_receiver_url, "aws_endpoint": self.aws_endpoint,
                "pids": {"stack": os.getpid(), "embedded_aws": getattr(self._moto, "pid", None),
                         **({"api_server": self._ecs.server_pid} if self._ecs is not None else {})},
                "resources": {kind: sorted(names) for kind, names in self.resources.items()},
                "schedules": {"runs": getattr(self._scheduler, "runs", {}),
                              "failures": getattr(self._scheduler, "failures", {}),
                              "skipped": getattr(self._scheduler, "skipped", {})},
                "restarts": dict(self.restarts),
                "metrics_sent": getattr(self._forwarder, "sent", 0),
                "metric_datapoints_sent": getattr(self._forwarder, "datapoints", 0)}

    @property
    def operator_token(self) -> str:
        return self.resources.get("secrets", {}).get("operator-token", "")

    def start(self) -> None:
        self._check_ports()
        for leftover in remove_abandoned():
            log.warning("removed what a killed stack or test run left: %s", leftover)
        os.environ.update(LOCAL_ENVIRONMENT)
        os.environ.update(self.config.extra_env)
        os.environ["AWS_ENDPOINT_URL"] = self.aws_endpoint
        os.environ.setdefault("PROBE_URL", f"{self.base_url}/health")
        os.environ.setdefault("WEBHOOK_URL", self.webhook_receiver_url)
        os.environ.setdefault("PUBLIC_BASE_URL", self.base_url)
        os.environ.setdefault("OUTBOX_KEEP_FINISHED_SECONDS", str(LOCAL_OUTBOX_KEEP_FINISHED_SECONDS))
        # Locally anyone may read the SRE plane (README); SRE_READS_REQUIRE_TOKEN=true acts as deployed.
        os.environ.setdefault("SRE_READS_REQUIRE_TOKEN", "false")
        import boto3

        self._session = boto3.session.Session(region_name=LOCAL_ENVIRONMENT["AWS_REGION"])
        self._start_control()
        self._start_embedded_aws()
        self._provision()

        from chalicelib.observability.metrics import add_record_listener
        from devstack.metrics_sink import EmfForwarder

        self._forwarder = EmfForwarder(self.client("cloudwatch"), interval=self.config.metrics_interval)
        add_record_listener(self._forwarder)
        self._forwarder.start()

        if self.config.variant == "ecs":
            from devstack.ecs import EcsVariant

            self._start_receiver()

            self._ecs = EcsVariant(self.config.host, self.config.port, self.client("secretsmanager"),
                                   on_emf=self._forwarder)
            self._ecs.start()
        else:
            from app import app
            from chalicelib import wiring
            from devstack.gateway import serve_gateway
            from devstack.local_routes import register_local_routes

            register_local_routes(app, wiring.current)
            from devstack.lambda_metrics import InvocationMeter

            self._meter = InvocationMeter(self._forwarder)
            self._meter_middleware = self._meter.http_middleware(
                wiring.current().settings.capacity.api_function_name)
            app.register_middleware(self._meter_middleware, "http")
            self._gateway = serve_gateway(app, self.config.host, self.config.port, "devstack-gateway")

        self._start_queue_consumers()
        if self.config.schedules:
            from devstack.scheduler import Scheduler

            schedules = {key: spec["schedule"] for key, spec in definitions("functions").items()
                         if spec.get("schedule")}
            self._scheduler = Scheduler(schedules, self.invoke, period_overrides=self.config.schedule_overrides)
            self._scheduler.start()
        threading.Thread(target=self._watch_embedded_aws, name="devstack-aws-watch", daemon=True).start()
        from chalicelib.heap import HeapFreezer

        self._heap = HeapFreezer().start()
        self._ready.set()

    def _start_receiver(self) -> None:
        from chalicelib import wiring
        from devstack.gateway import serve_gateway
        from devstack.local_routes import receiver_app

        address = urlsplit(self.webhook_receiver_url)
        self._receiver_gateway = serve_gateway(receiver_app(wiring.current), address.hostname, address.port,
                                               "devstack-webhook-receiver")

    def _start_queue_consumers(self) -> None:
        from devstack.queue_consumers import QueueConsumer

        for key, spec in definitions("queues").items():
            if spec.get("consumer"):
                consumer = QueueConsumer(self.client("sqs"), self.resources["queues"][key], spec["consumer"],
                                         self.invoke, batch_size=spec.get("batch_size", 10))
                consumer.start()
                self._consumers.append(consumer)

    def _start_control(self) -> None:
        from chalicelib import wiring
        from devstack.control import control_server
        from devstack.statemachines import call_handler

        def flush_metrics() -> int:
            return self._forwarder.flush() if self._forwarder is not None else 0

        # Faults for the reliability tests: the embedded AWS and the app server restart for real;
        # the ECS variant's PostgreSQL stops and starts, or is paused (every process stopped: slow).
        actions: dict[str, Any] = {"embedded-aws/restart": self.restart_embedded_aws,
                                   "app-server/restart": self.restart_app_server}
        if self.config.variant == "ecs":
            actions.update({"database/stop": lambda: self._ecs.stop_database(),
                            "database/start": lambda: self._ecs.start_database(),
                            "database/pause": lambda: self._ecs.pause_database(),
                            "database/resume": lambda: self._ecs.resume_database()})
        self._control = control_server(CONTROL_HOST, self.control_port, status=self.status, invoke=self.invoke,
                                       flush_metrics=flush_metrics, invoke_lambda=call_handler, actions=actions,
                                       operator_of=lambda headers: wiring.current().operator_auth.require(headers))

    def stop(self) -> list[str]:
        """Stop every part that was started, the app first; returns what was stopped, in order."""
        from devstack.gateway import stop_gateway

        stopped = []
        self._stopping.set()
        if stop_gateway(self._gateway):
            stopped.append(f"app server on {self.base_url}")
        for consumer in self._consumers:
            consumer.stop()
        if self._consumers:
            stopped.append(f"queue consumers ({sum(c.delivered for c in self._consumers)} messages delivered)")
        if self._meter_middleware is not None:  # the app object outlives the stack in one process
            from app import app

            app.middleware_handlers.remove((self._meter_middleware, "http"))
            self._meter_middleware = None
        if self._ecs is not None:
            self._ecs.stop()
            stopped.append(f"gunicorn on {self.base_url} and its PostgreSQL")
        if stop_gateway(self._receiver_gateway):
            stopped.append(f"webhook receiver on {self.webhook_receiver_url}")
        if self._scheduler is not None:
            self._scheduler.stop()
            stopped.append(f"scheduler ({self._scheduler.summary()})")
        if self._heap is not None:
            self._heap.stop()
        if self._forwarder is not None:
            self._forwarder.stop()
            stopped.append(f"metrics forwarder ({self._forwarder.sent} values sent)")
        if self._control is not None:
            self._control.shutdown()
            self._control.server_close()
            stopped.append(f"control API on {self.control_url}")
        if self._moto is not None:
            with self._aws_lock:  # a restart in progress finishes first
                pass
            self._moto.terminate()
            try:
                self._moto.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._kill_embedded_aws()
            stopped.append(f"embedded AWS on {self.aws_endpoint} (pid {self._moto.pid})")
        shutil.rmtree(self._state_dir, ignore_errors=True)
        return stopped
