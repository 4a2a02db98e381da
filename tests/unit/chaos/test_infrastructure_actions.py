"""Infrastructure actions and their undo: ECS task termination and scale-in against moto (through the
injection and rollback functions), Lambda throttling against the provisioned concurrency Lambda reports
(moto has no provisioned concurrency: botocore's Stubber answers for Lambda there)."""
import json
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.chaos.actions import InfrastructureActions, state_machine_functions, workflow_function_names
from chalicelib.chaos.definition import catalog_entry
from functions import chaos_inject, chaos_rollback
from tests.unit.chaos.conftest import CLUSTER, SERVICE, desired_count, ecs_experiment, running_tasks

FUNCTION = "serverless-sre-prod"
REPOSITORY = Path(__file__).resolve().parents[3]


def test_task_termination_stops_the_share_of_running_tasks_and_has_nothing_to_restore(ecs, tables, wired):
    state = ecs_experiment(wired, {"type": "ecs_stop_tasks", "cluster": CLUSTER, "service": SERVICE, "percent": 50})
    [saved] = chaos_inject.handler(state, None)["injected"]["saved"]
    assert saved["running_before"] == 4 and len(saved["stopped_tasks"]) == 2
    assert set(running_tasks(ecs)).isdisjoint(saved["stopped_tasks"]) and len(running_tasks(ecs)) == 2
    [restored] = chaos_rollback.handler(state, None)["rolled_back"]["restored"]
    assert "nothing to restore" in restored["restored"]


def test_a_share_of_one_task_still_stops_one(ecs):
    actions = InfrastructureActions(lambda_client=None, ecs_client=ecs)
    saved = actions.apply({"type": "ecs_stop_tasks", "cluster": CLUSTER, "service": SERVICE, "percent": 1})
    assert len(saved["stopped_tasks"]) == 1


def test_scale_in_saves_the_desired_count_and_rollback_restores_it(ecs, tables, wired):
    state = ecs_experiment(wired, {"type": "ecs_scale", "cluster": CLUSTER, "service": SERVICE, "desired_count": 1})
    [saved] = chaos_inject.handler(state, None)["injected"]["saved"]
    assert saved["previous_desired_count"] == 4 and desired_count(ecs) == 1
    [restored] = chaos_rollback.handler(state, None)["rolled_back"]["restored"]
    assert restored["restored_desired_count"] == 4 and desired_count(ecs) == 4


def test_rollback_keeps_a_desired_count_auto_scaling_raised_during_the_run(ecs):
    actions = InfrastructureActions(lambda_client=None, ecs_client=ecs)
    saved = actions.apply({"type": "ecs_scale", "cluster": CLUSTER, "service": SERVICE, "desired_count": 1})
    ecs.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=6)  # target tracking scaled out
    restored = actions.undo(saved)
    assert (restored["restored_desired_count"], restored["desired_count_before_rollback"]) == (6, 6)
    assert ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]["desiredCount"] == 6


def test_scaling_a_service_that_does_not_exist_changes_nothing(ecs):
    actions = InfrastructureActions(lambda_client=None, ecs_client=ecs)
    with pytest.raises(LookupError):
        actions.apply({"type": "ecs_scale", "cluster": CLUSTER, "service": "no-such-service", "desired_count": 0})


def lambda_with_provisioned(total):
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    stubber = Stubber(client)
    stubber.add_response("get_function_concurrency", {}, {"FunctionName": FUNCTION})  # the function exists
    configs = [{"FunctionArn": f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION}:live",
                "RequestedProvisionedConcurrentExecutions": total, "AllocatedProvisionedConcurrentExecutions": total,
                "AvailableProvisionedConcurrentExecutions": total, "Status": "READY"}] if total else []
    stubber.add_response("list_provisioned_concurrency_configs", {"ProvisionedConcurrencyConfigs": configs},
                         {"FunctionName": FUNCTION})
    stubber.activate()
    return client, stubber


def throttle(reserved):
    return {"name": "throttle", "type": "lambda_throttle", "function": FUNCTION, "reserved_concurrency": reserved}


def test_throttling_below_the_provisioned_concurrency_is_a_problem_naming_it():
    client, _ = lambda_with_provisioned(3)
    field, reason = InfrastructureActions(client, None).problem(throttle(1))
    assert field == "reserved_concurrency" and "keeps 3 provisioned concurrency" in reason


def test_throttling_down_to_the_provisioned_concurrency_is_allowed():
    client, _ = lambda_with_provisioned(3)
    assert InfrastructureActions(client, None).problem(throttle(3)) is None


def test_an_ecs_action_on_a_cluster_this_deployment_does_not_have_is_a_problem_naming_it(aws_mock):
    actions = InfrastructureActions(None, boto3.client("ecs", region_name="us-east-1"))
    field, reason = actions.problem({"type": "ecs_stop_tasks", "cluster": CLUSTER, "service": SERVICE, "percent": 50})
    assert (field, reason.startswith(f"no ECS cluster '{CLUSTER}' in this deployment")) == ("cluster", True)


def test_an_ecs_action_on_a_service_the_cluster_does_not_run_is_a_problem_naming_it(ecs):
    field, reason = InfrastructureActions(None, ecs).problem(
        {"type": "ecs_scale", "cluster": CLUSTER, "service": "no-such-service", "desired_count": 1})
    assert (field, reason) == ("service", f"no ECS service 'no-such-service' in cluster '{CLUSTER}'")


def test_an_ecs_action_on_the_running_service_is_no_problem(ecs):
    assert InfrastructureActions(None, ecs).problem(
        {"type": "ecs_stop_tasks", "cluster": CLUSTER, "service": SERVICE, "percent": 50}) is None


def test_a_throttle_of_a_function_this_deployment_does_not_have_is_a_problem_naming_it(aws_mock):
    field, reason = InfrastructureActions(boto3.client("lambda", region_name="us-east-1"), None).problem(
        throttle(1))
    assert (field, reason) == ("function", f"no Lambda function '{FUNCTION}' in this deployment")


def test_apply_refuses_when_provisioned_concurrency_grew_since_validation():
    client, stubber = lambda_with_provisioned(5)
    with pytest.raises(ValueError, match="keeps 5 provisioned"):
        InfrastructureActions(client, None).apply(throttle(2))
    stubber.assert_no_pending_responses()  # nothing was put


def test_an_experiment_throttling_below_provisioned_concurrency_is_a_400_before_anything_runs(tables, wired):
    from chalicelib.chaos import definition as definitions

    client, _ = lambda_with_provisioned(2)
    steps = wired.new_chaos_steps()
    steps._actions = InfrastructureActions(client, None)
    with pytest.raises(definitions.DefinitionError) as refused:
        steps.new_record("lambda-throttling", definitions.catalog_entry("lambda-throttling"), "alice")
    assert refused.value.field == "method/0/reserved_concurrency"


def rendered_chaos_workflow():
    """The chaos workflow's ASL with its function placeholders filled in as a deployment fills them."""
    placeholders = json.loads((REPOSITORY / "infra" / "statemachines.json").read_text())["chaos-experiment"]
    text = (REPOSITORY / placeholders["definition"]).read_text()
    for name, entry in placeholders["placeholders"].items():
        text = text.replace("${" + name + "}", f"arn:aws:lambda:us-east-1:123456789012:function:prod-{entry.split(':')[1]}")
    return text


def test_the_workflow_functions_are_read_from_the_chaos_workflows_definition():
    assert workflow_function_names(rendered_chaos_workflow()) == {
        "prod-chaos-validate", "prod-chaos-budget-gate", "prod-chaos-steady-state", "prod-chaos-inject",
        "prod-chaos-watch", "prod-chaos-rollback", "prod-chaos-verify-recovery", "prod-chaos-journal"}


@pytest.mark.parametrize("spelling", ["prod-chaos-rollback",
                                      "arn:aws:lambda:us-east-1:123456789012:function:prod-chaos-rollback:live"])
def test_throttling_a_function_of_the_experiment_workflow_is_a_problem_naming_it(spelling):
    actions = InfrastructureActions(None, None, workflow_functions=lambda: {"prod-chaos-rollback"})
    field, reason = actions.problem({**throttle(0), "function": spelling})
    assert field == "function" and reason.startswith("prod-chaos-rollback runs a step of the chaos experiment workflow")


@pytest.mark.parametrize("spelling", ["prod-chaos-sweeper",
                                      "arn:aws:lambda:us-east-1:123456789012:function:prod-chaos-sweeper:live"])
def test_throttling_the_chaos_sweeper_is_a_problem_naming_it(spelling):
    actions = InfrastructureActions(None, None, sweeper_function="prod-chaos-sweeper")
    field, reason = actions.problem({**throttle(0), "function": spelling})
    assert field == "function" and reason.startswith("prod-chaos-sweeper rolls back experiments")


def test_an_experiment_throttling_the_sweeper_is_a_400_before_anything_runs(chaos):
    from chalicelib.chaos.definition import DefinitionError

    definition = {**catalog_entry("lambda-throttling"),
                  "method": [{**throttle(0), "function": chaos.wired.settings.chaos.sweeper_function_name}]}
    with pytest.raises(DefinitionError, match="rolls back experiments that outlive their deadline"):
        chaos.service.start({"definition": definition}, "alice")
    assert chaos.journal.listing(10) == []


def test_an_experiment_throttling_its_own_rollback_is_a_400_before_anything_runs(chaos):
    from chalicelib.chaos.definition import DefinitionError

    functions = state_machine_functions(chaos.stack.clients["stepfunctions"], chaos.wired.settings.chaos.state_machine_arn)
    rollback = next(name for name in functions if name.endswith("chaos-rollback"))
    definition = {**catalog_entry("lambda-throttling"), "method": [{**throttle(0), "function": rollback}]}
    with pytest.raises(DefinitionError, match="runs a step of the chaos experiment workflow"):
        chaos.service.start({"definition": definition}, "alice")
    assert chaos.journal.listing(10) == []
