"""ECS services in moto (mock_aws), as the ECS stack deploys them."""
from __future__ import annotations

import boto3


def create_scaled_service(cluster: str, service: str, *, desired: int, minimum: int, maximum: int) -> None:
    """``service`` in ``cluster`` at ``desired`` tasks, its desired count scaled between ``minimum`` and ``maximum``."""
    ecs = boto3.client("ecs", region_name="us-east-1")
    ecs.create_cluster(clusterName=cluster)
    ecs.register_task_definition(family="api", containerDefinitions=[{"name": "app", "image": "api:1", "memory": 512}])
    ecs.create_service(cluster=cluster, serviceName=service, taskDefinition="api", desiredCount=desired)
    boto3.client("application-autoscaling", region_name="us-east-1").register_scalable_target(
        ServiceNamespace="ecs", ResourceId=f"service/{cluster}/{service}",
        ScalableDimension="ecs:service:DesiredCount", MinCapacity=minimum, MaxCapacity=maximum)
