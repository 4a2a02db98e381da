import time

import boto3
import pytest

from chalicelib.chaos.model import FaultRecord


@pytest.fixture
def tables(aws_mock):
    from devstack.provision import provision_tables

    return provision_tables(boto3.client("dynamodb", region_name="us-east-1"))


def fault(kind="route_error", target="*", magnitude=503, experiment_id="exp-0001", blast=100.0,
          expires_in=300.0, number=0, operations=()):
    return FaultRecord(fault_id=f"{experiment_id}#{number}", experiment_id=experiment_id, kind=kind, target=target,
                       magnitude=magnitude, blast_radius_pct=blast, expires_at=time.time() + expires_in,
                       operations=tuple(operations))
