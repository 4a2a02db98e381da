import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from chalice import Chalice
from pynamodb.exceptions import GetError

from chalicelib.http.errors import ServiceUnavailable

from chalicelib.http.blueprint import ReusableBlueprint


def make_blueprint():
    blueprint = ReusableBlueprint(__name__)

    @blueprint.route("/things", methods=["POST"], content_types=["text/plain"])
    def create_thing():
        return {}

    return blueprint


def test_a_second_app_gets_the_same_methods_and_content_types():
    blueprint = make_blueprint()
    first, second = Chalice(app_name="first"), Chalice(app_name="second")
    first.register_blueprint(blueprint)
    second.register_blueprint(blueprint)
    for app in (first, second):
        assert list(app.routes["/things"]) == ["POST"]
        assert app.routes["/things"]["POST"].content_types == ["text/plain"]


def app_raising(error):
    blueprint = ReusableBlueprint(__name__)

    @blueprint.route("/things/{thing_id}")
    def get_thing(thing_id):
        raise error

    app = Chalice(app_name="raising")
    app.register_blueprint(blueprint)
    return app


def call(app, path="/things/{thing_id}"):
    return app.routes[path]["GET"].view_function(thing_id="1")


@pytest.mark.parametrize("error", [
    EndpointConnectionError(endpoint_url="http://127.0.0.1:9"),
    ReadTimeoutError(endpoint_url="http://127.0.0.1:9"),
    ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, "Query"),
    GetError("Failed to get item", cause=EndpointConnectionError(endpoint_url="http://127.0.0.1:9")),
], ids=["no-connection", "read-timeout", "throttled", "pynamodb-wrapped"])
def test_a_route_whose_aws_service_is_unavailable_answers_503_with_retry_after(error):
    with pytest.raises(ServiceUnavailable) as refused:
        call(app_raising(error))
    assert refused.value.status_code == 503 and refused.value.headers["Retry-After"]
    assert refused.value.__cause__ is error  # the request's log line names it


@pytest.mark.parametrize("error", [
    ValueError("a bug"),
    ClientError({"Error": {"Code": "ValidationException", "Message": "bad key"}}, "GetItem"),
], ids=["bug", "refused-request"])
def test_a_route_failing_otherwise_still_answers_500(error):
    with pytest.raises(type(error)):
        call(app_raising(error))


def test_a_guarded_route_keeps_its_url_parameters():
    blueprint = ReusableBlueprint(__name__)

    @blueprint.route("/things/{thing_id}")
    def get_thing(thing_id):
        return {"id": thing_id}

    app = Chalice(app_name="parameters")
    app.register_blueprint(blueprint)
    assert call(app) == {"id": "1"}
