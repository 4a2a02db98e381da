import threading
import time

import boto3
import pytest

from chalicelib.chaos.model import FaultRecord


@pytest.fixture
def tables(aws_mock):
    from devstack.provision import provision_tables

    return provision_tables(boto3.client("dynamodb", region_name="us-east-1"))


CLUSTER = SERVICE = "serverless-sre-prod"  # the ECS stack's service (experiments/ecs-task-termination.json)


@pytest.fixture
def ecs(aws_mock):
    """The ECS stack's service running 4 tasks."""
    client = boto3.client("ecs", region_name="us-east-1")
    client.create_cluster(clusterName=CLUSTER)
    client.register_task_definition(family="api", containerDefinitions=[
        {"name": "app", "image": "user-service:1", "memory": 512}])
    client.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition="api", desiredCount=4,
                          launchType="FARGATE")
    client.run_task(cluster=CLUSTER, taskDefinition="api", count=4, launchType="FARGATE",
                    startedBy=f"ecs-svc/{SERVICE}", networkConfiguration={
                        "awsvpcConfiguration": {"subnets": ["subnet-1"]}})
    return client


def running_tasks(ecs):
    return ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE, desiredStatus="RUNNING")["taskArns"]


def desired_count(ecs):
    return ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]["desiredCount"]


def ecs_experiment(wired, action):
    """The workflow's state after validation of the ECS experiment doing only ``action`` (journaled, as running)."""
    from chalicelib.chaos.definition import catalog_entry

    definition = catalog_entry("ecs-task-termination")
    record = wired.chaos_steps.new_record("inline", {**definition, "method": [{"name": "the action", **action}]},
                                          "alice")
    wired.chaos_journal.create(record, time.time())
    return {"experiment_id": record.id, "plan": {"recovery_seconds": definition["recovery_seconds"]}}


def fault(kind="route_error", target="*", magnitude=503, experiment_id="exp-0001", blast=100.0,
          expires_in=300.0, number=0, operations=()):
    return FaultRecord(fault_id=f"{experiment_id}#{number}", experiment_id=experiment_id, kind=kind, target=target,
                       magnitude=magnitude, blast_radius_pct=blast, expires_at=time.time() + expires_in,
                       operations=tuple(operations))


# -- the experiment workflow on a moto server --------------------------------------------------------

class ManualClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def moto_stack():
    """A moto server provisioned like the local stack (tables, functions, both workflows)."""
    import logging
    import os
    from types import SimpleNamespace

    from moto.server import ThreadedMotoServer

    from devstack.provision import provision_secrets, provision_tables, provision_topics
    from devstack.statemachines import provision_statemachines, uninstall_handler_dispatch

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    names = ("AWS_ENDPOINT_URL", "MOTO_PORT", "ESCALATION_STATE_MACHINE_ARN", "CHAOS_STATE_MACHINE_ARN")
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update({"AWS_ENDPOINT_URL": endpoint, "MOTO_PORT": str(port)})
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        session = boto3.session.Session(region_name="us-east-1")
        clients = {name: session.client(name, endpoint_url=endpoint)
                   for name in ("dynamodb", "sns", "secretsmanager", "stepfunctions", "lambda")}
        resources = {"tables": provision_tables(clients["dynamodb"]), "topics": provision_topics(clients["sns"]),
                     "secrets": provision_secrets(clients["secretsmanager"])}
        machines = provision_statemachines(endpoint, "us-east-1", resources)
        yield SimpleNamespace(endpoint=endpoint, clients=clients, machines=machines)
    finally:
        uninstall_handler_dispatch()
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class Waits:
    """Stands in for the clock of the workflow's Wait states: each wait advances the steps' clock
    by its seconds at once; ``on_wait(n)`` runs during the n-th wait, ``hold_at`` blocks there."""

    def __init__(self, clock: ManualClock, faults) -> None:
        self.clock = clock
        self.faults = faults
        self.count = 0
        self.faults_seen = []
        self.on_wait = None
        self.hold_at = None
        self.reached = threading.Event()
        self.release = threading.Event()

    def wait(self, function, env, wait_seconds) -> None:
        self.count += 1
        self.clock.now += wait_seconds
        live = self.faults.active(time.time())
        if live:
            self.faults_seen.append(live)
        if self.on_wait is not None:
            self.on_wait(self.count)
        if self.hold_at == self.count:
            self.reached.set()
            self.release.wait(10)


@pytest.fixture
def chaos(moto_stack):
    from types import SimpleNamespace

    from chalicelib import wiring

    wired = wiring.current()
    clock = ManualClock()
    wired.__dict__["chaos_steps"] = wired.new_chaos_steps(clock=clock)

    def set_slo(body):
        wired.slo_status_store.model(body["slo"], "latest", data=body).save()

    yield SimpleNamespace(stack=moto_stack, wired=wired, clock=clock, journal=wired.chaos_journal,
                          faults=wired.chaos_fault_store, service=wired.chaos_service, steps=wired.chaos_steps,
                          set_slo=set_slo)
    for record in wired.chaos_journal.listing(100):
        if record.status == "running":
            wired.chaos_journal.release(record)
            wired.chaos_fault_store.remove_experiment(record.id)


@pytest.fixture
def waits(chaos, monkeypatch):
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

    waits = Waits(chaos.clock, chaos.faults)
    monkeypatch.setattr(WaitFunction, "_wait_interval",
                        lambda function, env, wait_seconds: waits.wait(function, env, wait_seconds))
    yield waits
    waits.release.set()
