import boto3
from moto.dynamodb.responses import DynamoHandler

from devstack.embedded_aws import core
from tests.unit.devstack.embedded_aws.tables import table


def test_json_answers_get_a_request_id_and_xml_answers_their_request_id_rewritten(aws_mock, restore_dynamo_handler):
    from moto.core.responses import BaseResponse

    core.skip_request_id_rewrite_without_xml()
    json_headers, json_body = BaseResponse._enrich_response({"status": 200}, '{"Items": []}')
    xml_headers, xml_body = BaseResponse._enrich_response({}, "<R><RequestId>old</RequestId></R>")
    assert json_body == '{"Items": []}' and json_headers["status"] == "200"
    assert len(json_headers["x-amzn-requestid"]) == 52
    assert xml_body == f"<R><RequestId>{xml_headers['x-amzn-requestid']}</RequestId></R>"


def test_an_action_no_handler_implements_is_still_refused_with_method_names_cached(aws_mock, restore_dynamo_handler):
    from moto.core import responses

    core.cache_handler_method_names()
    assert "query" in responses.method_names_from_class(DynamoHandler)
    assert "no_such_action" not in responses.method_names_from_class(DynamoHandler)
    assert responses.method_names_from_class(DynamoHandler) is responses.method_names_from_class(DynamoHandler)


def dispatcher():
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return core.CachingDispatcher.create(DomainDispatcherApplication, create_backend_app)


def test_service_apps_run_without_flask_debug_mode():
    assert dispatcher().create_app("dynamodb").debug is False


def test_the_backend_of_a_host_is_looked_up_once(monkeypatch):
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    lookups = []
    monkeypatch.setattr(DomainDispatcherApplication, "get_backend_for_host",
                        lambda self, host: lookups.append(host) or "dynamodb")
    served = dispatcher()
    assert [served.get_backend_for_host("dynamodb.us-east-1.amazonaws.com") for _ in range(3)] == ["dynamodb"] * 3
    assert lookups == ["dynamodb.us-east-1.amazonaws.com"]


def test_item_versions_are_not_kept_after_their_updates(aws_mock, restore_model_tracking):
    from moto.dynamodb.models.dynamo_type import Item

    core.stop_keeping_every_model_object()
    client = boto3.client("dynamodb", region_name="us-east-1")
    table(client)
    kept = len(Item.instances_tracked)
    for value in range(20):
        client.update_item(TableName="t", Key={"pk": {"S": "a"}}, UpdateExpression="SET v = :v",
                           ExpressionAttributeValues={":v": {"N": str(value)}})
    assert len(Item.instances_tracked) == kept
    assert client.get_item(TableName="t", Key={"pk": {"S": "a"}})["Item"]["v"] == {"N": "19"}


def test_moto_does_not_log_a_workflow_state_that_fails_an_execution_as_an_error():
    import logging

    from moto.stepfunctions.parser.asl.component import eval_component

    from devstack.embedded_aws.core import WORKFLOW_INTERPRETER_LOGGER, keep_workflow_failures_off_the_console

    interpreter = logging.getLogger(WORKFLOW_INTERPRETER_LOGGER)
    level = interpreter.level
    try:
        keep_workflow_failures_off_the_console()
        assert not eval_component.LOG.isEnabledFor(logging.ERROR)  # the logger of its Fail-state records
    finally:
        interpreter.setLevel(level)
