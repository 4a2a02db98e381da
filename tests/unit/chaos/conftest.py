import threading
import time

import boto3
import pytest

from chalicelib.chaos.model import FaultRecord


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


@pytest.fixture(scope="module")
def moto_stack():
    """A moto server provisioned like the local stack (tables, functions, both workflows)."""
    from tests.support.moto_server import provisioned_moto_server

    with provisioned_moto_server(("stepfunctions", "lambda")) as server:
        yield server


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
