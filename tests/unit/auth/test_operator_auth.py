import boto3
import pytest

from chalicelib.auth import OperatorAuth, SecretReader
from chalicelib.http.errors import Forbidden, ServiceUnavailable, Unauthorized


@pytest.fixture
def secrets_client(aws_mock):
    client = boto3.client("secretsmanager", region_name="us-east-1")
    client.create_secret(Name="serverless-sre/operator-token", SecretString="s3cret-token")
    return client


@pytest.fixture
def auth(secrets_client):
    return OperatorAuth(SecretReader(secrets_client))


def test_the_right_bearer_token_passes(auth):
    auth.require({"authorization": "Bearer s3cret-token"})


def test_no_token_is_401(auth):
    with pytest.raises(Unauthorized):
        auth.require({})


def test_a_non_bearer_scheme_is_401(auth):
    with pytest.raises(Unauthorized):
        auth.require({"authorization": "Basic czNjcmV0LXRva2Vu"})


def test_a_wrong_token_is_403(auth):
    with pytest.raises(Forbidden):
        auth.require({"authorization": "Bearer guess"})


def test_a_json_secret_with_a_token_field_is_understood(secrets_client):
    secrets_client.put_secret_value(SecretId="serverless-sre/operator-token", SecretString='{"token": "t2"}')
    OperatorAuth(SecretReader(secrets_client)).require({"authorization": "Bearer t2"})


def test_an_unreadable_secret_fails_closed_with_503(aws_mock):
    auth = OperatorAuth(SecretReader(boto3.client("secretsmanager", region_name="us-east-1")))
    with pytest.raises(ServiceUnavailable):
        auth.require({"authorization": "Bearer anything"})


def test_the_secret_is_cached_between_calls(secrets_client):
    reader = SecretReader(secrets_client, ttl_seconds=300)
    assert reader.read("serverless-sre/operator-token") == "s3cret-token"
    secrets_client.put_secret_value(SecretId="serverless-sre/operator-token", SecretString="rotated")
    assert reader.read("serverless-sre/operator-token") == "s3cret-token"
