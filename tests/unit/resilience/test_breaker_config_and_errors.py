import pytest
from botocore.exceptions import ClientError

from chalicelib.resilience.config import BreakerConfigError, load_breaker_configs
from chalicelib.dynamodb import is_client_caused_error as is_client_caused_dynamodb_error


def client_error(code, reasons=None):
    response = {"Error": {"Code": code, "Message": "x"}}
    if reasons is not None:
        response["CancellationReasons"] = [{"Code": reason} for reason in reasons]
    return ClientError(response, "TransactWriteItems")


def test_defaults_define_database_and_webhook_breakers():
    configs = load_breaker_configs("")
    assert {"database", "webhook"} <= set(configs)


def test_overrides_change_only_what_they_name():
    configs = load_breaker_configs('{"database": {"fail_max": 9}}')
    assert (configs["database"].fail_max, configs["database"].success_threshold) == (9, 2)


def test_overrides_can_add_a_breaker():
    assert load_breaker_configs('{"payments": {"fail_max": 2}}')["payments"].fail_max == 2


@pytest.mark.parametrize("bad", ['{"database": {"fail_max": 0}}', '{"database": {"colour": 1}}', '[1]', '{'])
def test_invalid_overrides_are_refused_with_a_reason(bad):
    with pytest.raises(BreakerConfigError):
        load_breaker_configs(bad)


def test_unresolvable_exclusion_is_a_config_error():
    config = load_breaker_configs('{"database": {"exclude": ["no.such.Error"]}}')["database"]
    with pytest.raises(BreakerConfigError):
        config.exclusions()


def test_the_wiring_excludes_the_users_domain_errors_from_the_database_breaker(wired):
    from chalicelib.users.repository import EmailTaken, InvalidCursor, UserChangedConcurrently, UserMissing

    exclusions = wired.breaker_configs["database"].exclusions()
    assert {EmailTaken, UserMissing, InvalidCursor, UserChangedConcurrently} <= set(exclusions)


def test_no_default_exclusion_names_a_module_by_import_string():
    from chalicelib.resilience.config import DEFAULT_BREAKERS

    assert all("." not in entry for config in DEFAULT_BREAKERS.values() for entry in config["exclude"])


@pytest.mark.parametrize("code", ["ConditionalCheckFailedException", "ValidationException"])
def test_condition_and_validation_errors_are_client_caused(code):
    assert is_client_caused_dynamodb_error(client_error(code))


def test_transaction_cancelled_by_conditions_is_client_caused():
    assert is_client_caused_dynamodb_error(
        client_error("TransactionCanceledException", ["None", "ConditionalCheckFailed"]))


def test_transaction_cancelled_by_throttling_is_not_client_caused():
    assert not is_client_caused_dynamodb_error(
        client_error("TransactionCanceledException", ["ConditionalCheckFailed", "ThrottlingError"]))


@pytest.mark.parametrize("code", ["InternalServerError", "ProvisionedThroughputExceededException"])
def test_server_errors_are_not_client_caused(code):
    assert not is_client_caused_dynamodb_error(client_error(code))


def test_wrapped_client_error_is_client_caused_through_its_cause():
    try:
        try:
            raise client_error("ConditionalCheckFailedException")
        except ClientError as exc:
            raise RuntimeError("store said no") from exc
    except RuntimeError as wrapped:
        assert is_client_caused_dynamodb_error(wrapped)


def test_pynamodb_error_with_condition_failure_is_client_caused():
    from pynamodb.exceptions import PutError

    assert is_client_caused_dynamodb_error(PutError("x", client_error("ConditionalCheckFailedException")))
