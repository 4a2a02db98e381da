"""The whole service on one machine: moto server, provisioned resources, the app, schedules."""
from __future__ import annotations

import importlib.util
import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Optional

from devstack.ports import ensure_free, free_port
from devstack.resources import definitions

log = logging.getLogger("devstack")

LOCAL_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "LOCAL_METRICS_SINK": "true",
    # Local-only routes: the webhook receiver and the DynamoDB fault switch below the breaker.
    "LOCAL_WEBHOOK_RECEIVER": "true",
    "LOCAL_FAULT_CONTROL": "true",
}


@dataclass
class StackConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    aws_port: int = 0  # 0: any free port
    control_port: Optional[int] = None
    schedules: bool = True
    metrics_interval: float = 1.0
    extra_env: dict[str, str] = field(default_factory=dict)


class LocalStack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.aws_port = config.aws_port or free_port(config.host)
        self.aws_endpoint = f"http://{config.host}:{self.aws_port}"
        self.base_url = f"http://{config.host}:{config.port}"
        self.resources: dict[str, dict[str, str]] = {}
        self._moto: Any = None
        self._gateway: Any = None
        self._control: Any = None
        self._scheduler: Any = None
        self._forwarder: Any = None
        self._session: Any = None

    def client(self, service: str) -> Any:
        return self._session.client(service, endpoint_url=self.aws_endpoint)

    def _check_ports(self) -> None:
        ensure_free(self.config.host, self.config.port, "app server")
        ensure_free(self.config.host, self.aws_port, "embedded AWS")
        if self.config.control_port:
            ensure_free(self.config.host, self.config.control_port, "control API")

    def _start_embedded_aws(self) -> None:
        from moto.server import ThreadedMotoServer

        # Step Functions inside moto call back into the server through MOTO_PORT.
        os.environ["MOTO_PORT"] = str(self.aws_port)
        self._moto = ThreadedMotoServer(ip_address=self.config.host, port=self.aws_port, verbose=False)
        self._moto.start()

    def _provision(self) -> None:
        from devstack.provision import provision_secrets, provision_tables, provision_topics

        self.resources["tables"] = provision_tables(self.client("dynamodb"))
        self.resources["topics"] = provision_topics(self.client("sns"))
        for key, spec in definitions("topics").items():  # Terraform sets these on every function
            if spec.get("arn_setting"):
                os.environ[spec["arn_setting"]] = self.resources["topics"][key]
        self.resources["secrets"] = provision_secrets(self.client("secretsmanager"))
        if definitions("statemachines") and importlib.util.find_spec("devstack.statemachines"):
            from devstack.statemachines import provision_statemachines

            self.resources["statemachines"] = provision_statemachines(
                self.aws_endpoint, LOCAL_ENVIRONMENT["AWS_REGION"], self.resources)

    def invoke(self, function_key: str, event: Any = None) -> Any:
        from devstack.functions import invoke

        if self._forwarder is not None:
            self._forwarder.flush()
        return invoke(function_key, event)

    def status(self) -> dict[str, Any]:
        return {"ready": True, "base_url": self.base_url, "aws_endpoint": self.aws_endpoint,
                "resources": {kind: sorted(names) for kind, names in self.resources.items()},
                "schedules": {"runs": getattr(self._scheduler, "runs", {}),
                              "failures": getattr(self._scheduler, "failures", {})},
                "metrics_sent": getattr(self._forwarder, "sent", 0)}

    def start(self) -> None:
        self._check_ports()
        os.environ.update(LOCAL_ENVIRONMENT)
        os.environ.update(self.config.extra_env)
        os.environ["AWS_ENDPOINT_URL"] = self.aws_endpoint
        os.environ.setdefault("PROBE_URL", f"{self.base_url}/health")
        os.environ.setdefault("WEBHOOK_URL", f"{self.base_url}/_local/webhook-receiver")
        os.environ.setdefault("PUBLIC_BASE_URL", self.base_url)
        import boto3

        self._session = boto3.session.Session(region_name=LOCAL_ENVIRONMENT["AWS_REGION"])
        self._start_embedded_aws()
        self._provision()

        from chalicelib.observability.metrics import add_record_listener
        from devstack.metrics_sink import EmfForwarder

        self._forwarder = EmfForwarder(self.client("cloudwatch"), interval=self.config.metrics_interval)
        add_record_listener(self._forwarder)
        self._forwarder.start()

        from app import app
        from devstack.gateway import create_gateway

        self._gateway = create_gateway(app, self.config.host, self.config.port)
        threading.Thread(target=self._gateway.server.serve_forever, name="devstack-gateway", daemon=True).start()

        if self.config.schedules:
            from devstack.scheduler import Scheduler

            schedules = {key: spec["schedule"] for key, spec in definitions("functions").items()
                         if spec.get("schedule")}
            self._scheduler = Scheduler(schedules, self.invoke)
            self._scheduler.start()
        if self.config.control_port:
            from devstack.control import control_server

            self._control = control_server(self.config.host, self.config.control_port, status=self.status,
                                           invoke=self.invoke, flush_metrics=self._forwarder.flush)

    def stop(self) -> None:
        for part in (self._scheduler, self._forwarder):
            if part is not None:
                part.stop()
        for server in (self._control, getattr(self._gateway, "server", None)):
            if server is not None:
                server.shutdown()
                server.server_close()
        if self._moto is not None:
            self._moto.stop()
