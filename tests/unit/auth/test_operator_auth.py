import boto3
import pytest

from chalicelib.auth import OperatorAuth, SecretReader, parse_operators
from chalicelib.http.errors import Forbidden, ServiceUnavailable, Unauthorized


@pytest.fixture
def secrets_client(aws_mock):
    client = boto3.client("secretsmanager", region_name="us-east-1")
    client.create_secret(Name="serverless-sre/operator-token", SecretString="s3cret-token")
    return client


@pytest.fixture
def auth(secrets_client):
    return OperatorAuth(SecretReader(secrets_client, 300), "serverless-sre/operator-token")


def test_a_plain_token_authenticates_its_holder_as_the_shared_token(auth):
    assert auth.require({"authorization": "Bearer s3cret-token"}) == "shared-token"


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
    assert OperatorAuth(SecretReader(secrets_client, 300), "serverless-sre/operator-token").require(
        {"authorization": "Bearer t2"}) == "shared-token"


def test_an_unreadable_secret_fails_closed_with_503(aws_mock):
    auth = OperatorAuth(SecretReader(boto3.client("secretsmanager", region_name="us-east-1"), 300),
                        "serverless-sre/operator-token")
    with pytest.raises(ServiceUnavailable):
        auth.require({"authorization": "Bearer anything"})


def test_the_secret_is_cached_between_calls(secrets_client):
    reader = SecretReader(secrets_client, ttl_seconds=300)
    assert reader.read("serverless-sre/operator-token") == "s3cret-token"
    secrets_client.put_secret_value(SecretId="serverless-sre/operator-token", SecretString="rotated")
    assert reader.read("serverless-sre/operator-token") == "s3cret-token"


def test_named_operators_are_told_apart_by_their_tokens(secrets_client):
    secrets_client.put_secret_value(SecretId="serverless-sre/operator-token",
                                    SecretString='{"alice": "token-a", "bob": "token-b"}')
    auth = OperatorAuth(SecretReader(secrets_client, 300), "serverless-sre/operator-token")
    assert auth.require({"authorization": "Bearer token-a"}) == "alice"
    assert auth.require({"authorization": "Bearer token-b"}) == "bob"
    with pytest.raises(Forbidden):
        auth.require({"authorization": "Bearer alice"})


def test_entries_with_an_unusable_name_or_token_are_ignored():
    assert parse_operators('{"alice": "t", "": "t2", "bad name": "t3", "bob": "", "carol": 5}') == {"alice": "t"}


def test_an_empty_secret_lets_nobody_in():
    assert parse_operators("") == {}
    assert parse_operators("{}") == {}


def test_tokens_are_compared_in_constant_time_against_every_operator(secrets_client, monkeypatch):
    import hmac

    from chalicelib import auth as auth_module

    secrets_client.put_secret_value(SecretId="serverless-sre/operator-token",
                                    SecretString='{"alice": "token-a", "bob": "token-b", "carol": "token-c"}')
    compared = []
    real = hmac.compare_digest
    monkeypatch.setattr(auth_module.hmac, "compare_digest",
                        lambda a, b: compared.append((len(a), len(b))) or real(a, b))
    assert OperatorAuth(SecretReader(secrets_client, 300), "serverless-sre/operator-token").require({"authorization": "Bearer token-a"}) == "alice"
    assert compared == [(32, 32)] * 3  # every token, as equal-length digests, even after a match
