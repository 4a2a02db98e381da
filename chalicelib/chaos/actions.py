"""What an experiment does besides writing fault records: infrastructure actions and their undo.

Each ``apply`` answers what rollback needs (the value it replaced); ``undo`` puts it back.
Lambda throttling lowers a function's reserved concurrency (no reserved concurrency before
is restored as "none"). Lambda refuses reserved concurrency below the provisioned concurrency
the function's aliases and versions keep (the API alias keeps some, scaled by Application Auto
Scaling), so ``problem`` says so before anything is injected and ``apply`` checks again. ECS
scale-in lowers the service's desired count (rollback puts back the saved count, or keeps a higher
one its auto scaling set meanwhile); ECS task termination stops a share of the running
tasks (the service replaces them: nothing to undo).

The functions the experiment workflow itself runs (validation, injection, watch, rollback...) and
the sweeper (which rolls back what an experiment left past its deadline) are never throttled: an
experiment throttling its own rollback could not undo anything.
"""
from __future__ import annotations

import json
import math
from typing import Any, Callable, Iterable, Mapping, Optional

from chalicelib.chaos.definition import lambda_function_name


def workflow_function_names(definition: str) -> set[str]:
    """The Lambda functions (by name) a state machine's definition (ASL JSON) invokes."""
    found: set[str] = set()

    def visit(states: Mapping[str, Any]) -> None:
        for state in states.values():
            resource = str(state.get("Resource", ""))
            if ":function:" in resource:
                found.add(lambda_function_name(resource))
            elif resource.startswith("arn:aws:states:::lambda:invoke"):
                function = (state.get("Parameters") or {}).get("FunctionName")
                if isinstance(function, str):
                    found.add(lambda_function_name(function))
            for branch in state.get("Branches") or []:
                visit(branch.get("States") or {})
            for key in ("Iterator", "ItemProcessor"):
                if isinstance(state.get(key), Mapping):
                    visit(state[key].get("States") or {})

    visit(json.loads(definition).get("States") or {})
    return found


def state_machine_functions(stepfunctions: Any, state_machine_arn: str) -> set[str]:
    """``workflow_function_names`` of a deployed state machine; empty when none is configured."""
    if not state_machine_arn:
        return set()
    described = stepfunctions.describe_state_machine(stateMachineArn=state_machine_arn)
    return workflow_function_names(described["definition"])


class InfrastructureActions:
    """``workflow_functions``: the names of the functions the experiment workflow runs (never throttled);
    ``sweeper_function``: the name of the function that rolls back experiments past their deadline (neither)."""

    def __init__(self, lambda_client: Any, ecs_client: Any,
                 workflow_functions: Callable[[], Iterable[str]] = tuple, sweeper_function: str = "") -> None:
        self._lambda = lambda_client
        self._ecs = ecs_client
        self._workflow_functions = workflow_functions
        self._sweeper_function = sweeper_function

    def provisioned_concurrency(self, function: str) -> Optional[int]:
        """The provisioned concurrency all aliases and versions of ``function`` keep, or None if unreadable."""
        from botocore.exceptions import ClientError

        total = 0
        try:
            for page in self._lambda.get_paginator("list_provisioned_concurrency_configs").paginate(
                    FunctionName=function):
                total += sum(config.get("RequestedProvisionedConcurrentExecutions", 0)
                             for config in page.get("ProvisionedConcurrencyConfigs", []))
        except ClientError:
            return None  # Lambda still has the last word when the reserved concurrency is put
        return total

    def problem(self, action: Mapping[str, Any]) -> Optional[tuple[str, str]]:
        """(field, reason) when ``action`` cannot be applied as defined; None when it can (or cannot be known).

        A target this deployment does not have (no such function, ECS cluster or service) is a
        problem: run, it could only error out; a fault while it runs still errors and rolls back."""
        if action["type"] in ("ecs_scale", "ecs_stop_tasks"):
            return self._ecs_service_problem(action)
        if action["type"] != "lambda_throttle":
            return None
        name = lambda_function_name(action["function"])
        if self._sweeper_function and name == lambda_function_name(self._sweeper_function):
            return ("function", f"{name} rolls back experiments that outlive their deadline: throttled, what an "
                                "experiment left behind could stay; throttle the API function or another one")
        if name in set(self._workflow_functions()):
            return ("function", f"{name} runs a step of the chaos experiment workflow: throttled, an experiment "
                                "could not be watched or rolled back; throttle the API function or another one")
        if self._function_missing(action["function"]):
            return ("function", f"no Lambda function {action['function']!r} in this deployment")
        provisioned = self.provisioned_concurrency(action["function"])
        if provisioned is not None and action["reserved_concurrency"] < provisioned:
            return ("reserved_concurrency",
                    f"{action['function']} keeps {provisioned} provisioned concurrency on its aliases and versions, "
                    f"and Lambda refuses reserved concurrency below it: throttle to at least {provisioned}, or lower "
                    f"the provisioned concurrency (api_provisioned_concurrency_min/max) first")
        return None

    def apply(self, action: Mapping[str, Any]) -> dict[str, Any]:
        kind = action["type"]
        if kind == "lambda_throttle":
            function = action["function"]
            refused = self.problem(action)
            if refused is not None:  # provisioned concurrency scaled up since the experiment was validated
                raise ValueError(refused[1])
            previous = self._lambda.get_function_concurrency(FunctionName=function).get(
                "ReservedConcurrentExecutions")
            self._lambda.put_function_concurrency(FunctionName=function,
                                                  ReservedConcurrentExecutions=action["reserved_concurrency"])
            return {"type": kind, "function": function, "previous_reserved_concurrency": previous}
        if kind == "ecs_scale":
            service = self._describe_service(action)
            self._ecs.update_service(cluster=action["cluster"], service=action["service"],
                                     desiredCount=action["desired_count"])
            return {"type": kind, "cluster": action["cluster"], "service": action["service"],
                    "previous_desired_count": service["desiredCount"]}
        if kind == "ecs_stop_tasks":
            tasks = self._ecs.list_tasks(cluster=action["cluster"], serviceName=action["service"],
                                         desiredStatus="RUNNING").get("taskArns", [])
            chosen = sorted(tasks)[:math.ceil(len(tasks) * action["percent"] / 100)]
            for task in chosen:
                self._ecs.stop_task(cluster=action["cluster"], task=task, reason="chaos experiment")
            return {"type": kind, "cluster": action["cluster"], "service": action["service"],
                    "running_before": len(tasks), "stopped_tasks": chosen}
        raise ValueError(f"not an infrastructure action: {kind}")

    def undo(self, saved: Mapping[str, Any]) -> dict[str, Any]:
        kind = saved["type"]
        if kind == "lambda_throttle":
            previous = saved["previous_reserved_concurrency"]
            if previous is None:
                self._lambda.delete_function_concurrency(FunctionName=saved["function"])
            else:
                self._lambda.put_function_concurrency(FunctionName=saved["function"],
                                                      ReservedConcurrentExecutions=previous)
            return {"type": kind, "function": saved["function"], "restored_reserved_concurrency": previous}
        if kind == "ecs_scale":
            # The service's auto scaling may have scaled out during the run (the designed response):
            # rollback never takes it below what it runs now.
            current = self._describe_service(saved)["desiredCount"]
            restored = max(saved["previous_desired_count"], current)
            if restored != current:
                self._ecs.update_service(cluster=saved["cluster"], service=saved["service"], desiredCount=restored)
            return {"type": kind, "service": saved["service"], "restored_desired_count": restored,
                    "desired_count_before_rollback": current}
        return {"type": kind, "restored": "nothing to restore: the service replaces stopped tasks"}

    def _function_missing(self, function: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._lambda.get_function_concurrency(FunctionName=function)
        except ClientError as error:
            # Only a definite "not found"; a denied or failed read leaves the answer to Lambda at injection.
            return error.response.get("Error", {}).get("Code") == "ResourceNotFoundException"
        return False

    def _ecs_service_problem(self, action: Mapping[str, Any]) -> Optional[tuple[str, str]]:
        from botocore.exceptions import ClientError

        cluster, service = action["cluster"], action["service"]
        try:
            found = self._ecs.describe_services(cluster=cluster, services=[service])
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ClusterNotFoundException":
                # The local stack runs no ECS cluster, its ECS variant included.
                return ("cluster", f"no ECS cluster {cluster!r} in this deployment (ECS experiments act on the "
                                   f"cluster of a deployed ECS variant; the local stack runs none)")
            return None  # a denied or failed read leaves the answer to ECS at injection
        # A deleted service stays listed for a while as INACTIVE.
        if not any(service in (item.get("serviceName"), item.get("serviceArn")) and item.get("status") != "INACTIVE"
                   for item in found.get("services", [])):
            return ("service", f"no ECS service {service!r} in cluster {cluster!r}")
        return None

    def _describe_service(self, action: Mapping[str, Any]) -> Mapping[str, Any]:
        services = self._ecs.describe_services(cluster=action["cluster"], services=[action["service"]])["services"]
        if not services:
            raise LookupError(f"ECS service {action['service']} not found in cluster {action['cluster']}")
        return services[0]
