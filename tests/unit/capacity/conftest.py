import boto3
import pytest


@pytest.fixture
def capacity_tables(aws_mock):
    from devstack.provision import provision_tables

    return provision_tables(boto3.client("dynamodb", region_name="us-east-1"))


@pytest.fixture
def cloudwatch(aws_mock):
    return boto3.client("cloudwatch", region_name="us-east-1")
